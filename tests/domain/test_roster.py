from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from jingwu.domain.roster import (
    CrewSeat,
    Person,
    Shift,
    ShiftKind,
    check_crews,
    check_window,
    duty_plan,
    normalise_police_number,
    standard_window,
)
from jingwu.domain.status import UnitStatus
from jingwu.errors import ValidationFailed
from tests.conftest import make_unit

NOW = datetime(2026, 12, 6, 4, 0, tzinfo=UTC)  # 12:00 in Harbin
HARBIN = ZoneInfo("Asia/Shanghai")


def _shift(shift_id: str, start_h: float, end_h: float) -> Shift:
    return Shift(
        shift_id, "south", ShiftKind.CUSTOM, NOW + timedelta(hours=start_h), NOW + timedelta(hours=end_h)
    )


def test_day_and_night_shifts_are_the_bureaus_local_hours() -> None:
    day = standard_window(ShiftKind.DAY, date(2026, 12, 6), HARBIN)
    night = standard_window(ShiftKind.NIGHT, date(2026, 12, 6), HARBIN)
    assert [t.astimezone(UTC).hour for t in day] == [0, 12]
    assert night[0].astimezone(UTC) == datetime(2026, 12, 6, 12, tzinfo=UTC)
    assert night[1].astimezone(UTC) == datetime(2026, 12, 7, 0, tzinfo=UTC)


def test_a_zone_with_summer_time_keeps_the_wall_clock_hours() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    starts, ends = standard_window(ShiftKind.NIGHT, date(2026, 3, 28), berlin)  # clocks go forward
    assert (starts.hour, ends.hour) == (20, 8)
    assert ends.astimezone(UTC) - starts.astimezone(UTC) == timedelta(hours=11)


@pytest.mark.parametrize(
    ("starts", "ends"),
    [
        (NOW, NOW),
        (NOW, NOW - timedelta(hours=1)),
        (NOW, NOW + timedelta(hours=30)),
        (NOW.replace(tzinfo=None), NOW),
    ],
)
def test_a_window_that_is_empty_backwards_too_long_or_zoneless_is_refused(
    starts: datetime, ends: datetime
) -> None:
    with pytest.raises(ValidationFailed):
        check_window(starts, ends)


def test_police_numbers_are_normalised_and_checked() -> None:
    assert normalise_police_number(" ２３０１０１ ") == "230101"
    assert normalise_police_number("a12345") == "A12345"
    for bad in ("12", "2301 01 x", "警号230101", ""):
        with pytest.raises(ValidationFailed):
            normalise_police_number(bad)


def test_units_go_on_and_off_duty_with_their_shifts_and_others_are_left_alone() -> None:
    units = [
        make_unit("a", 45.7, 126.6, status=UnitStatus.OFF_DUTY),  # its shift runs now
        make_unit("b", 45.7, 126.6, status=UnitStatus.AVAILABLE),  # its shift ended
        make_unit("c", 45.7, 126.6, status=UnitStatus.ON_SCENE),  # ended, still on a call
        make_unit("d", 45.7, 126.6, status=UnitStatus.AVAILABLE),  # never rostered: by hand
        make_unit("e", 45.7, 126.6, status=UnitStatus.OFF_DUTY),  # its shift is still to come
    ]
    shifts = [_shift("now", -1, 3), _shift("past", -9, -1), _shift("later", 2, 10)]
    crews = [
        CrewSeat("now", "p1", "a"),
        CrewSeat("past", "p2", "b"),
        CrewSeat("past", "p3", "c"),
        CrewSeat("later", "p4", "e"),
    ]
    plan = duty_plan(units, shifts, crews, ["p1", "p2", "p3", "p4", "p5"], NOW)
    assert plan.to_on_duty == ("a",)
    assert plan.to_off_duty == ("b",)
    assert plan.on_duty == {"a"}
    assert plan.bindings == {"p1": "a", "p2": None, "p3": None, "p4": None, "p5": None}


def test_a_shift_ends_at_its_end_not_a_moment_later() -> None:
    unit = make_unit("a", 45.7, 126.6, status=UnitStatus.AVAILABLE)
    shifts = [_shift("s", -2, 0)]
    plan = duty_plan([unit], shifts, [CrewSeat("s", "p", "a")], ["p"], NOW)
    assert plan.to_off_duty == ("a",)


def _person(person_id: str) -> Person:
    return Person(person_id, person_id.upper(), "名", "一级警员", "south", f"usr_{person_id}")


def test_an_officer_cannot_ride_two_units_or_two_overlapping_shifts() -> None:
    shift = _shift("s", 0, 8)
    units = {"a": make_unit("a", 45.7, 126.6), "b": make_unit("b", 45.7, 126.6)}
    people = {"p1": _person("p1"), "p2": _person("p2")}
    check_crews(
        [CrewSeat("s", "p1", "a"), CrewSeat("s", "p2", "b")], shift, units=units, people=people, busy={}
    )
    with pytest.raises(ValidationFailed, match="two units"):
        check_crews(
            [CrewSeat("s", "p1", "a"), CrewSeat("s", "p1", "b")], shift, units=units, people=people, busy={}
        )
    with pytest.raises(ValidationFailed, match="overlapping"):
        check_crews([CrewSeat("s", "p1", "a")], shift, units=units, people=people, busy={"p1": "other"})
    with pytest.raises(ValidationFailed, match="no unit"):
        check_crews([CrewSeat("s", "p1", "zz")], shift, units=units, people=people, busy={})
