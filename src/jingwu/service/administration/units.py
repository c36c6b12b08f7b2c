"""Units: created, edited and retired by an admin or a commander of their station. Each change
goes down the dispatch write path as a versioned unit change with its event, so that every
process's live board takes it at once."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from jingwu.domain.events import DomainEvent, EventType
from jingwu.domain.model import Unit
from jingwu.domain.rules import Decision
from jingwu.domain.status import ASSIGNED_STATUSES, UnitKind, UnitStatus
from jingwu.errors import Conflict, NotFound, ValidationFailed
from jingwu.service.dispatching import DispatchService
from jingwu.service.ids import new_id
from jingwu.store import repository as repo
from jingwu.store import tables as t
from jingwu.store.db import read_transaction

_CALLSIGN = re.compile(r"^[A-Z0-9\u4e00-\u9fff][A-Z0-9\u4e00-\u9fff-]{0,31}$")
_CAPABILITY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_DEVICE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

EDITABLE = frozenset({"callsign", "kind", "station_id", "capabilities", "radio_id", "terminal_id"})


@dataclass(frozen=True, slots=True)
class UnitDraft:
    callsign: str
    kind: str
    station_id: str
    capabilities: Collection[str] = ()
    radio_id: str | None = None
    terminal_id: str | None = None


def check_callsign(callsign: str) -> str:
    """Call signs are said over the radio and typed on phones: upper case, no spaces."""
    cleaned = callsign.strip().upper()
    if not _CALLSIGN.match(cleaned):
        raise ValidationFailed(
            f"{callsign!r} is not a call sign (letters, digits, Chinese and -, at most 32)",
            code="invalid_callsign",
        )
    return cleaned


def check_kind(kind: str) -> UnitKind:
    try:
        return UnitKind(kind)
    except ValueError:
        raise ValidationFailed(
            f"unknown unit kind {kind!r}; one of {', '.join(k.value for k in UnitKind)}",
            code="invalid_unit_kind",
        ) from None


def check_capabilities(values: Collection[str]) -> frozenset[str]:
    if isinstance(values, str):
        raise ValidationFailed("capabilities are a list", code="invalid_capability")
    for value in values:
        if not isinstance(value, str) or not _CAPABILITY.match(value):
            raise ValidationFailed(f"{value!r} is not a capability name", code="invalid_capability")
    return frozenset(values)


def check_device_id(value: str | None, what: str) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not _DEVICE_ID.match(value):
        raise ValidationFailed(f"{value!r} is not a {what}", code=f"invalid_{what.replace(' ', '_')}")
    return value


def _refuse_taken(conn: Connection, unit_id: str, column: str, value: str | None, code: str) -> None:
    if value is None:
        return
    c = t.units.c
    found = conn.execute(
        select(c.id).where(func.upper(c[column]) == value.upper(), c.id != unit_id, c.retired_at.is_(None))
    ).first()
    if found is not None:
        raise Conflict(f"{value!r} belongs to another unit already", code=code, unit_id=found.id)


def _refuse_unknown_station(conn: Connection, station_id: str) -> None:
    station = repo.get_station(conn, station_id)
    if station.retired_at is not None:
        raise Conflict(f"station {station_id} is retired", code="station_retired", station_id=station_id)


class UnitAdmin:
    def __init__(self, engine: Engine, dispatch: DispatchService, *, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.dispatch = dispatch
        self.clock = clock

    def check_new(self, conn: Connection, draft: UnitDraft) -> Unit:
        unit_id = new_id("unit")
        unit = Unit(
            id=unit_id,
            callsign=check_callsign(draft.callsign),
            kind=check_kind(draft.kind),
            station_id=draft.station_id,
            # A new unit waits off duty until its shift (or a dispatcher) puts it on.
            status=UnitStatus.OFF_DUTY,
            capabilities=check_capabilities(draft.capabilities),
            radio_id=check_device_id(draft.radio_id, "radio id"),
            terminal_id=check_device_id(draft.terminal_id, "terminal id"),
        )
        _refuse_unknown_station(conn, unit.station_id)
        _refuse_taken(conn, unit_id, "callsign", unit.callsign, "callsign_taken")
        _refuse_taken(conn, unit_id, "radio_id", unit.radio_id, "radio_id_taken")
        _refuse_taken(conn, unit_id, "terminal_id", unit.terminal_id, "terminal_id_taken")
        return unit

    def write_new(
        self, conn: Connection, unit: Unit, now: datetime, actor: str | None
    ) -> tuple[Unit, DomainEvent]:
        stored = replace(unit, status_changed_at=now, version=0)
        repo.insert_unit(conn, stored)
        return stored, DomainEvent(EventType.UNIT_CREATED, now, unit_id=unit.id, actor=actor)

    def create(self, draft: UnitDraft, *, actor: str | None) -> Unit:
        def decide(conn: Connection, now: datetime) -> Decision:
            unit, event = self.write_new(conn, self.check_new(conn, draft), now, actor)
            return Decision(units=(unit,), events=(event,))

        return self.dispatch.commit(decide).units[0]

    def get(self, unit_id: str, *, include_retired: bool = True) -> Unit:
        with read_transaction(self.engine) as conn:
            unit = repo.get_unit(conn, unit_id)
        if unit.retired_at is not None and not include_retired:
            raise NotFound(f"no unit {unit_id!r}", code="unit_not_found", unit_id=unit_id)
        return unit

    def update(
        self, unit_id: str, changes: Mapping[str, Any], *, version: int | None, actor: str | None
    ) -> Unit:
        """Change what a unit is (not what it is doing: statuses have their own commands)."""
        unknown = set(changes) - EDITABLE
        if unknown:
            raise ValidationFailed(f"cannot change {', '.join(sorted(unknown))}", code="invalid_change")

        def decide(conn: Connection, now: datetime) -> Decision:
            before = repo.get_unit(conn, unit_id, for_update=True)
            if before.retired_at is not None:
                raise Conflict(f"unit {before.callsign} is retired", code="unit_retired", unit_id=unit_id)
            if version is not None and version != before.version:
                raise Conflict(
                    f"unit {before.callsign} was changed by someone else; reload",
                    code="stale_unit",
                    unit_id=unit_id,
                )
            after = before
            diff: dict[str, Any] = {}
            for name, value in changes.items():
                if name == "callsign":
                    value = check_callsign(value)
                    _refuse_taken(conn, unit_id, "callsign", value, "callsign_taken")
                elif name == "kind":
                    value = check_kind(value)
                elif name == "capabilities":
                    value = check_capabilities(value)
                elif name == "station_id":
                    _refuse_unknown_station(conn, value)
                else:
                    value = check_device_id(value, name.replace("_", " "))
                    _refuse_taken(conn, unit_id, name, value, f"{name}_taken")
                if getattr(before, name) != value:
                    after = replace(after, **{name: value})
                    diff[name] = {"before": _plain(getattr(before, name)), "after": _plain(value)}
            if not diff:
                return Decision(units=())
            event = DomainEvent(
                EventType.UNIT_UPDATED, now, unit_id=unit_id, actor=actor, data={"changes": diff}
            )
            return Decision(units=(after,), events=(event,))

        decision = self.dispatch.commit(decide)
        return decision.units[0] if decision.units else self.get(unit_id)

    def retire(self, unit_id: str, *, actor: str | None) -> Unit:
        """Take a unit out of the fleet: refused while it works an incident or a shift still to
        come crews it. It stays in the records (its history, its incidents), off every list."""

        def decide(conn: Connection, now: datetime) -> Decision:
            before = repo.get_unit(conn, unit_id, for_update=True)
            if before.retired_at is not None:
                raise Conflict(f"unit {before.callsign} is retired already", code="unit_retired")
            if before.status in ASSIGNED_STATUSES or before.incident_id is not None:
                raise Conflict(
                    f"unit {before.callsign} is working an incident; retire it when it is free",
                    code="unit_busy",
                    unit_id=unit_id,
                )
            rostered = conn.execute(
                select(func.count())
                .select_from(t.crews.join(t.shifts, t.crews.c.shift_id == t.shifts.c.id))
                .where(t.crews.c.unit_id == unit_id, t.shifts.c.ends_at > now)
            ).scalar_one()
            if rostered:
                raise Conflict(
                    f"unit {before.callsign} is on {rostered} shift(s) not yet over: take it off the roster"
                    " first",
                    code="unit_rostered",
                    unit_id=unit_id,
                )
            after = replace(before, status=UnitStatus.OFF_DUTY, status_changed_at=now, retired_at=now)
            event = DomainEvent(EventType.UNIT_RETIRED, now, unit_id=unit_id, actor=actor)
            return Decision(units=(after,), events=(event,))

        return self.dispatch.commit(decide).units[0]


def _plain(value: Any) -> Any:
    if isinstance(value, frozenset | set):
        return sorted(value)
    return str(value) if isinstance(value, UnitKind) else value


__all__ = ["EDITABLE", "UnitAdmin", "UnitDraft", "check_callsign", "check_capabilities", "check_kind"]
