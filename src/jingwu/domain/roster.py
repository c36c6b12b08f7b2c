"""Personnel and the roster: who is who in the force, the shifts of a station, and which officers
ride which unit on which shift. A unit goes on duty when a shift that crews it starts and off
duty when the last such shift ends; its officers are bound to it for the shift.

Pure: the time and the records are handed in; ``duty_plan`` says what should change, the service
makes the changes through the dispatch commands (so that each is an event like any other).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from jingwu.domain.model import Unit
from jingwu.domain.status import UnitStatus
from jingwu.errors import ValidationFailed

#: The ranks of the people's police (人民警察警衔), lowest first, and auxiliary police (辅警),
#: who ride patrol but hold no rank.
RANKS: tuple[str, ...] = (
    "辅警",
    "二级警员",
    "一级警员",
    "三级警司",
    "二级警司",
    "一级警司",
    "三级警督",
    "二级警督",
    "一级警督",
    "三级警监",
    "二级警监",
    "一级警监",
    "副总警监",
    "总警监",
)

#: A police number (警号): digits, in some forces with a letter prefix; 4 to 12 characters.
_POLICE_NUMBER = re.compile(r"^[A-Z]{0,2}[0-9]{4,10}$")

#: Longest shift the roster accepts: a 24-hour duty (24小时值班) and a little handover.
MAX_SHIFT = timedelta(hours=26)


class ShiftKind(StrEnum):
    DAY = "day"  # 白班 08:00–20:00, the bureau's local time
    NIGHT = "night"  # 夜班 20:00–08:00 the next morning
    CUSTOM = "custom"  # any other start and end, given


#: The local start and length of the standard shifts.
STANDARD_SHIFTS: dict[ShiftKind, tuple[time, timedelta]] = {
    ShiftKind.DAY: (time(8, 0), timedelta(hours=12)),
    ShiftKind.NIGHT: (time(20, 0), timedelta(hours=12)),
}


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    police_number: str
    name: str
    rank: str
    station_id: str
    user_id: str
    retired_at: datetime | None = None
    version: int = 0


@dataclass(frozen=True, slots=True)
class Shift:
    id: str
    station_id: str
    kind: ShiftKind
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC

    def covers(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at


@dataclass(frozen=True, slots=True)
class CrewSeat:
    """One officer on one unit for one shift."""

    shift_id: str
    person_id: str
    unit_id: str


def normalise_police_number(text: str) -> str:
    """As typed on a phone or copied from a spreadsheet: full-width digits, spaces, lower case."""
    cleaned = unicodedata.normalize("NFKC", text).strip().replace(" ", "").upper()
    if not _POLICE_NUMBER.match(cleaned):
        raise ValidationFailed(
            f"{text!r} is not a police number (4 to 10 digits, at most two letters before them)",
            code="invalid_police_number",
            police_number=text,
        )
    return cleaned


def check_rank(rank: str) -> str:
    rank = rank.strip()
    if rank not in RANKS:
        raise ValidationFailed(
            f"unknown rank {rank!r}; one of {', '.join(RANKS)}", code="invalid_rank", rank=rank
        )
    return rank


def check_name(name: str, *, what: str = "name", longest: int = 100) -> str:
    name = name.strip()
    if not name or len(name) > longest:
        raise ValidationFailed(f"the {what} must be 1 to {longest} characters", code=f"invalid_{what}")
    return name


def standard_window(kind: ShiftKind, day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """A day or night shift of the local ``day``, as UTC-aware instants (a night shift ends the
    next morning). Built on local wall time, so a zone's clock change shortens or lengthens it."""
    if kind is ShiftKind.CUSTOM:
        raise ValidationFailed("a custom shift needs its start and end", code="invalid_shift")
    start, length = STANDARD_SHIFTS[kind]
    starts = datetime.combine(day, start, tzinfo=zone)
    return starts, starts + length  # wall-clock arithmetic: 20:00 + 12 h is 08:00 the next day


