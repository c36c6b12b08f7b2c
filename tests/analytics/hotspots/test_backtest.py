"""Back-tests and the method's choice: every method scored, and the forecast month never seen."""

from __future__ import annotations

import numpy as np
import pytest

from jingwu.analytics.hotspots import (
    DEFAULT_METHOD,
    METHODS,
    HotspotError,
    Points,
    backtest,
    choose_method,
    forecast,
    month_start,
)
from tests.analytics.hotspots.synthetic import make_city


def test_a_backtest_scores_every_method_at_every_share_on_the_month_only() -> None:
    city = make_city()
    result = backtest(city.points, city.test_month)
    start = month_start(city.test_month)
    assert result.n_train == int(np.count_nonzero(city.points.t < start)) == 12 * 300
    assert result.n_test == 300
    assert result.study_area_m2 == result.n_cells * 150.0**2
    table = result.table()
    assert list(table) == list(METHODS)
    for by_share in table.values():
        assert list(by_share) == [0.01, 0.03, 0.05]
        for figures in by_share.values():
            assert set(figures) == {"hit_rate", "pai", "pei_star"}
            assert figures["pai"] > 1.0


def test_a_backtest_ignores_the_months_after_the_one_it_scores() -> None:
    city = make_city()
    month = city.train_months[-1]
    before = backtest(city.points.before(month_start(city.test_month)), month)
    with_later = backtest(city.points, month)
    assert before == with_later


def test_the_method_is_chosen_without_looking_at_the_month_forecast() -> None:
    city = make_city()
    start = month_start(city.test_month)
    history = city.points.before(start)
    # Replace the forecast month by its mirror image: different points, same times.
    month = city.points.between(start, np.datetime64("2100-01-01T00:00:00", "s"))
    mirrored = Points(2 * 126.6 - month.lon, 2 * 45.75 - month.lat, month.t)
    other = Points(
        np.concatenate([history.lon, mirrored.lon]),
        np.concatenate([history.lat, mirrored.lat]),
        np.concatenate([history.t, mirrored.t]),
    )
    a, b = choose_method(city.points, city.test_month), choose_method(other, city.test_month)
    assert a == b
    assert a.folds == (city.train_months[-1], city.train_months[-2])
    assert a.method == max(METHODS, key=lambda name: a.mean_pai[name])
    fa, fb = forecast(city.points, city.test_month), forecast(other, city.test_month)
    assert np.array_equal(fa.scores, fb.scores) and np.array_equal(fa.chosen, fb.chosen)
    assert fa.score_month(city.points)[0.05].hits != fa.score_month(other)[0.05].hits


def test_with_no_month_to_backtest_the_default_method_is_taken() -> None:
    city = make_city(per_month=50, months=1)
    choice = choose_method(city.points, city.test_month)
    assert choice.fallback and choice.method == DEFAULT_METHOD and choice.folds == ()


def test_backtests_and_forecasts_refuse_what_they_cannot_use() -> None:
    city = make_city(per_month=50, months=2)
    with pytest.raises(HotspotError, match="before 2018-01"):
        backtest(city.points, "2018-01")
    with pytest.raises(HotspotError, match="in 2030-01"):
        backtest(city.points, "2030-01")
    with pytest.raises(HotspotError, match="no method 'sepp'"):
        forecast(city.points, city.test_month, method="sepp")
    with pytest.raises(HotspotError, match="area share"):
        forecast(city.points, city.test_month, area_share=1.5)
    with pytest.raises(HotspotError, match="not a month"):
        forecast(city.points, "2019-7")
