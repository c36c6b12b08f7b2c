"""The roster: shifts of a station and their crews, and the sync that puts units on and off duty
with their shifts and binds each officer's account to the unit they ride."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Connection, Engine, and_, insert, select, update

from jingwu.domain.roster import (
    CrewSeat,
    DutyPlan,
    Shift,
    ShiftKind,
    check_crews,
    check_window,
    duty_plan,
    standard_window,
)
from jingwu.domain.status import UnitStatus
from jingwu.errors import Conflict, JingwuError, NotFound, ValidationFailed
from jingwu.service import audit
from jingwu.service.administration.personnel import person_from_row
from jingwu.service.dispatching import DispatchService
from jingwu.service.ids import new_id
from jingwu.store import repository as repo
from jingwu.store import tables as t
from jingwu.store.db import read_transaction, write_transaction

log = logging.getLogger(__name__)

#: How far around now the sync looks for shifts: the longest shift, so none that covers now is missed.
_HORIZON = timedelta(hours=27)

ROSTER_ACTOR = "roster"


@dataclass(frozen=True, slots=True)
class ShiftDraft:
    station_id: str
    kind: str
    day: date | None = None  # for day and night shifts: the local day it starts on
    starts_at: datetime | None = None  # for custom shifts
    ends_at: datetime | None = None
    crews: Sequence[tuple[str, Sequence[str]]] = ()  # (unit id, person ids riding it)


def shift_from_row(row: Any) -> Shift:
    return Shift(row.id, row.station_id, ShiftKind(row.kind), row.starts_at, row.ends_at)


def shift_view(shift: Shift, seats: Sequence[CrewSeat]) -> dict[str, Any]:
    crews: dict[str, list[str]] = {}
    for seat in seats:
        crews.setdefault(seat.unit_id, []).append(seat.person_id)
    return {
        "id": shift.id,
        "station_id": shift.station_id,
        "kind": str(shift.kind),
        "starts_at": shift.starts_at.isoformat(),
        "ends_at": shift.ends_at.isoformat(),
        "crews": [{"unit_id": u, "person_ids": sorted(p)} for u, p in sorted(crews.items())],
    }


def _kind(value: str) -> ShiftKind:
    try:
        return ShiftKind(value)
    except ValueError:
        raise ValidationFailed(
            f"unknown shift kind {value!r}; one of {', '.join(k.value for k in ShiftKind)}",
            code="invalid_shift",
        ) from None


class RosterAdmin:
    def __init__(
        self, engine: Engine, dispatch: DispatchService, *, zone: tzinfo, clock: Callable[[], datetime]
    ) -> None:
        self.engine = engine
        self.dispatch = dispatch
        self.zone = zone
        self.clock = clock
        self._sync_lock = threading.Lock()

    # ------------------------------------------------------------ shifts

    def check_new(self, conn: Connection, draft: ShiftDraft) -> tuple[Shift, list[CrewSeat]]:
        kind = _kind(draft.kind)
        if kind is ShiftKind.CUSTOM:
            if draft.starts_at is None or draft.ends_at is None:
                raise ValidationFailed("a custom shift needs starts_at and ends_at", code="invalid_shift")
            starts, ends = draft.starts_at, draft.ends_at
        else:
            if draft.day is None:
                raise ValidationFailed(f"a {kind} shift needs its day", code="invalid_shift")
            starts, ends = standard_window(kind, draft.day, self.zone)
        check_window(starts, ends)
        station = repo.get_station(conn, draft.station_id)
        if station.retired_at is not None:
            raise Conflict(f"station {station.id} is retired", code="station_retired")
        shift = Shift(new_id("shf"), station.id, kind, starts, ends)
        seats = [CrewSeat(shift.id, p, unit_id) for unit_id, people in draft.crews for p in people]
        unit_ids = {s.unit_id for s in seats}
        units = {u.id: u for u in repo.list_units(conn, ids=unit_ids, include_retired=True)}
        person_ids = [s.person_id for s in seats]
        people = {
            r.id: person_from_row(r)
            for r in conn.execute(select(t.personnel).where(t.personnel.c.id.in_(person_ids)))
        }
        # Who already works a shift that overlaps this one.
        busy = {
            r.person_id: r.shift_id
            for r in conn.execute(
                select(t.crews.c.person_id, t.crews.c.shift_id)
                .join(t.shifts, t.shifts.c.id == t.crews.c.shift_id)
                .where(
                    t.crews.c.person_id.in_(person_ids),
                    t.shifts.c.starts_at < ends,
                    t.shifts.c.ends_at > starts,
                )
            )
        }
        check_crews(seats, shift, units=units, people=people, busy=busy)
        return shift, seats

    def write_new(self, conn: Connection, shift: Shift, seats: Sequence[CrewSeat], actor: str | None) -> None:
        conn.execute(
            insert(t.shifts).values(
                id=shift.id,
                station_id=shift.station_id,
                kind=str(shift.kind),
                starts_at=shift.starts_at,
                ends_at=shift.ends_at,
                created_by=actor,
            )
        )
        if seats:
            conn.execute(
                insert(t.crews),
                [{"shift_id": s.shift_id, "person_id": s.person_id, "unit_id": s.unit_id} for s in seats],
            )
        audit.append(
            conn,
            ts=self.clock(),
            action="admin.shift_created",
            actor=actor,
            target=shift.id,
            details={"station_id": shift.station_id, "kind": str(shift.kind), "seats": len(seats)},
        )

    def add_shift(self, draft: ShiftDraft, *, actor: str | None) -> tuple[Shift, list[CrewSeat]]:
        with write_transaction(self.engine) as conn:
            shift, seats = self.check_new(conn, draft)
            self.write_new(conn, shift, seats, actor)
        self.sync()
        return shift, seats

    def remove_shift(self, shift_id: str, *, actor: str | None) -> None:
        """Take a shift off the roster (one not yet over); its units go off duty at the next sync."""
        now = self.clock()
        with write_transaction(self.engine) as conn:
            row = conn.execute(select(t.shifts).where(t.shifts.c.id == shift_id)).first()
            if row is None:
                raise NotFound(f"no shift {shift_id!r}", code="shift_not_found")
            if row.ends_at <= now:
                raise Conflict("a shift that is over stays in the records", code="shift_over")
            conn.execute(t.crews.delete().where(t.crews.c.shift_id == shift_id))
            conn.execute(t.shifts.delete().where(t.shifts.c.id == shift_id))
            audit.append(conn, ts=now, action="admin.shift_removed", actor=actor, target=shift_id)
        self.sync()

    def list_shifts(
        self, *, station_ids: Collection[str] | None, starts_from: datetime, starts_to: datetime
    ) -> list[tuple[Shift, list[CrewSeat]]]:
        s = t.shifts.c
        query = (
            select(t.shifts)
            .where(s.ends_at > starts_from, s.starts_at < starts_to)
            .order_by(s.starts_at, s.id)
        )
        if station_ids is not None:
            query = query.where(s.station_id.in_(sorted(station_ids)))
        with read_transaction(self.engine) as conn:
            shifts = [shift_from_row(r) for r in conn.execute(query)]
            seats = self._seats(conn, [x.id for x in shifts])
        return [(x, [c for c in seats if c.shift_id == x.id]) for x in shifts]

    def get_shift(self, shift_id: str) -> tuple[Shift, list[CrewSeat]]:
        with read_transaction(self.engine) as conn:
            row = conn.execute(select(t.shifts).where(t.shifts.c.id == shift_id)).first()
            if row is None:
                raise NotFound(f"no shift {shift_id!r}", code="shift_not_found")
            return shift_from_row(row), self._seats(conn, [shift_id])

    @staticmethod
    def _seats(conn: Connection, shift_ids: Collection[str]) -> list[CrewSeat]:
        if not shift_ids:
            return []
        c = t.crews.c
        rows = conn.execute(
            select(t.crews).where(c.shift_id.in_(list(shift_ids))).order_by(c.unit_id, c.person_id)
        )
        return [CrewSeat(r.shift_id, r.person_id, r.unit_id) for r in rows]

    # ------------------------------------------------------------ duty

    def plan(self, now: datetime | None = None) -> DutyPlan:
        now = now or self.clock()
        s = t.shifts.c
        with read_transaction(self.engine) as conn:
            shifts = [
                shift_from_row(r)
                for r in conn.execute(
                    select(t.shifts).where(and_(s.ends_at > now - _HORIZON, s.starts_at < now + _HORIZON))
                )
            ]
            seats = self._seats(conn, [x.id for x in shifts])
            people = [
                r.id for r in conn.execute(select(t.personnel.c.id).where(t.personnel.c.retired_at.is_(None)))
            ]
            units = repo.list_units(conn)
        return duty_plan(units, shifts, seats, people, now)

    def sync(self) -> DutyPlan:
        """Bring the fleet and the officers' accounts in line with the roster now: run by the
        timer every few seconds and after every roster change. Idempotent; one at a time."""
        with self._sync_lock:
            plan = self.plan()
            for unit_id, status in [
                *((u, UnitStatus.AVAILABLE) for u in plan.to_on_duty),
                *((u, UnitStatus.OFF_DUTY) for u in plan.to_off_duty),
            ]:
                try:
                    self.dispatch.set_unit_status(unit_id, status, actor=ROSTER_ACTOR)
                except JingwuError as exc:
                    # Someone moved the unit meanwhile (dispatched it, say): the next sync looks again.
                    log.info("roster left unit %s as it is: %s", unit_id, exc)
            self._bind(plan)
            return plan

    def _bind(self, plan: DutyPlan) -> None:
        """Each officer's account to the unit their current shift puts them on (or none)."""
        p, u = t.personnel.c, t.users.c
        with read_transaction(self.engine) as conn:
            rows = conn.execute(select(p.id, p.user_id, u.unit_id).join(t.users, u.id == p.user_id)).all()
        changes = [
            (r.user_id, plan.bindings[r.id])
            for r in rows
            if r.id in plan.bindings and r.unit_id != plan.bindings[r.id]
        ]
        if not changes:
            return
        with write_transaction(self.engine) as conn:
            for user_id, unit_id in changes:
                conn.execute(update(t.users).where(u.id == user_id).values(unit_id=unit_id))


__all__ = ["ROSTER_ACTOR", "RosterAdmin", "ShiftDraft", "shift_view"]
