"""Rows ↔ domain records, and the writes of a Decision with optimistic version checks.

Every write of an incident or unit names the version it was read at; a row that moved on in the
meantime makes the whole command fail with Conflict and roll back, so two dispatchers racing for
the same unit get exactly one winner — on SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, func, insert, or_, select, true, update

from jingwu.domain.attachments import AttachmentInfo
from jingwu.domain.events import DomainEvent
from jingwu.domain.geo import GeoPoint
from jingwu.domain.model import Assignment, Incident, Position, Station, Unit
from jingwu.domain.rules import Decision
from jingwu.domain.status import OPEN_INCIDENT_STATUSES, IncidentStatus, SourceChannel, UnitKind, UnitStatus
from jingwu.errors import Conflict, NotFound
from jingwu.store import tables as t
from jingwu.store.locks import lock_event_log

# ---------------------------------------------------------------- stations


def station_from_row(row: Any) -> Station:
    return Station(
        id=row.id,
        name=row.name,
        district=row.district,
        jurisdiction=tuple((float(x), float(y)) for x, y in row.jurisdiction),
    )


def list_stations(conn: Connection) -> list[Station]:
    return [station_from_row(r) for r in conn.execute(select(t.stations).order_by(t.stations.c.id))]


def insert_station(conn: Connection, station: Station) -> None:
    conn.execute(
        insert(t.stations).values(
            id=station.id,
            name=station.name,
            district=station.district,
            jurisdiction=[list(p) for p in station.jurisdiction],
        )
    )


# ---------------------------------------------------------------- units


def unit_from_row(row: Any) -> Unit:
    position = None
    if row.pos_lat is not None and row.pos_ts is not None:
        position = Position(
            lat=row.pos_lat, lon=row.pos_lon, ts=row.pos_ts, heading=row.pos_heading, speed=row.pos_speed
        )
    return Unit(
        id=row.id,
        callsign=row.callsign,
        kind=UnitKind(row.kind),
        station_id=row.station_id,
        status=UnitStatus(row.status),
        capabilities=frozenset(row.capabilities),
        incident_id=row.incident_id,
        position=position,
        status_changed_at=row.status_changed_at,
        version=row.version,
    )


def _unit_values(unit: Unit) -> dict[str, Any]:
    pos = unit.position
    return {
        "callsign": unit.callsign,
        "kind": str(unit.kind),
        "station_id": unit.station_id,
        "capabilities": sorted(unit.capabilities),
        "status": str(unit.status),
        "incident_id": unit.incident_id,
        "status_changed_at": unit.status_changed_at,
        "pos_lat": pos.lat if pos else None,
        "pos_lon": pos.lon if pos else None,
        "pos_heading": pos.heading if pos else None,
        "pos_speed": pos.speed if pos else None,
        "pos_ts": pos.ts if pos else None,
    }


def insert_unit(conn: Connection, unit: Unit) -> None:
    conn.execute(insert(t.units).values(id=unit.id, version=unit.version, **_unit_values(unit)))


def _within(column: Any, station_ids: Collection[str] | None) -> Any:
    """A filter to a jurisdiction's stations (None: no filter, the city). Records of no station
    fall outside every list of stations: only the city sees them."""
    return true() if station_ids is None else column.in_(sorted(station_ids))


def list_units(
    conn: Connection, *, ids: Iterable[str] | None = None, station_ids: Collection[str] | None = None
) -> list[Unit]:
    query = select(t.units).where(_within(t.units.c.station_id, station_ids)).order_by(t.units.c.callsign)
    if ids is not None:
        query = query.where(t.units.c.id.in_(list(ids)))
    return [unit_from_row(r) for r in conn.execute(query)]


def get_unit(conn: Connection, unit_id: str, *, for_update: bool = False) -> Unit:
    query = select(t.units).where(t.units.c.id == unit_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"no unit {unit_id!r}", code="unit_not_found", unit_id=unit_id)
    return unit_from_row(row)


def unit_stations(conn: Connection, unit_ids: Collection[str]) -> dict[str, str]:
    """The station of each of these units that exists (one query, for checking a batch)."""
    u = t.units.c
    rows = conn.execute(select(u.id, u.station_id).where(u.id.in_(sorted(unit_ids))))
    return {row.id: row.station_id for row in rows}


def lock_units(conn: Connection, unit_ids: Sequence[str]) -> list[Unit]:
    """Read units for a command, locking their rows on PostgreSQL, in a fixed order (no deadlocks)."""
    query = select(t.units).where(t.units.c.id.in_(list(unit_ids))).order_by(t.units.c.id).with_for_update()
    found = {r.id: unit_from_row(r) for r in conn.execute(query)}
    missing = [u for u in unit_ids if u not in found]
    if missing:
        raise NotFound(f"no unit {missing[0]!r}", code="unit_not_found", unit_id=missing[0])
    return [found[u] for u in unit_ids]


# ---------------------------------------------------------------- incidents


def incident_from_row(row: Any) -> Incident:
    # The reporter is not loaded with the incident: it is sealed personal data, read only
    # through the audited path (service.personal_data).
    return Incident(
        id=row.id,
        type_code=row.type_code,
        priority=row.priority,
        location=GeoPoint(row.lat, row.lon),
        source=SourceChannel(row.source),
        status=IncidentStatus(row.status),
        created_at=row.created_at,
        address=row.address,
        description=row.description,
        station_id=row.station_id,
        created_by=row.created_by,
        stage_times={IncidentStatus(k): datetime.fromisoformat(v) for k, v in row.stage_times.items()},
        merged_into=row.merged_into,
        linked_ids=tuple(row.linked_ids),
        disposition=row.disposition,
        version=row.version,
    )


def _incident_values(incident: Incident) -> dict[str, Any]:
    return {
        "type_code": incident.type_code,
        "priority": incident.priority,
        "lat": incident.location.lat,
        "lon": incident.location.lon,
        "address": incident.address,
        "description": incident.description,
        "source": str(incident.source),
        "station_id": incident.station_id,
        "status": str(incident.status),
        "created_by": incident.created_by,
        "created_at": incident.created_at,
        "stage_times": {str(k): v.isoformat() for k, v in incident.stage_times.items()},
        "merged_into": incident.merged_into,
        "linked_ids": list(incident.linked_ids),
        "disposition": incident.disposition,
    }


def get_incident(conn: Connection, incident_id: str, *, for_update: bool = False) -> Incident:
    query = select(t.incidents).where(t.incidents.c.id == incident_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"no incident {incident_id!r}", code="incident_not_found", incident_id=incident_id)
    return incident_from_row(row)


def list_incidents(
    conn: Connection,
    *,
    statuses: Iterable[IncidentStatus] | None = None,
    limit: int = 500,
    station_ids: Collection[str] | None = None,
    created_by: str | None = None,
) -> list[Incident]:
    query = (
        select(t.incidents)
        .where(_within(t.incidents.c.station_id, station_ids))
        .order_by(t.incidents.c.priority, t.incidents.c.created_at.desc())
        .limit(limit)
    )
    if created_by is not None:
        query = query.where(t.incidents.c.created_by == created_by)
    if statuses is not None:
        query = query.where(t.incidents.c.status.in_([str(s) for s in statuses]))
    return [incident_from_row(r) for r in conn.execute(query)]


_INDEX_COLUMNS = frozenset({"reporter_phone_index", "reporter_id_index"})


def incidents_by_index(
    conn: Connection,
    index_column: str,
    index: str,
    *,
    station_ids: Collection[str] | None = None,
    limit: int = 100,
) -> list[Incident]:
    """Incidents whose reporter has this blind index in ``index_column``, newest first."""
    if index_column not in _INDEX_COLUMNS:
        raise ValueError(f"{index_column} is no blind-index column")
    column = getattr(t.incidents.c, index_column)
    query = (
        select(t.incidents)
        .where(and_(column == index, _within(t.incidents.c.station_id, station_ids)))
        .order_by(t.incidents.c.created_at.desc(), t.incidents.c.id)
        .limit(limit)
    )
    return [incident_from_row(r) for r in conn.execute(query)]


def incidents_created_page(
    conn: Connection,
    start: datetime,
    end: datetime,
    *,
    station_ids: Collection[str] | None = None,
    after: tuple[datetime, str] | None = None,
    limit: int = 2000,
) -> list[Incident]:
    """One page of the incidents opened in [start, end), oldest first, after the (created_at, id)
    of the previous page's last row: a keyset walk that stays fast however deep it goes."""
    created, ident = t.incidents.c.created_at, t.incidents.c.id
    query = select(t.incidents).where(
        and_(created >= start, created < end, _within(t.incidents.c.station_id, station_ids))
    )
    if after is not None:
        query = query.where(or_(created > after[0], and_(created == after[0], ident > after[1])))
    query = query.order_by(created, ident).limit(limit)
    return [incident_from_row(r) for r in conn.execute(query)]


