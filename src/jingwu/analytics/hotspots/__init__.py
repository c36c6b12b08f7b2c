"""Hotspots with measured accuracy: where next month's incidents concentrate, and how far to trust it.

Pure: arrays in, arrays, dataclasses and GeoJSON-ready dicts out; no files, clock or randomness
of its own. The steps: a local metric projection (``projection``), a grid of square cells over
the training points' hull (``grid``), methods that score the cells (``methods``, and Gi* for the
hot spots of now in ``gistar``), the top cells for a share of the area (``select``), hit rate,
PAI and PEI* on the month forecast (``scoring``), back-tests and the method's choice
(``backtest``), and the forecast as a map (``forecast``)."""

from jingwu.analytics.hotspots.backtest import Backtest, MethodChoice, backtest, choose_method
from jingwu.analytics.hotspots.forecast import Forecast, cells_geojson, forecast, forecast_geojson
from jingwu.analytics.hotspots.gistar import gistar, gistar_points, significant_cells
from jingwu.analytics.hotspots.grid import DEFAULT_CELL_M, Grid, build_grid
from jingwu.analytics.hotspots.methods import (
    DEFAULT_METHOD,
    METHODS,
    Method,
    counts,
    kde,
    near_repeat,
    random_ranking,
    recency_kde,
)
from jingwu.analytics.hotspots.points import HotspotError, Points, month_end, month_start
from jingwu.analytics.hotspots.projection import Projection
from jingwu.analytics.hotspots.scoring import DEFAULT_SHARES, Score, score
from jingwu.analytics.hotspots.select import n_chosen, rank_cells, top_cells

__all__ = [
    "DEFAULT_CELL_M",
    "DEFAULT_METHOD",
    "DEFAULT_SHARES",
    "METHODS",
    "Backtest",
    "Forecast",
    "Grid",
    "HotspotError",
    "Method",
    "MethodChoice",
    "Points",
    "Projection",
    "Score",
    "backtest",
    "build_grid",
    "cells_geojson",
    "choose_method",
    "counts",
    "forecast",
    "forecast_geojson",
    "gistar",
    "gistar_points",
    "kde",
    "month_end",
    "month_start",
    "n_chosen",
    "near_repeat",
    "random_ranking",
    "rank_cells",
    "recency_kde",
    "score",
    "significant_cells",
    "top_cells",
]
