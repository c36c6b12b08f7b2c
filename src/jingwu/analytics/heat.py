"""The heat map of a period: how many located records fall in each square cell, for the map.

Cells are the hotspot code's (``hotspots.grid``): squares of ``cell_m`` metres in a local metric
projection, cell (i, j) spanning x in [i·s, (i+1)·s), y likewise. The caller centres the
projection on the whole dataset, not on the period's records, so that a cell stays where it is
while the analyst steps from month to month and two periods compare cell by cell. Only cells
with records are returned: unlike a forecast's PAI, a heat map needs no study area.

Pure: arrays in, a JSON-ready dict out."""

from __future__ import annotations

from typing import Any

import numpy as np

from jingwu.analytics.hotspots.projection import FloatArray, Projection
from jingwu.analytics.periods import MONTHLY_KINDS, Period
from jingwu.analytics.store import Span
from jingwu.errors import ValidationFailed

DEFAULT_HEAT_CELL_M = 250.0
MIN_HEAT_CELL_M = 50.0
MAX_HEAT_CELL_M = 5000.0
#: More occupied cells than this is a map no one reads and a page that stalls drawing it: the
#: caller is asked for bigger cells instead (a city's year at 250 m stays well under it).
MAX_HEAT_CELLS = 20_000
#: The columns of each cell in the answer: a list per cell, not an object, keeps a year's map small.
CELL_COLUMNS = ("south", "west", "north", "east", "count")


def check_period(span: Span | None, period: Period) -> None:
    """Refuse a period these records cannot map, with the codes CompStat answers for the same
    period: no records, a period finer than monthly data, a period outside the data."""
    if span is None:
        raise ValidationFailed("there are no records to map", code="no_records")
    if span.monthly and (period.kind not in MONTHLY_KINDS or not period.whole_months()):
        raise ValidationFailed(
            f"period {period.label} needs dates, but some records know only their month: "
            "ask for a month (2019-07), a year or a year to date by month (ytd:2019-07)",
            code="period_finer_than_data",
            period=period.label,
        )
    if period.end <= span.first or period.start >= span.end:
        raise ValidationFailed(
            f"period {period.label} is outside the data, which covers "
            f"{span.first:%Y-%m-%d} to {span.end:%Y-%m-%d %H:%M}",
            code="period_outside_data",
            period=period.label,
        )


def heat_cells(lon: FloatArray, lat: FloatArray, projection: Projection, cell_m: float) -> dict[str, Any]:
    """The occupied cells of these points, each with its WGS-84 bounds and count, busiest first."""
    if not (np.isfinite(cell_m) and MIN_HEAT_CELL_M <= cell_m <= MAX_HEAT_CELL_M):
        raise ValidationFailed(
            f"cell side must be {MIN_HEAT_CELL_M:g} to {MAX_HEAT_CELL_M:g} m, not {cell_m!r}",
            code="bad_cell_size",
        )
    x, y = projection.forward(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    cols = np.floor(x / cell_m).astype(np.int64)
    rows = np.floor(y / cell_m).astype(np.int64)
    keys, counts = np.unique(np.column_stack([cols, rows]), axis=0, return_counts=True)
    if len(keys) > MAX_HEAT_CELLS:
        raise ValidationFailed(
            f"{len(keys)} cells of {cell_m:g} m hold records, more than a map can show "
            f"({MAX_HEAT_CELLS}): ask for bigger cells",
            code="heat_too_fine",
            cells=len(keys),
        )
    order = np.lexsort((keys[:, 1], keys[:, 0], -counts))  # busiest first; ties in a fixed order
    keys, counts = keys[order], counts[order]
    x0, y0 = keys[:, 0].astype(np.float64) * cell_m, keys[:, 1].astype(np.float64) * cell_m
    # The square's south-west and north-east corners: near the centre the projected square is a
    # WGS-84 rectangle to well under a metre, which is what a map rectangle can draw.
    west, south = projection.inverse(x0, y0)
    east, north = projection.inverse(x0 + cell_m, y0 + cell_m)
    cells = [
        [round(float(s), 6), round(float(w), 6), round(float(n), 6), round(float(e), 6), int(c)]
        for s, w, n, e, c in zip(south, west, north, east, counts, strict=True)
    ]
    return {
        "cell_m": float(cell_m),
        "columns": list(CELL_COLUMNS),
        "cells": cells,
        "located": int(counts.sum()),
        "max": int(counts.max()) if len(counts) else 0,
    }


__all__ = [
    "CELL_COLUMNS",
    "DEFAULT_HEAT_CELL_M",
    "MAX_HEAT_CELLS",
    "MAX_HEAT_CELL_M",
    "MIN_HEAT_CELL_M",
    "check_period",
    "heat_cells",
]
