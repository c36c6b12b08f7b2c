"""What a model's run or back-test reads: only the sources its rule needs and the model lists
(purpose limitation), only the columns the rule uses, over one period.

Never read: reporters, parties, descriptions, notes, plates in the clear. A plate is matched by its
keyed blind index, the same in the gates' access events and the patrol checks, and shown masked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, and_, or_, select

from jingwu.domain.devices import DeviceKind
from jingwu.domain.disputes import address_key
from jingwu.domain.warning_models import Rule, Source, sources_read
from jingwu.domain.warning_rules import DisputeRecord, IncidentRecord, Records, Sighting
from jingwu.store import checks_tables as c
from jingwu.store import disputes_tables as d
from jingwu.store import tables as t


def incidents(
    conn: Connection, codes: frozenset[str], start: datetime, end: datetime
) -> list[IncidentRecord]:
    """Incidents of ``codes`` created in ``(start, end]``; duplicates merged into another are not
    counted again."""
    if not codes:
        return []
    i = t.incidents.c
    rows = conn.execute(
        select(i.id, i.type_code, i.created_at, i.lat, i.lon, i.station_id, i.address).where(
            i.type_code.in_(sorted(codes)),
            i.created_at > start,
            i.created_at <= end,
            i.merged_into.is_(None),
        )
    )
    return [
        IncidentRecord(
            id=r.id,
            type_code=r.type_code,
            at=r.created_at,
            lat=r.lat,
            lon=r.lon,
            station_id=r.station_id,
            address=r.address,
            address_key=address_key(r.address),
        )
        for r in rows
    ]


def disputes(conn: Connection, start: datetime, end: datetime) -> list[DisputeRecord]:
    """Disputes open at some time within ``(start, end]``: their place and when open, nothing else."""
    q = d.disputes.c
    rows = conn.execute(
        select(q.id, q.lat, q.lon, q.address_key, q.station_id, q.created_at, q.closed_at).where(
            q.created_at <= end, or_(q.closed_at.is_(None), q.closed_at > start)
        )
    )
    return [
        DisputeRecord(r.id, r.lat, r.lon, r.address_key, r.station_id, r.created_at, r.closed_at)
        for r in rows
    ]


def gate_sightings(conn: Connection, start: datetime, end: datetime) -> list[Sighting]:
    """Plates read at the community gates in ``(start, end]`` (by the gates' (device, time) index)."""
    a, g = t.access_events.c, t.community_devices.c
    rows = conn.execute(
        select(a.id, a.plate_index, a.plate_masked, a.ts, g.lat, g.lon, g.station_id)
        .select_from(t.access_events.join(t.community_devices, a.device_id == g.id))
        .where(
            g.kind == DeviceKind.VEHICLE_GATE.value,
            a.plate_index.is_not(None),
            and_(a.ts > start, a.ts <= end),
        )
    )
    return [
        Sighting(
            Source.ACCESS_EVENTS, str(r.id), r.plate_index, r.plate_masked, r.ts, r.lat, r.lon, r.station_id
        )
        for r in rows
    ]


def check_sightings(conn: Connection, start: datetime, end: datetime) -> list[Sighting]:
    """Vehicles checked at a known place in ``(start, end]``, and whether the check hit a list."""
    p = c.patrol_checks.c
    rows = conn.execute(
        select(
            p.id, p.subject_index, p.subject_masked, p.checked_at, p.lat, p.lon, p.station_id, p.result
        ).where(
            p.kind == "vehicle",
            p.lat.is_not(None),
            p.lon.is_not(None),
            p.checked_at > start,
            p.checked_at <= end,
        )
    )
    return [
        Sighting(
            Source.CHECKS,
            r.id,
            r.subject_index,
            r.subject_masked,
            r.checked_at,
            r.lat,
            r.lon,
            r.station_id,
            hit=r.result == "hit",
        )
        for r in rows
    ]


def load(conn: Connection, rule: Rule, start: datetime, end: datetime) -> tuple[Records, dict[str, int]]:
    """The records the rule may read over ``(start, end]``, and how many of each source were read."""
    read = sources_read(rule)
    found_incidents = incidents(conn, rule.type_codes, start, end) if Source.INCIDENTS in read else []
    found_disputes = disputes(conn, start, end) if Source.DISPUTES in read else []
    sightings = gate_sightings(conn, start, end) if Source.ACCESS_EVENTS in read else []
    checks = check_sightings(conn, start, end) if Source.CHECKS in read else []
    counts = {
        Source.INCIDENTS: len(found_incidents),
        Source.DISPUTES: len(found_disputes),
        Source.ACCESS_EVENTS: len(sightings),
        Source.CHECKS: len(checks),
    }
    records = Records(
        read=read,
        incidents=tuple(found_incidents),
        disputes=tuple(found_disputes),
        sightings=tuple(sightings + checks),
    )
    return records, {str(source): counts[source] for source in sorted(read)}


__all__ = ["check_sightings", "disputes", "gate_sightings", "incidents", "load"]
