"""Hotspot forecasts and their scores from analytic records: the glue between the records (an
Arrow table, some without coordinates) and the pure hotspot code, and the GeoJSON file written."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jingwu.analytics.hotspots import DEFAULT_SHARES, METHODS, HotspotError, Points, backtest, forecast
from jingwu.analytics.hotspots.points import month_label, month_start, shift_month
from jingwu.analytics.periods import parse_period
from jingwu.errors import ValidationFailed


def points_of(table: pa.Table) -> Points:
    """The records that have coordinates, as hotspot points (the others count in tables only)."""
    located = table.filter(pc.is_valid(table.column("lat")))
    return Points(
        lon=located.column("lon").to_numpy(zero_copy_only=False),
        lat=located.column("lat").to_numpy(zero_copy_only=False),
        t=located.column("occurred_at").to_numpy(zero_copy_only=False).astype("datetime64[s]"),
    )


def _check_month(text: str, points: Points) -> str:
    """A month the data can forecast: after its first month, at most the month after its last."""
    period = parse_period(text)
    if period.kind != "month":
        raise ValidationFailed(f"--for takes a month (YYYY-MM), not {text!r}", code="bad_period", period=text)
    if len(points) == 0:
        raise HotspotError("no record has coordinates: there is nothing to map", code="hotspots_no_points")
    first, last = month_label(points.t.min()), month_label(points.t.max())
    if not shift_month(first, 1) <= text <= shift_month(last, 1):
        raise ValidationFailed(
            f"month {text} is outside the data: records with coordinates run from {first} to {last}, "
            f"so the months that can be forecast are the ones after {first} up to the month after {last}",
            code="period_outside_data",
            period=text,
        )
    return text


def forecast_file(
    table: pa.Table, *, month: str, area_share: float, method: str, cell_m: float, out: Path
) -> dict[str, Any]:
    """Forecast ``month`` from the records before it, write the hotspots as GeoJSON to ``out``, and
    summarise: the method and how it was chosen, and its measured score if ``month`` is in the data."""
    _check_output(out)  # before the work, not after it
    summary = forecast_summary(table, month=month, area_share=area_share, method=method, cell_m=cell_m)
    _write_atomically(out, summary.pop("geojson"))
    summary["out"] = str(out)
    return summary


def forecast_summary(
    table: pa.Table, *, month: str, area_share: float, method: str = "auto", cell_m: float = 150.0
) -> dict[str, Any]:
    """The forecast of ``month`` as a summary with its ``geojson`` (the hotspot cells)."""
    points = points_of(table)
    _check_month(month, points)
    result = forecast(
        points, month, area_share=area_share, method=None if method == "auto" else method, cell_m=cell_m
    )
    summary: dict[str, Any] = {
        "for": result.for_month,
        "method": result.method,
        "area_share": result.area_share,
        "study_area_m2": result.grid.study_area_m2,
        "cell_m": result.grid.cell_m,
        "cells": int(result.chosen.size),
        "trained_on": result.n_train,
        "geojson": result.geojson(),
    }
    if result.choice is not None:
        summary["chosen_by"] = {
            "back_tested_months": list(result.choice.folds),
            "mean_pai": result.choice.mean_pai,
            "fallback": result.choice.fallback,
        }
    in_month = points.between(month_start(month), month_start(shift_month(month, 1)))
    if len(in_month):
        summary["score"] = {str(s): _score_json(v) for s, v in result.score_month(points).items()}
    return summary


def score_months(
    table: pa.Table, months: Sequence[str], *, shares: Sequence[float] = DEFAULT_SHARES, cell_m: float
) -> dict[str, Any]:
    """Every method back-tested on each month (trained on all records before it), and the mean."""
    points = points_of(table)
    for month in months:
        _check_month(month, points)
    runs = [backtest(points, month, shares=shares, cell_m=cell_m) for month in months]
    mean: dict[str, dict[str, dict[str, float]]] = {}
    for name in METHODS:
        mean[name] = {}
        for share in shares:
            scores = [run.scores[name][share] for run in runs]
            mean[name][str(share)] = {
                "hit_rate": float(np.mean([s.hit_rate for s in scores])),
                "pai": float(np.mean([s.pai for s in scores])),
                "pei_star": float(np.nanmean([s.pei_star for s in scores])),
            }
    return {
        "months": [
            {
                "month": run.month,
                "trained_on": run.n_train,
                "tested_on": run.n_test,
                "study_area_m2": run.study_area_m2,
                "scores": {
                    m: {str(s): _score_json(v) for s, v in by.items()} for m, by in run.scores.items()
                },
            }
            for run in runs
        ],
        "mean": mean,
        "cell_m": cell_m,
    }


def _score_json(score: Any) -> dict[str, Any]:
    return {
        "hit_rate": score.hit_rate,
        "pai": score.pai,
        "pei_star": None if np.isnan(score.pei_star) else score.pei_star,
        "hits": score.hits,
        "incidents": score.n_test,
        "cells": score.n_chosen,
    }


def _check_output(path: Path) -> Path:
    path = path.resolve()
    if path.is_dir():
        raise ValidationFailed(
            f"cannot write {path}: it is a folder; name a .geojson file", code="bad_output"
        )
    if not path.parent.is_dir():
        raise ValidationFailed(f"cannot write {path}: no folder {path.parent}", code="bad_output")
    return path


def _write_atomically(path: Path, document: dict[str, Any]) -> None:
    """The whole file or none: a map layer half written would show half the hotspots."""
    path = _check_output(path)
    folder = path.parent
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(document, f, ensure_ascii=False)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as a plain open() would: a GIS must read it
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


__all__ = ["forecast_file", "forecast_summary", "points_of", "score_months"]
