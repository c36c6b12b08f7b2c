"""The methods: kernel densities as they are defined, and forecasts that beat chance on clusters."""

from __future__ import annotations

import numpy as np
import pytest

from jingwu.analytics.hotspots import (
    HotspotError,
    Method,
    Points,
    build_grid,
    kde,
    month_end,
    month_start,
    random_ranking,
    recency_kde,
    score,
)
from tests.analytics.hotspots.synthetic import make_city, to_lonlat

START = np.datetime64("2019-06-01T00:00:00", "s")


def _points(x: list[float], y: list[float], days_before: list[float]) -> Points:
    lon, lat = to_lonlat(np.asarray(x), np.asarray(y))
    ages = (np.asarray(days_before) * 86_400).astype("timedelta64[s]")
    return Points(lon, lat, START - ages)


def test_kde_is_the_sum_of_each_points_gaussian_at_the_cell_centres() -> None:
    train = _points([0.0, 400.0, 420.0, -900.0, 1300.0], [0.0, 100.0, -300.0, 700.0, 1200.0], [1] * 5)
    grid = build_grid(train, 150.0)
    bandwidth = 300.0
    got = kde(train, grid, START, bandwidth_m=bandwidth)
    # Direct: each point snapped to its cell's centre, a Gaussian of the distance to each cell centre,
    # cut where scipy cuts it (4 σ, a square) and normalised as scipy's sampled kernel is.
    sigma = bandwidth / grid.cell_m
    reach = int(4 * sigma + 0.5)
    steps = np.arange(-reach, reach + 1)
    norm = np.exp(-(steps**2) / (2 * sigma**2)).sum() ** 2
    x, y = grid.projection.forward(train.lon, train.lat)
    pc, pr = np.floor(x / grid.cell_m), np.floor(y / grid.cell_m)
    cc, cr = grid.col0 + grid.cols, grid.row0 + grid.rows
    dc, dr = cc[:, None] - pc[None, :], cr[:, None] - pr[None, :]
    near = (np.abs(dc) <= reach) & (np.abs(dr) <= reach)
    expected = (np.exp(-(dc**2 + dr**2) / (2 * sigma**2)) * near).sum(axis=1) / norm
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_recency_weights_a_point_by_exp_of_minus_its_age_over_tau() -> None:
    train = _points([0.0, 3000.0], [0.0, 0.0], [10.0, 70.0])  # far apart: kernels do not overlap
    grid = build_grid(train, 150.0)
    cells = grid.locate(train)
    scores = recency_kde(train, grid, START, tau_days=60.0)
    assert scores[cells[0]] / scores[cells[1]] == pytest.approx(np.exp(60.0 / 60.0), rel=1e-9)
    flat = kde(train, grid, START)
    assert flat[cells[0]] == pytest.approx(flat[cells[1]], rel=1e-9)


def test_recency_ranks_an_emerging_cluster_above_a_fading_one_where_plain_kde_does_not() -> None:
    city = make_city()
    start = month_start(city.test_month)
    train = city.points.before(start)
    grid = build_grid(train)
    emerging = grid.locate(Points(*city.centres_lonlat(city.emerging), np.array([start])))[0]
    fading = grid.locate(Points(*city.centres_lonlat(city.fading), np.array([start])))[0]
    plain, recent = kde(train, grid, start), recency_kde(train, grid, start)
    assert plain[fading] > plain[emerging]
    assert recent[emerging] > 3 * recent[fading]


def test_recency_refuses_training_points_from_the_period_it_forecasts() -> None:
    train = _points([0.0, 100.0], [0.0, 0.0], [5.0, -1.0])
    with pytest.raises(HotspotError, match="precede"):
        recency_kde(train, build_grid(train), START)


@pytest.mark.parametrize("method", [kde, recency_kde])
def test_kernel_forecasts_on_clustered_data_beat_chance_many_times_over(method: Method) -> None:
    city = make_city()
    start = month_start(city.test_month)
    train, test = city.points.before(start), city.points.between(start, month_end(start))
    grid = build_grid(train)
    forecast = score(method(train, grid, start), grid, test, (0.05,))[0.05]
    rankings = [random_ranking(grid, np.random.default_rng(seed)) for seed in range(20)]
    chance = np.mean([score(r, grid, test, (0.05,))[0.05].pai for r in rankings])
    assert 0.5 < chance < 2.0
    assert forecast.pai > 8.0
    assert forecast.pai > 5 * chance


def test_a_bandwidth_or_time_scale_that_is_not_positive_is_refused() -> None:
    train = _points([0.0], [0.0], [1.0])
    grid = build_grid(train)
    with pytest.raises(HotspotError, match="bandwidth"):
        kde(train, grid, START, bandwidth_m=0.0)
    with pytest.raises(HotspotError, match="time scale"):
        recency_kde(train, grid, START, tau_days=-1.0)
