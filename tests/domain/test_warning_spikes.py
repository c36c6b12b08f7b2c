"""The spike rule: one type in one grid cell against the cell's own history, by the Poisson tail
or the z-score, with a minimum count; the grid and the tail probability themselves."""

from __future__ import annotations

import math
from typing import Any

from jingwu.domain.warning_models import Rule, parse_rule
from jingwu.domain.warning_rules import IncidentRecord, Records, evaluate
from jingwu.domain.warning_spikes import grid_cell, poisson_tail
from tests.domain.test_warning_rules import ALL, FAR, HOME, NOW, call


def test_poisson_tail_matches_its_closed_forms() -> None:
    assert poisson_tail(0, 2.0) == 1.0
    assert math.isclose(poisson_tail(1, 1.0), 1 - math.exp(-1))
    assert math.isclose(poisson_tail(3, 1.0), 1 - math.exp(-1) * 2.5)
    assert 0 < poisson_tail(60, 2.0) < 1e-40  # a far tail keeps its digits
    assert poisson_tail(5, 0.0) == 0.0


def spike_rule(**params: Any) -> Rule:
    base = {"incident_types": ["crim.theft"], "window_days": 7, "history_windows": 4, "cell_m": 500}
    return parse_rule("type_spike", base | params, ["incidents"])


def thefts(
    count: int, days_ago: float, *, at: tuple[float, float] = HOME, first: int = 0
) -> list[IncidentRecord]:
    return [call(first + i, days_ago, at=at, type_code="crim.theft", address=None) for i in range(count)]


def test_a_spike_of_one_type_in_one_cell_against_its_own_history() -> None:
    # One theft a week for four weeks, then six in the last week: P(X ≥ 6 | λ = 1) ≈ 0.0006.
    history = [r for week in range(1, 5) for r in thefts(1, 7 * week + 3, first=100 * week)]
    spike = thefts(6, 2)
    quiet_elsewhere = thefts(2, 2, at=FAR, first=900)
    records = Records(ALL, incidents=tuple(history + spike + quiet_elsewhere))
    (warning,) = evaluate(spike_rule(), records, NOW)
    assert warning.type_code == "crim.theft" and warning.history == (1, 1, 1, 1)
    assert warning.evidence["count"] == 6 and warning.evidence["mean"] == 1.0
    assert warning.evidence["p"] < 0.001
    row, col = grid_cell(*HOME, 500)
    assert warning.place_key == f"cell:500:{row}:{col}:crim.theft"
    assert grid_cell(warning.lat, warning.lon, 500) == (row, col)  # the place is the cell's centre
    # The same count against a busier history is no spike; nor is it under min_count.
    busy = [r for week in range(1, 5) for r in thefts(5, 7 * week + 3, first=100 * week)]
    assert evaluate(spike_rule(), Records(ALL, incidents=tuple(busy + spike)), NOW) == []
    assert evaluate(spike_rule(min_count=7), records, NOW) == []
    # The z-score: (6 − 1) / max(sd 0, 1) = 5.
    (by_z,) = evaluate(spike_rule(method="zscore", min_z=4), records, NOW)
    assert by_z.evidence["z"] == 5.0
    assert evaluate(spike_rule(method="zscore", min_z=6), records, NOW) == []