def check_window(starts_at: datetime, ends_at: datetime) -> None:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValidationFailed("shift times need a time zone", code="invalid_shift")
    if ends_at <= starts_at:
        raise ValidationFailed("a shift must end after it starts", code="invalid_shift")
    if ends_at - starts_at > MAX_SHIFT:
        raise ValidationFailed(
            f"a shift may last at most {MAX_SHIFT.total_seconds() / 3600:.0f} hours", code="invalid_shift"
        )


@dataclass(frozen=True, slots=True)
class DutyPlan:
    """What the roster asks of the fleet now."""

    on_duty: frozenset[str]  # rostered units that a current shift crews
    to_on_duty: tuple[str, ...]  # off-duty units whose shift has begun
    to_off_duty: tuple[str, ...]  # free units whose last shift has ended
    bindings: Mapping[str, str | None]  # person id → the unit they ride now (None: none)


#: Statuses from which a unit goes off duty as soon as its shift ends. A unit on an incident (or
#: wrapping one up, or busy) finishes first: the next plan sends it off duty once it is free.
_STOPS_AT_SHIFT_END = frozenset({UnitStatus.AVAILABLE, UnitStatus.OUT_OF_SERVICE})


def duty_plan(
    units: Iterable[Unit],
    shifts: Sequence[Shift],
    crews: Sequence[CrewSeat],
    people: Iterable[str],
    now: datetime,
) -> DutyPlan:
    """Given the units, the shifts near ``now`` with their crews, and the people on the roster:
    which units go on or off duty and where each person is bound. Units that no shift crews are
    left as they are (a bureau that keeps no roster sets duty by hand)."""
    current = {s.id for s in shifts if s.covers(now)}
    rostered_units = {c.unit_id for c in crews}
    on_duty = frozenset(c.unit_id for c in crews if c.shift_id in current)
    bindings: dict[str, str | None] = dict.fromkeys(people)
    for seat in crews:
        if seat.shift_id in current:
            bindings[seat.person_id] = seat.unit_id
    to_on, to_off = [], []
    for unit in units:
        if unit.retired_at is not None or unit.id not in rostered_units:
            continue
        if unit.id in on_duty and unit.status is UnitStatus.OFF_DUTY:
            to_on.append(unit.id)
        elif unit.id not in on_duty and unit.status in _STOPS_AT_SHIFT_END:
            to_off.append(unit.id)
    return DutyPlan(on_duty, tuple(sorted(to_on)), tuple(sorted(to_off)), bindings)


def check_crews(
    seats: Sequence[CrewSeat],
    shift: Shift,
    *,
    units: Mapping[str, Unit],
    people: Mapping[str, Person],
    busy: Mapping[str, str],
) -> None:
    """One shift's crews: each unit and person exists and is not retired, and no one rides two
    units at once (``busy``: person id → the shift of theirs that overlaps this one)."""
    seen: set[str] = set()
    for seat in seats:
        unit = units.get(seat.unit_id)
        if unit is None or unit.retired_at is not None:
            raise ValidationFailed(f"no unit {seat.unit_id!r} in service", code="unit_not_found")
        person = people.get(seat.person_id)
        if person is None or person.retired_at is not None:
            raise ValidationFailed(f"no officer {seat.person_id!r} in service", code="person_not_found")
        if seat.person_id in seen:
            raise ValidationFailed(
                f"{person.police_number} is on two units in one shift",
                code="double_booked",
                police_number=person.police_number,
            )
        seen.add(seat.person_id)
        if seat.person_id in busy and busy[seat.person_id] != shift.id:
            raise ValidationFailed(
                f"{person.police_number} already works an overlapping shift",
                code="double_booked",
                police_number=person.police_number,
            )


__all__ = [
    "MAX_SHIFT",
    "RANKS",
    "STANDARD_SHIFTS",
    "CrewSeat",
    "DutyPlan",
    "Person",
    "Shift",
    "ShiftKind",
    "check_crews",
    "check_name",
    "check_rank",
    "check_window",
    "duty_plan",
    "normalise_police_number",
    "standard_window",
]
