"""Gi*: the standard statistic, flagging the clusters of now and not the noise around them."""

from __future__ import annotations

import numpy as np

from jingwu.analytics.hotspots import build_grid, gistar, gistar_points, month_start, significant_cells
from tests.analytics.hotspots.synthetic import make_city


def test_gistar_matches_the_textbook_formula_cell_by_cell() -> None:
    city = make_city(per_month=60, months=2, half_side_m=1_200.0)
    grid = build_grid(city.points, 150.0)
    x = grid.count(city.points)[0]
    band = 330.0
    z = gistar(x, grid, band)
    cx, cy = grid.cell_centres()
    n = grid.n_cells
    mean, spread = x.mean(), np.sqrt((x**2).mean() - x.mean() ** 2)
    for i in range(n):
        w = (np.hypot(cx - cx[i], cy - cy[i]) <= band).astype(float)
        expected = (w @ x - mean * w.sum()) / (spread * np.sqrt((n * (w**2).sum() - w.sum() ** 2) / (n - 1)))
        assert abs(z[i] - expected) < 1e-9


def test_gistar_flags_the_cluster_cells_and_not_the_noise() -> None:
    city = make_city()
    month = city.points.before(month_start(city.train_months[-1]))  # the steady and fading clusters
    grid = build_grid(month)
    hot = significant_cells(gistar_points(month, grid))
    cx, cy = grid.cell_centres()
    active = np.concatenate([city.steady, city.fading])
    centre_cells = grid.locate_xy(*grid.projection.forward(*city.centres_lonlat(active)))
    assert set(centre_cells.tolist()) <= set(hot.tolist())
    px, py = grid.projection.forward(*city.centres_lonlat(active))
    nearest = np.min(np.hypot(cx[hot, None] - px[None, :], cy[hot, None] - py[None, :]), axis=1)
    assert np.all(nearest < 600.0)


def test_significant_cells_come_hottest_first() -> None:
    z = np.array([0.5, 2.5, 1.97, 3.0, 1.96, 2.5])
    assert significant_cells(z).tolist() == [3, 1, 5, 2]


def test_equal_counts_everywhere_are_no_hotspot() -> None:
    city = make_city(per_month=40, months=1)
    grid = build_grid(city.points)
    assert np.all(gistar(np.full(grid.n_cells, 3.0), grid) == 0.0)
