"""Rows ↔ domain records (stations, units, incidents, assignments), and the writes of a Decision
with optimistic version checks; the event log is :mod:`.events`, incidents' photos
:mod:`.attachments`, idempotency keys :mod:`.idempotency_keys`.

Every write of an incident or unit names the version it was read at; a row that moved on in the
meantime makes the whole command fail with Conflict and roll back, so two dispatchers racing for
the same unit get exactly one winner — on SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, func, insert, or_, select, true, update

from jingwu.domain.areas import area_from_stored
from jingwu.domain.events import DomainEvent
from jingwu.domain.geo import GeoPoint
from jingwu.domain.model import Assignment, Incident, Position, Station, Unit
from jingwu.domain.rules import Decision
from jingwu.domain.status import OPEN_INCIDENT_STATUSES, IncidentStatus, SourceChannel, UnitKind, UnitStatus
from jingwu.errors import Conflict, NotFound
from jingwu.store import tables as t
from jingwu.store.events import append_events

# ---------------------------------------------------------------- stations


def station_from_row(row: Any) -> Station:
    return Station(
        id=row.id,
        name=row.name,
        district=row.district,
        jurisdiction=area_from_stored(row.jurisdiction),
        address=row.address,
        retired_at=row.retired_at,
        version=row.version,
    )


def list_stations(conn: Connection, *, include_retired: bool = True) -> list[Station]:
    query = select(t.stations).order_by(t.stations.c.id)
    if not include_retired:
        query = query.where(t.stations.c.retired_at.is_(None))
    return [station_from_row(r) for r in conn.execute(query)]


def get_station(conn: Connection, station_id: str) -> Station:
    row = conn.execute(select(t.stations).where(t.stations.c.id == station_id)).first()
    if row is None:
        raise NotFound(f"no station {station_id!r}", code="station_not_found", station_id=station_id)
    return station_from_row(row)


def _station_values(station: Station) -> dict[str, Any]:
    return {
        "name": station.name,
        "district": station.district,
        "jurisdiction": station.jurisdiction.to_geojson(),
        "address": station.address,
        "retired_at": station.retired_at,
    }


def insert_station(conn: Connection, station: Station) -> None:
    conn.execute(insert(t.stations).values(id=station.id, version=1, **_station_values(station)))


def update_station(conn: Connection, station: Station) -> None:
    """Write a station read at ``station.version`` (Conflict if someone changed it meanwhile)."""
    _update_versioned(
        conn,
        t.stations,
        station.id,
        station.version,
        _station_values(station),
        what=f"station {station.name}",
        code="stale_station",
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
        radio_id=row.radio_id,
        terminal_id=row.terminal_id,
        retired_at=row.retired_at,
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
        "radio_id": unit.radio_id,
        "terminal_id": unit.terminal_id,
        "retired_at": unit.retired_at,
    }


def insert_unit(conn: Connection, unit: Unit) -> None:
    conn.execute(insert(t.units).values(id=unit.id, version=unit.version, **_unit_values(unit)))


def _within(column: Any, station_ids: Collection[str] | None) -> Any:
    """A filter to a jurisdiction's stations (None: no filter, the city). Records of no station
    fall outside every list of stations: only the city sees them."""
    return true() if station_ids is None else column.in_(sorted(station_ids))


def list_units(
    conn: Connection,
    *,
    ids: Iterable[str] | None = None,
    station_ids: Collection[str] | None = None,
    include_retired: bool = False,
) -> list[Unit]:
    """The fleet (retired units only when asked: the board and every list leave them out)."""
    query = select(t.units).where(_within(t.units.c.station_id, station_ids)).order_by(t.units.c.callsign)
    if not include_retired:
        query = query.where(t.units.c.retired_at.is_(None))
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


def incident_values(incident: Incident) -> dict[str, Any]:
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
        .where(_within(t.units.c.station_id, station_ids), t.units.c.retired_at.is_(None))
        .group_by(t.units.c.status)
    )
    return {UnitStatus(status): int(n) for status, n in conn.execute(query)}


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


def overdue_assignments(conn: Connection, now: datetime, *, claim: bool = True) -> list[Assignment]:
    """Unacknowledged dispatches past their deadline; ``claim=False``: a plain read, locking none."""
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
    if claim:
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
                insert(t.incidents).values(id=incident.id, version=1, **incident_values(incident), **personal)
            )
            continue
        _update_versioned(
            conn,
            t.incidents,
            incident.id,
            incident.version,
            incident_values(incident),
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


__all__ = [
    "active_assignments",
    "apply_decision",
    "get_incident",
    "get_station",
    "get_unit",
    "incident_counts_by_status",
    "incident_values",
    "incidents_created_between",
    "insert_station",
    "insert_unit",
    "list_incidents",
    "list_stations",
    "list_units",
    "lock_units",
    "open_incidents_like",
    "overdue_assignments",
    "unit_counts_by_status",
    "update_station",
]
