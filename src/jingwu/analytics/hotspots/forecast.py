"""A forecast for one month: the method (chosen by back-test unless named), the hotspot cells,
and the cells as GeoJSON an analyst can put on a map.

Only the points before the month are used. Each cell becomes a WGS-84 polygon whose corners
pass through the inverse projection, so its area on the ground is the cell's within a fraction
of a percent; the ring is closed and counter-clockwise, in (lon, lat) order (RFC 7946)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from jingwu.analytics.hotspots.backtest import DEFAULT_VALIDATION_MONTHS, MethodChoice, choose_method
from jingwu.analytics.hotspots.grid import DEFAULT_CELL_M, Grid, IntArray, build_grid
from jingwu.analytics.hotspots.methods import METHODS, Method
from jingwu.analytics.hotspots.points import (
    FloatArray,
    HotspotError,
    Points,
    month_end,
    month_label,
    month_start,
)
from jingwu.analytics.hotspots.scoring import DEFAULT_SHARES, Score, score
from jingwu.analytics.hotspots.select import check_area_share, top_cells

COORDINATE_DIGITS = 7  # 1e-7° is about a centimetre


@dataclass(frozen=True, eq=False)
class Forecast:
    """Where ``for_month``'s incidents are forecast to concentrate."""

    for_month: str  # YYYY-MM
    method: str
    area_share: float
    grid: Grid
    scores: FloatArray  # per study cell
    chosen: IntArray  # the hotspot cells, hottest first
    choice: MethodChoice | None  # how the method was chosen; None when the caller named it
    n_train: int

    def score_month(self, points: Points, shares: Sequence[float] = DEFAULT_SHARES) -> dict[float, Score]:
        """The forecast's measured accuracy on ``points`` that fall in ``for_month`` (the others
        are ignored): for a month already past, how well this forecast would have done."""
        start = month_start(self.for_month)
        return score(self.scores, self.grid, points.between(start, month_end(start)), shares)

    def geojson(self) -> dict[str, Any]:
        """The hotspot cells as a GeoJSON FeatureCollection (see ``cells_geojson``)."""
        return cells_geojson(
            self.grid,
            self.chosen,
            self.scores[self.chosen],
            method=self.method,
            area_share=self.area_share,
            **{"for": self.for_month},
        )


def forecast(
    points: Points,
    for_month: str | np.datetime64,
    *,
    area_share: float = 0.05,
    method: str | None = None,
    methods: Mapping[str, Method] = METHODS,
    cell_m: float = DEFAULT_CELL_M,
    validation_months: int = DEFAULT_VALIDATION_MONTHS,
) -> Forecast:
    """Forecast ``for_month`` from the points before it, at ``area_share`` of the study area.

    With ``method`` None the method is chosen by back-testing the months before (``choose_method``);
    a named method must be one of ``methods``."""
    share = check_area_share(area_share)
    start = month_start(for_month)
    train = points.before(start)
    if len(train) == 0:
        raise HotspotError(
            f"no incidents with coordinates before {month_label(for_month)} to forecast from",
            code="hotspots_no_training_points",
        )
    choice: MethodChoice | None = None
    if method is None:
        choice = choose_method(
            train,
            for_month,
            area_share=share,
            validation_months=validation_months,
            methods=methods,
            cell_m=cell_m,
        )
        method = choice.method
    elif method not in methods:
        raise HotspotError(
            f"no method {method!r}; the methods are {', '.join(methods)}", code="hotspots_unknown_method"
        )
    grid = build_grid(train, cell_m)
    scores = methods[method](train, grid, start)
    chosen = top_cells(scores, share)
    return Forecast(month_label(for_month), method, share, grid, scores, chosen, choice, len(train))


def forecast_geojson(
    points: Points,
    for_month: str | np.datetime64,
    *,
    area_share: float = 0.05,
    method: str | None = None,
    methods: Mapping[str, Method] = METHODS,
    cell_m: float = DEFAULT_CELL_M,
    validation_months: int = DEFAULT_VALIDATION_MONTHS,
) -> dict[str, Any]:
    """``forecast(...).geojson()``: the hotspot cells for ``for_month`` as a FeatureCollection."""
    return forecast(
        points,
        for_month,
        area_share=area_share,
        method=method,
        methods=methods,
        cell_m=cell_m,
        validation_months=validation_months,
    ).geojson()


def cells_geojson(grid: Grid, cells: IntArray, scores: FloatArray, **properties: Any) -> dict[str, Any]:
    """Study cells as a FeatureCollection: one Polygon per cell, with properties ``rank`` (1 for
    the first cell given) and ``score``; top-level members ``study_area_m2``, ``cell_m``,
    ``n_cells``, ``n_chosen``, and the keyword ``properties`` (``method``, ``area_share``, ``for`` …)."""
    cells = np.asarray(cells, dtype=np.int64)
    values = np.asarray(scores, dtype=np.float64)
    if values.shape != cells.shape:
        raise HotspotError("one score per cell is needed")
    x0, y0, x1, y1 = grid.cell_bounds(cells)
    # Corners counter-clockwise (x east, y north; the projection keeps orientation), then closed.
    xs = np.stack([x0, x1, x1, x0, x0], axis=1)
    ys = np.stack([y0, y0, y1, y1, y0], axis=1)
    lon, lat = grid.projection.inverse(xs, ys)
    lon = np.round(lon, COORDINATE_DIGITS)
    lat = np.round(lat, COORDINATE_DIGITS)
    features = [
        {
            "type": "Feature",
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[float(a), float(b)] for a, b in zip(lon[i], lat[i], strict=True)]],
            },
            "properties": {"rank": i + 1, "score": float(values[i])},
        }
        for i in range(cells.size)
    ]
    return {
        "type": "FeatureCollection",
        **properties,
        "study_area_m2": grid.study_area_m2,
        "cell_m": grid.cell_m,
        "n_cells": grid.n_cells,
        "n_chosen": int(cells.size),
        "features": features,
    }