def count_incidents_created(
    conn: Connection, start: datetime, end: datetime, *, station_ids: Collection[str] | None = None
) -> int:
    created = t.incidents.c.created_at
    query = select(func.count()).where(
        and_(created >= start, created < end, _within(t.incidents.c.station_id, station_ids))
    )
    return int(conn.execute(query).scalar_one())


def incidents_created_between(
    conn: Connection, start: datetime, end: datetime, *, station_ids: Collection[str] | None = None
) -> list[Incident]:
    """Incidents opened in [start, end), oldest first (whatever their status now)."""
    query = (
        select(t.incidents)
        .where(
            and_(
                t.incidents.c.created_at >= start,
                t.incidents.c.created_at < end,
                _within(t.incidents.c.station_id, station_ids),
            )
        )
        .order_by(t.incidents.c.created_at, t.incidents.c.id)
    )
    return [incident_from_row(r) for r in conn.execute(query)]


def open_incidents_like(
    conn: Connection, type_code: str, created_from: datetime, created_to: datetime
) -> list[Incident]:
    """Open incidents of one type opened in [created_from, created_to]: duplicate candidates."""
    query = select(t.incidents).where(
        and_(
            t.incidents.c.type_code == type_code,
            t.incidents.c.status.in_([str(s) for s in OPEN_INCIDENT_STATUSES]),
            t.incidents.c.created_at >= created_from,
            t.incidents.c.created_at <= created_to,
        )
    )
    return [incident_from_row(r) for r in conn.execute(query)]


