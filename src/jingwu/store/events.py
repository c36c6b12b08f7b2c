"""The event log: every committed change, appended in commit order and read back by id, by
incident or by unit (the live stream's replay, timelines, the cluster bus's catch-up)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select

from jingwu.domain.events import DomainEvent
from jingwu.store import tables as t
from jingwu.store.locks import lock_event_log


def append_events(conn: Connection, events: Sequence[DomainEvent]) -> list[tuple[int, DomainEvent]]:
    """Append to the log. On PostgreSQL the ids are drawn under the cluster-wide event-log lock,
    held until this transaction ends, so that ids follow commit order across server processes:
    a live client resuming after id N then misses no event committed later with a smaller id.
    It is taken last in a command, after its row locks, and held only from the append to the
    commit."""
    stored: list[tuple[int, DomainEvent]] = []
    if events:
        lock_event_log(conn)
    for ev in events:
        event_id = conn.execute(
            insert(t.events)
            .values(
                ts=ev.at,
                type=str(ev.type),
                incident_id=ev.incident_id,
                unit_id=ev.unit_id,
                actor=ev.actor,
                data=dict(ev.data),
            )
            .returning(t.events.c.id)
        ).scalar_one()
        stored.append((event_id, ev))
    return stored


def events_after(conn: Connection, after_id: int, limit: int) -> list[Any]:
    query = select(t.events).where(t.events.c.id > after_id).order_by(t.events.c.id).limit(limit)
    return list(conn.execute(query))


def unit_status_actors(conn: Connection) -> set[tuple[str, str]]:
    """Every (unit, user) pair where that user changed that unit's status."""
    query = (
        select(t.events.c.unit_id, t.events.c.actor)
        .where(and_(t.events.c.type == "unit.status_changed", t.events.c.actor.is_not(None)))
        .distinct()
    )
    return {(row.unit_id, row.actor) for row in conn.execute(query)}


def unit_riders(conn: Connection, unit_id: str) -> set[str]:
    """The user names that ride a unit: its crews' police numbers on any shift, its call sign."""
    numbers = (
        select(t.personnel.c.police_number)
        .join(t.crews, t.crews.c.person_id == t.personnel.c.id)
        .where(t.crews.c.unit_id == unit_id)
        .distinct()
    )
    callsign = select(t.units.c.callsign).where(t.units.c.id == unit_id)
    return {*conn.execute(numbers).scalars(), *conn.execute(callsign).scalars()}


def last_event_id(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(t.events.c.id), 0))).scalar_one())


def incident_events(conn: Connection, incident_id: str) -> list[Any]:
    query = select(t.events).where(t.events.c.incident_id == incident_id).order_by(t.events.c.id)
    return list(conn.execute(query))


def unit_events(conn: Connection, unit_id: str, limit: int) -> list[Any]:
    """The unit's most recent ``limit`` events, oldest first."""
    query = select(t.events).where(t.events.c.unit_id == unit_id).order_by(t.events.c.id.desc()).limit(limit)
    return list(reversed(list(conn.execute(query))))


__all__ = [
    "append_events",
    "events_after",
    "incident_events",
    "last_event_id",
    "unit_events",
    "unit_riders",
    "unit_status_actors",
]
