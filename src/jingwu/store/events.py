"""The event log: every committed change, appended in commit order and read back by id, by
incident or by unit (the live stream's replay, timelines, the cluster bus's catch-up)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, true

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


def dispatch_eta_s(conn: Connection, incident_id: str, unit_id: str) -> float | None:
    """The road ETA (seconds) of the unit's latest dispatch to the incident, as worked out when
    it was sent; None where it had no routable position then."""
    query = (
        select(t.events.c.data)
        .where(
            and_(
                t.events.c.incident_id == incident_id,
                t.events.c.unit_id == unit_id,
                t.events.c.type == "unit.dispatched",
            )
        )
        .order_by(t.events.c.id.desc())
        .limit(1)
    )
    data = conn.execute(query).scalar_one_or_none()
    eta = data.get("eta_s") if isinstance(data, dict) else None
    return float(eta) if isinstance(eta, int | float) else None


def arrivals_of_incidents_created_between(
    conn: Connection, start: datetime, end: datetime, *, station_ids: Collection[str] | None = None
) -> list[Any]:
    """Every unit's arrival (``unit.status_changed`` to on_scene: ``incident_id``, ``ts``,
    ``data``) at the incidents opened in [start, end) of ``station_ids`` (None: all)."""
    opened = select(t.incidents.c.id).where(
        and_(
            t.incidents.c.created_at >= start,
            t.incidents.c.created_at < end,
            true() if station_ids is None else t.incidents.c.station_id.in_(sorted(station_ids)),
        )
    )
    query = (
        select(t.events.c.incident_id, t.events.c.ts, t.events.c.data)
        .where(
            and_(
                t.events.c.incident_id.in_(opened),
                t.events.c.type == "unit.status_changed",
                t.events.c.data["to"].as_string() == "on_scene",
            )
        )
        .order_by(t.events.c.id)
    )
    return list(conn.execute(query))


__all__ = [
    "append_events",
    "arrivals_of_incidents_created_between",
    "dispatch_eta_s",
    "events_after",
    "incident_events",
    "last_event_id",
    "unit_events",
    "unit_riders",
    "unit_status_actors",
]
