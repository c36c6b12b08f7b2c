"""Scoring: hit rate, PAI and PEI* as defined, with no way for a forecast to flatter itself."""

from __future__ import annotations

import numpy as np
import pytest

from jingwu.analytics.hotspots import (
    DEFAULT_SHARES,
    METHODS,
    HotspotError,
    Points,
    build_grid,
    month_end,
    month_start,
    score,
)
from tests.analytics.hotspots.synthetic import make_city, to_lonlat


def _split() -> tuple[Points, Points, np.datetime64]:
    city = make_city()
    start = month_start(city.test_month)
    return city.points.before(start), city.points.between(start, month_end(start)), start


def test_pei_star_is_at_most_one_for_every_method_and_share() -> None:
    train, test, start = _split()
    grid = build_grid(train)
    for method in METHODS.values():
        for s in score(method(train, grid, start), grid, test).values():
            assert 0.0 <= s.pei_star <= 1.0
            assert s.hits <= s.max_hits


def test_pei_star_is_one_when_the_scores_are_the_test_periods_own_counts() -> None:
    train, test, _ = _split()
    grid = build_grid(train)
    own = grid.count(test)[0]
    result = score(own, grid, test, (0.01, 0.03, 0.05, 0.5))
    assert [s.pei_star for s in result.values()] == [1.0, 1.0, 1.0, 1.0]
    assert set(result) == {0.01, 0.03, 0.05, 0.5}


def test_pai_divides_the_hit_rate_by_the_share_of_cells_actually_chosen() -> None:
    train, test, start = _split()
    grid = build_grid(train)
    for s in score(METHODS["kde"](train, grid, start), grid, test).values():
        assert s.n_chosen == round(s.area_share * grid.n_cells)
        assert s.actual_share == s.n_chosen / grid.n_cells
        assert s.pai == pytest.approx(s.hit_rate * grid.n_cells / s.n_chosen)
        assert s.hit_rate == s.hits / len(test)


def test_test_points_outside_the_study_area_count_as_misses() -> None:
    train, test, start = _split()
    grid = build_grid(train)
    lon, lat = to_lonlat(np.array([40_000.0] * len(test)), np.array([0.0] * len(test)))
    far = Points(lon, lat, test.t)
    both = Points(np.r_[test.lon, far.lon], np.r_[test.lat, far.lat], np.r_[test.t, far.t])
    scores = METHODS["counts"](train, grid, start)
    alone, diluted = score(scores, grid, test)[0.05], score(scores, grid, both)[0.05]
    assert diluted.n_outside == len(test) and diluted.n_test == 2 * len(test)
    assert diluted.hits == alone.hits
    assert diluted.hit_rate == pytest.approx(alone.hit_rate / 2)
    assert diluted.pei_star == alone.pei_star  # the best k cells could not catch them either


def test_scoring_needs_test_points_and_one_score_per_cell() -> None:
    train, test, _ = _split()
    grid = build_grid(train)
    with pytest.raises(HotspotError, match="no test incidents"):
        score(np.zeros(grid.n_cells), grid, test.where(np.zeros(len(test), dtype=bool)))
    with pytest.raises(HotspotError, match="one per study cell"):
        score(np.zeros(grid.n_cells + 1), grid, test)
    with pytest.raises(HotspotError, match="area share"):
        score(np.zeros(grid.n_cells), grid, test, (0.0,))
    assert DEFAULT_SHARES == (0.01, 0.03, 0.05)
