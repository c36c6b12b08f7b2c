"""The grid and the study area: whole cells over the training points' hull, counted exactly."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from jingwu.analytics.hotspots import HotspotError, Points, build_grid
from tests.analytics.hotspots.synthetic import make_city, to_lonlat


def _points(x: list[float] | np.ndarray, y: list[float] | np.ndarray) -> Points:
    lon, lat = to_lonlat(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return Points(lon, lat, np.full(lon.size, np.datetime64("2019-01-01T00:00:00", "s")))


def test_the_study_area_is_its_number_of_cells_times_the_cell_area() -> None:
    points = make_city().points
    for side in (150.0, 300.0):
        grid = build_grid(points, side)
        assert grid.study_area_m2 == grid.n_cells * side * side
    assert build_grid(points, 300.0).n_cells < build_grid(points, 150.0).n_cells / 3


def test_every_training_point_lies_in_the_study_area() -> None:
    points = make_city().points
    grid = build_grid(points, 150.0)
    counts, outside = grid.count(points)
    assert outside == 0 and counts.sum() == len(points)


def test_the_study_area_is_exactly_the_cells_whose_interior_meets_the_buffered_hull() -> None:
    rng = np.random.default_rng(3)
    points = _points(rng.uniform(-1200, 900, 40), rng.uniform(-700, 1100, 40))
    side = 150.0
    grid = build_grid(points, side)
    x, y = grid.projection.forward(points.lon, points.lat)
    hull = shapely.MultiPoint(np.column_stack([x, y])).convex_hull.buffer(side / 2)
    i = np.arange(-20, 20)
    cols, rows = np.meshgrid(i, i)
    boxes = shapely.box(cols * side, rows * side, (cols + 1) * side, (rows + 1) * side)
    expected = {
        (int(c), int(r))
        for c, r, b in zip(cols.ravel(), rows.ravel(), boxes.ravel(), strict=True)
        if shapely.intersection(hull, b).area > 0
    }
    got = {(int(grid.col0 + c), int(grid.row0 + r)) for c, r in zip(grid.cols, grid.rows, strict=True)}
    assert got == expected


def test_points_outside_the_study_area_are_counted_as_outside() -> None:
    grid = build_grid(make_city().points, 150.0)
    far = _points([60_000.0, -60_000.0, 0.0], [0.0, 0.0, 80_000.0])
    counts, outside = grid.count(far)
    assert outside == 3 and counts.sum() == 0
    assert list(grid.locate(far)) == [-1, -1, -1]


def test_identical_points_still_make_a_small_study_area_around_them() -> None:
    points = _points([37.0] * 5, [41.0] * 5)
    grid = build_grid(points, 150.0)
    assert 1 <= grid.n_cells <= 4
    counts, outside = grid.count(points)
    assert outside == 0 and counts.max() == 5


def test_points_on_a_line_make_a_study_area_along_it() -> None:
    points = _points(np.linspace(0, 1500, 11), np.zeros(11))
    grid = build_grid(points, 150.0)
    assert grid.count(points)[1] == 0
    assert 11 <= grid.n_cells <= 2 * 12


def test_a_study_area_needs_training_points() -> None:
    empty = _points([], [])
    with pytest.raises(HotspotError, match="no training points") as caught:
        build_grid(empty)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("side", [0.0, -150.0, float("nan")])
def test_a_cell_side_must_be_a_positive_length(side: float) -> None:
    with pytest.raises(HotspotError, match="cell side"):
        build_grid(make_city(per_month=20, months=1).points, side)


def test_points_refuse_coordinates_out_of_range_and_arrays_of_different_lengths() -> None:
    t = np.array(["2019-01-01T00:00:00"], dtype="datetime64[s]")
    with pytest.raises(HotspotError):
        Points(np.array([200.0]), np.array([45.0]), t)
    with pytest.raises(HotspotError):
        Points(np.array([126.0, 126.1]), np.array([45.0]), t)
    with pytest.raises(HotspotError):
        Points(np.array([np.nan]), np.array([45.0]), t)


def test_one_far_off_record_does_not_stretch_the_study_area() -> None:
    rng = np.random.default_rng(3)
    lon = 126.6 + rng.normal(0, 0.02, 2000)
    lat = 45.75 + rng.normal(0, 0.015, 2000)
    t = np.full(2000, np.datetime64("2024-01-01T00:00:00"))
    city = build_grid(Points(lon, lat, t))
    stray = build_grid(Points(np.append(lon, 116.4), np.append(lat, 39.9), np.append(t, t[0])))  # Beijing
    assert stray.n_cells == pytest.approx(city.n_cells, rel=0.02)


def test_a_country_of_points_gets_bigger_cells_not_millions_of_them() -> None:
    from jingwu.analytics.hotspots.grid import MAX_CELLS

    rng = np.random.default_rng(4)
    n = 5000
    points = Points(
        rng.uniform(-5, 1.5, n), rng.uniform(50.5, 55, n), np.full(n, np.datetime64("2024-01-01"))
    )
    grid = build_grid(points, 150.0)
    assert grid.n_cells <= MAX_CELLS and grid.cell_m > 150.0