def incident_counts_by_status(
    conn: Connection, *, station_ids: Collection[str] | None = None
) -> dict[IncidentStatus, int]:
    query = (
        select(t.incidents.c.status, func.count())
        .where(_within(t.incidents.c.station_id, station_ids))
        .group_by(t.incidents.c.status)
    )
    return {IncidentStatus(status): int(n) for status, n in conn.execute(query)}


def unit_counts_by_status(
    conn: Connection, *, station_ids: Collection[str] | None = None
) -> dict[UnitStatus, int]:
    query = (
        select(t.units.c.status, func.count())
        .where(_within(t.units.c.station_id, station_ids))
        .group_by(t.units.c.status)
    )
    return {UnitStatus(status): int(n) for status, n in conn.execute(query)}


# ---------------------------------------------------------------- attachments

_ATTACHMENT_INFO = (
    t.attachments.c.id,
    t.attachments.c.incident_id,
    t.attachments.c.content_type,
    t.attachments.c.size,
    t.attachments.c.sha256,
    t.attachments.c.created_at,
    t.attachments.c.created_by,
)


def attachment_from_row(row: Any) -> AttachmentInfo:
    return AttachmentInfo(
        id=row.id,
        incident_id=row.incident_id,
        content_type=row.content_type,
        size=int(row.size),
        sha256=row.sha256,
        created_at=row.created_at,
        created_by=row.created_by,
    )


def insert_attachment(conn: Connection, info: AttachmentInfo, data: bytes) -> None:
    conn.execute(
        insert(t.attachments).values(
            id=info.id,
            incident_id=info.incident_id,
            content_type=info.content_type,
            size=info.size,
            sha256=info.sha256,
            created_at=info.created_at,
            created_by=info.created_by,
            data=data,
        )
    )


def list_attachments(conn: Connection, incident_id: str) -> list[AttachmentInfo]:
    """An incident's attachments, oldest first, without their bytes."""
    query = (
        select(*_ATTACHMENT_INFO)
        .where(t.attachments.c.incident_id == incident_id)
        .order_by(t.attachments.c.created_at, t.attachments.c.id)
    )
    return [attachment_from_row(r) for r in conn.execute(query)]


def get_attachment(conn: Connection, attachment_id: str) -> tuple[AttachmentInfo, bytes]:
    row = conn.execute(select(t.attachments).where(t.attachments.c.id == attachment_id)).first()
    if row is None:
        raise NotFound(
            f"no attachment {attachment_id!r}", code="attachment_not_found", attachment_id=attachment_id
        )
    return attachment_from_row(row), bytes(row.data)


# ---------------------------------------------------------------- idempotency keys


def get_idempotency_key(conn: Connection, username: str, key: str) -> Any:
    """The stored row of (username, key), or None."""
    query = select(t.idempotency_keys).where(
        and_(t.idempotency_keys.c.username == username, t.idempotency_keys.c.key == key)
    )
    return conn.execute(query).first()


def insert_idempotency_key(
    conn: Connection,
    *,
    username: str,
    key: str,
    fingerprint: str,
    created_at: datetime,
    response_status: int | None,
    response_body: bytes | None,
) -> None:
    """Record a key; a key already recorded raises IntegrityError (the caller decides what it means)."""
    conn.execute(
        insert(t.idempotency_keys).values(
            username=username,
            key=key,
            fingerprint=fingerprint,
            created_at=created_at,
            response_status=response_status,
            response_body=response_body,
        )
    )


def store_idempotency_response(conn: Connection, username: str, key: str, status: int, body: bytes) -> None:
    conn.execute(
        update(t.idempotency_keys)
        .where(and_(t.idempotency_keys.c.username == username, t.idempotency_keys.c.key == key))
        .values(response_status=status, response_body=body)
    )


def purge_idempotency_keys(conn: Connection, created_before: datetime) -> int:
    result = conn.execute(delete(t.idempotency_keys).where(t.idempotency_keys.c.created_at < created_before))
    return int(result.rowcount)


