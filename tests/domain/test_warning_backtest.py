"""A back-test's precision on constructed histories whose answer is known: which warnings the
rule would have raised at daily steps, which of them were followed by what they foretold, which
were still pending at the end of the data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jingwu.domain.disputes import address_key
from jingwu.domain.warning_backtest import backtest, daily_steps, summary
from jingwu.domain.warning_models import Source, parse_rule
from jingwu.domain.warning_rules import IncidentRecord, Records, Sighting

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
A = (45.7560, 126.6420)
B = (45.7420, 126.6600)  # about 2 km from A
C = (45.7700, 126.6000)
NORTH = (45.8300, 126.6200)  # about 8 km from A
SOUTH_FAR = (45.6600, 126.6400)  # about 10 km from A
ALL = frozenset(Source)


def incident(
    n: str, when: datetime, at: tuple[float, float], type_code: str = "dispute.family"
) -> IncidentRecord:
    address = {A: "保健路 12 号", B: "红军街 5 号", C: "中山路 8 号"}.get(at)
    return IncidentRecord(n, type_code, when, at[0], at[1], "south", address, address_key(address))


def test_daily_steps_run_from_a_day_after_the_start_to_the_end() -> None:
    assert daily_steps(T0, T0 + 3 * DAY) == [T0 + DAY, T0 + 2 * DAY, T0 + 3 * DAY]
    assert daily_steps(T0, T0 + 12 * 3600 * timedelta(seconds=1)) == []


def test_repeat_address_precision_counts_a_later_call_at_the_place_and_leaves_the_late_one_pending() -> None:
    rule = parse_rule(
        "repeat_address",
        {"incident_types": ["dispute.family", "order.domestic_violence"], "min_count": 3, "window_days": 30},
        ["incidents"],
    )
    hour = timedelta(hours=10)
    records = Records(
        ALL,
        incidents=(
            # A: three calls, a warning at the step of day 4; another call on day 10: followed.
            *(incident(f"a{d}", T0 + d * DAY + hour, A) for d in (1, 2, 3)),
            incident("a10", T0 + 10 * DAY + hour, A, "order.domestic_violence"),
            # B: three calls, a warning on day 23; then only a theft there: not followed.
            *(incident(f"b{d}", T0 + d * DAY + hour, B) for d in (20, 21, 22)),
            incident("b30", T0 + 30 * DAY + hour, B, "crim.theft"),
            # C: three calls, a warning at the last step (day 60): its 30 days run past the data.
            *(incident(f"c{d}", T0 + d * DAY + hour, C) for d in (57, 58, 59)),
        ),
    )
    result = backtest(rule, records, start=T0, end=T0 + 60 * DAY, data_end=T0 + 70 * DAY)
    assert result.steps == 60
    assert [(o.raised_at, o.followed) for o in result.outcomes] == [
        (T0 + 4 * DAY, True),
        (T0 + 23 * DAY, False),
        (T0 + 60 * DAY, None),
    ]
    assert (result.warnings, result.judged, result.followed, result.pending) == (3, 2, 1, 1)
    assert result.precision == pytest.approx(0.5)
    details = summary(result)
    assert [o["followed"] for o in details["outcomes"]] == [True, False, None]  # type: ignore[index]


def test_plate_precision_counts_a_check_hit_or_a_second_impossible_pair() -> None:
    rule = parse_rule("plate_far_apart", {"min_km": 5, "max_minutes": 30}, ["access_events", "checks"])

    def gate(n: str, plate: str, when: datetime, at: tuple[float, float]) -> Sighting:
        return Sighting(Source.ACCESS_EVENTS, n, plate, "黑A***01", when, at[0], at[1], "south")

    def check(n: str, plate: str, when: datetime, at: tuple[float, float], hit: bool = False) -> Sighting:
        return Sighting(Source.CHECKS, n, plate, "黑A***01", when, at[0], at[1], "north", hit)

    eight = timedelta(hours=8)
    minutes = timedelta(minutes=1)
    sightings = (
        # p1: a gate and a check 8 km apart ten minutes apart (day 1); a check hit on day 3: followed.
        gate("g1", "p1", T0 + DAY + eight, A),
        check("k1", "p1", T0 + DAY + eight + 10 * minutes, NORTH),
        check("k2", "p1", T0 + 3 * DAY + eight, A, hit=True),
        # p2: two gates 10 km apart five minutes apart (day 5); nothing after: not followed.
        gate("g2", "p2", T0 + 5 * DAY + eight, A),
        gate("g3", "p2", T0 + 5 * DAY + eight + 5 * minutes, SOUTH_FAR),
        # p3: an impossible pair on day 6, another on day 8: the first followed by the second,
        # which is a warning of its own, not followed.
        gate("g4", "p3", T0 + 6 * DAY + eight, A),
        gate("g5", "p3", T0 + 6 * DAY + eight + 20 * minutes, NORTH),
        gate("g6", "p3", T0 + 8 * DAY + eight, NORTH),
        gate("g7", "p3", T0 + 8 * DAY + eight + 15 * minutes, SOUTH_FAR),
        # p4: far apart, but an hour apart: no warning.
        gate("g8", "p4", T0 + 2 * DAY, A),
        gate("g9", "p4", T0 + 2 * DAY + 60 * minutes, NORTH),
    )
    records = Records(ALL, sightings=sightings)
    result = backtest(rule, records, start=T0, end=T0 + 10 * DAY, data_end=T0 + 20 * DAY)
    assert [(o.warning.plate, o.raised_at, o.followed) for o in result.outcomes] == [
        ("p1", T0 + 2 * DAY, True),
        ("p2", T0 + 6 * DAY, False),
        ("p3", T0 + 7 * DAY, True),
        ("p3", T0 + 9 * DAY, False),
    ]
    assert result.precision == pytest.approx(0.5)
    # Read from the gates alone (purpose limitation), p1's pair and its hit are not seen at all.
    gates_only = parse_rule("plate_far_apart", {"min_km": 5, "max_minutes": 30}, ["access_events"])
    only = backtest(gates_only, records, start=T0, end=T0 + 10 * DAY, data_end=T0 + 20 * DAY)
    assert [o.warning.plate for o in only.outcomes] == ["p2", "p3", "p3"]
    assert only.precision == pytest.approx(1 / 3)


def test_spike_precision_asks_whether_the_cell_stays_above_its_history_in_the_next_window() -> None:
    rule = parse_rule(
        "type_spike",
        {
            "incident_types": ["crim.theft"],
            "window_days": 7,
            "history_windows": 4,
            "max_p": 0.01,
            "min_count": 3,
        },
        ["incidents"],
    )
    noon = timedelta(hours=12)
    background = [
        incident(f"{name}{k}", T0 - 49 * DAY + noon + k * 7 * DAY, at, "crim.theft")
        for name, at in (("x", A), ("y", B))
        for k in range(16)  # one theft a week in each cell, through the whole period
    ]
    # X: five more on day 10 (a warning at the step of day 11), five more on day 14: still above.
    # Y: five more on day 30 (a warning on day 31), then back to one a week: not followed.
    extra = [
        incident(f"{name}s{day}-{i}", T0 + day * DAY + noon + i * timedelta(minutes=1), at, "crim.theft")
        for name, at, day in (("x", A, 10), ("x", A, 14), ("y", B, 30))
        for i in range(5)
    ]
    records = Records(ALL, incidents=tuple(background + extra))
    result = backtest(rule, records, start=T0, end=T0 + 40 * DAY, data_end=T0 + 50 * DAY)
    assert [(o.raised_at, o.warning.history, o.followed) for o in result.outcomes] == [
        (T0 + 11 * DAY, (1, 1, 1, 1), True),
        (T0 + 31 * DAY, (1, 1, 1, 1), False),
    ]
    assert result.precision == pytest.approx(0.5)


def test_nothing_judged_has_no_precision() -> None:
    rule = parse_rule("repeat_address", {"incident_types": ["dispute.family"]}, ["incidents"])
    result = backtest(rule, Records(ALL), start=T0, end=T0 + 5 * DAY, data_end=T0 + 5 * DAY)
    assert (result.steps, result.warnings, result.precision) == (5, 0, None)