# ---------------------------------------------------------------- assignments


def assignment_from_row(row: Any) -> Assignment:
    return Assignment(
        incident_id=row.incident_id,
        unit_id=row.unit_id,
        dispatched_at=row.dispatched_at,
        ack_deadline=row.ack_deadline,
        dispatched_by=row.dispatched_by,
        acknowledged_at=row.acknowledged_at,
        released_at=row.released_at,
        escalated=row.escalated,
    )


def active_assignments(
    conn: Connection, *, incident_id: str | None = None, unit_id: str | None = None
) -> list[Assignment]:
    query = select(t.assignments).where(t.assignments.c.released_at.is_(None)).order_by(t.assignments.c.id)
    if incident_id is not None:
        query = query.where(t.assignments.c.incident_id == incident_id)
    if unit_id is not None:
        query = query.where(t.assignments.c.unit_id == unit_id)
    return [assignment_from_row(r) for r in conn.execute(query)]


def overdue_assignments(conn: Connection, now: datetime) -> list[Assignment]:
    query = select(t.assignments).where(
        and_(
            t.assignments.c.released_at.is_(None),
            t.assignments.c.acknowledged_at.is_(None),
            t.assignments.c.escalated.is_(False),
            t.assignments.c.ack_deadline <= now,
        )
    )
    # Several server processes may sweep at once: each claims the rows it locks, skipping the
    # others' (PostgreSQL); SQLite's IMMEDIATE transactions already serialise the sweeps.
    query = query.with_for_update(skip_locked=True)
    return [assignment_from_row(r) for r in conn.execute(query)]


# ---------------------------------------------------------------- writing a decision


def _update_versioned(
    conn: Connection, table: Table, row_id: str, version: int, values: dict[str, Any], *, what: str, code: str
) -> None:
    """Write a row only if it is still at the version the decision was made on."""
    result = conn.execute(
        update(table)
        .where(and_(table.c.id == row_id, table.c.version == version))
        .values(version=version + 1, **values)
    )
    if result.rowcount != 1:
        raise Conflict(f"{what} was changed by someone else; reload and try again", code=code, id=row_id)


def apply_decision(
    conn: Connection,
    decision: Decision,
    *,
    new_incident_ids: frozenset[str] = frozenset(),
    sealed: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[tuple[int, DomainEvent]]:
    """Write everything a command decided; returns the stored events with their log ids.
    ``sealed``: for new incidents, their encrypted personal-data columns (written once, at
    intake; updates never touch them)."""
    for incident in decision.incidents:
        if incident.id in new_incident_ids:
            personal = (sealed or {}).get(incident.id, {})
            conn.execute(
                insert(t.incidents).values(
                    id=incident.id, version=1, **_incident_values(incident), **personal
                )
            )
            continue
        _update_versioned(
            conn,
            t.incidents,
            incident.id,
            incident.version,
            _incident_values(incident),
            what=f"incident {incident.id}",
            code="stale_incident",
        )
    for unit in decision.units:
        _update_versioned(
            conn,
            t.units,
            unit.id,
            unit.version,
            _unit_values(unit),
            what=f"unit {unit.callsign}",
            code="stale_unit",
        )
    for a in decision.assignments:
        values = {
            "dispatched_by": a.dispatched_by,
            "ack_deadline": a.ack_deadline,
            "acknowledged_at": a.acknowledged_at,
            "released_at": a.released_at,
            "escalated": a.escalated,
        }
        result = conn.execute(
            update(t.assignments)
            .where(
                and_(
                    t.assignments.c.incident_id == a.incident_id,
                    t.assignments.c.unit_id == a.unit_id,
                    t.assignments.c.dispatched_at == a.dispatched_at,
                )
            )
            .values(**values)
        )
        if result.rowcount == 0:
            conn.execute(
                insert(t.assignments).values(
                    incident_id=a.incident_id, unit_id=a.unit_id, dispatched_at=a.dispatched_at, **values
                )
            )
    return append_events(conn, decision.events)


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
    "active_assignments",
    "append_events",
    "apply_decision",
    "attachment_from_row",
    "events_after",
    "get_attachment",
    "get_idempotency_key",
    "get_incident",
    "get_unit",
    "incident_counts_by_status",
    "incident_events",
    "incidents_created_between",
    "insert_attachment",
    "insert_idempotency_key",
    "insert_station",
    "insert_unit",
    "last_event_id",
    "list_attachments",
    "list_incidents",
    "list_stations",
    "list_units",
    "lock_units",
    "open_incidents_like",
    "overdue_assignments",
    "purge_idempotency_keys",
    "store_idempotency_response",
    "unit_counts_by_status",
    "unit_events",
    "unit_status_actors",
]
