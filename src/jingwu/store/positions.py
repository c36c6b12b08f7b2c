"""The position history and the last-known positions: rows in, rows out, and the partitions.

On PostgreSQL ``positions`` is partitioned by range of ``ts`` into UTC days, one table each in
the schema ``position_parts`` (``positions_p20261125`` holds 2026-11-25 00:00 ≤ ts < 2026-11-26
00:00 UTC). Days are made ahead of time by the maintenance step and on demand before a late fix
for an older day is stored (there is no default partition: a row in it would block making its
day's partition later). Retention drops whole days: no row-by-row delete, no vacuum debt. On
SQLite the one table is trimmed by primary-key range deletes in small batches, so that the write
lock is never held for long.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Connection, and_, bindparam, delete, exists, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from jingwu.domain.gps import Fix, Reason, Verdict
from jingwu.errors import NotFound
from jingwu.store import tables as t

PARTITION_SCHEMA = "position_parts"
_PARTITION_NAME = re.compile(r"^positions_p(\d{8})$")

P = t.positions.c


@dataclass(frozen=True, slots=True)
class HistoryRow:
    unit_id: str
    fix: Fix
    source: str
    verdict: Verdict
    reason: Reason | None
    received_at: datetime


@dataclass(frozen=True, slots=True)
class TrackPoint:
    ts: datetime
    lat: float
    lon: float
    speed: float | None
    heading: float | None
    altitude: float | None
    accuracy: float | None
    battery: float | None
    source: str
    verdict: Verdict
    reason: Reason | None


# ---------------------------------------------------------------- ingest


def lock_anchors(conn: Connection, unit_ids: Collection[str]) -> dict[str, Fix | None]:
    """Each unit's last accepted position (the GPS filter's anchor), its row locked for the rest
    of the transaction on PostgreSQL (SQLite's write transaction is exclusive already), in id
    order so that two ingests never deadlock. The accuracy comes from the history row of that
    fix (None where it was placed without one, e.g. by the demo's simulator). Unknown units are
    refused (404 ``unit_not_found``)."""
    u = t.units.c
    query = (
        select(u.id, u.pos_lat, u.pos_lon, u.pos_ts, u.pos_speed, u.pos_heading, P.accuracy, P.altitude)
        .select_from(t.units.outerjoin(t.positions, and_(P.unit_id == u.id, P.ts == u.pos_ts)))
        .where(u.id.in_(sorted(unit_ids)))
        .order_by(u.id)
        .with_for_update(of=t.units)
    )
    found: dict[str, Fix | None] = {}
    for row in conn.execute(query):
        found[row.id] = None
        if row.pos_lat is not None and row.pos_lon is not None and row.pos_ts is not None:
            found[row.id] = Fix(
                ts=row.pos_ts,
                lat=row.pos_lat,
                lon=row.pos_lon,
                speed=row.pos_speed,
                heading=row.pos_heading,
                altitude=row.altitude,
                accuracy=row.accuracy,
            )
    missing = sorted(set(unit_ids) - set(found))
    if missing:
        raise NotFound(f"no unit {missing[0]!r}", code="unit_not_found", unit_id=missing[0])
    return found


def jump_suspects(conn: Connection, unit_id: str, after: datetime, limit: int) -> tuple[Fix, ...]:
    """The newest ``limit`` fixes of the unit rejected as impossible jumps since ``after`` (its
    anchor's time), oldest first: the candidates for re-anchoring its track."""
    if limit <= 0:
        return ()
    rows = conn.execute(
        select(P.ts, P.lat, P.lon, P.speed, P.heading, P.altitude, P.accuracy, P.battery)
        .where(
            P.unit_id == unit_id,
            P.ts > after,
            P.verdict == str(Verdict.REJECTED),
            P.reason == str(Reason.IMPOSSIBLE_JUMP),
        )
        .order_by(P.ts.desc())
        .limit(limit)
    ).all()
    return tuple(
        Fix(
            ts=r.ts,
            lat=r.lat,
            lon=r.lon,
            speed=r.speed,
            heading=r.heading,
            altitude=r.altitude,
            accuracy=r.accuracy,
            battery=r.battery,
        )
        for r in reversed(rows)
    )


def insert_history(conn: Connection, rows: Sequence[HistoryRow]) -> set[tuple[str, datetime]]:
    """Store fixes in one batched statement; returns the (unit, time) keys actually stored. A
    fix whose key is stored already (a retried upload) is skipped, not an error."""
    if not rows:
        return set()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(t.positions)
        .on_conflict_do_nothing(index_elements=[P.unit_id, P.ts])
        .returning(P.unit_id, P.ts)
    )
    values = [
        {
            "unit_id": r.unit_id,
            "ts": r.fix.ts,
            "lat": r.fix.lat,
            "lon": r.fix.lon,
            "speed": r.fix.speed,
            "heading": r.fix.heading,
            "altitude": r.fix.altitude,
            "accuracy": r.fix.accuracy,
            "battery": r.fix.battery,
            "source": r.source,
            "verdict": str(r.verdict),
            "reason": None if r.reason is None else str(r.reason),
            "received_at": r.received_at,
        }
        for r in rows
    ]
    result = conn.execute(statement, values)
    return {(row.unit_id, row.ts) for row in result}


def update_last_known(conn: Connection, latest: Mapping[str, Fix]) -> None:
    """Move units to their newest accepted fix (the last-known position the console and the
    dispatch core read). Never back in time: a row holding a newer fix is left as it is."""
    if not latest:
        return
    u = t.units.c
    conn.execute(
        update(t.units)
        .where(and_(u.id == bindparam("_uid"), or_(u.pos_ts.is_(None), u.pos_ts < bindparam("_ts"))))
        .values(
            pos_lat=bindparam("_lat"),
            pos_lon=bindparam("_lon"),
            pos_heading=bindparam("_heading"),
            pos_speed=bindparam("_speed"),
            pos_ts=bindparam("_ts"),
        ),
        [
            {
                "_uid": unit_id,
                "_lat": f.lat,
                "_lon": f.lon,
                "_heading": f.heading,
                "_speed": f.speed,
                "_ts": f.ts,
            }
            for unit_id, f in sorted(latest.items())
        ],
    )


# ---------------------------------------------------------------- reading


def track(
    conn: Connection,
    unit_id: str,
    start: datetime,
    end: datetime,
    *,
    include_rejected: bool,
    limit: int,
) -> list[TrackPoint]:
    """The unit's fixes with start ≤ ts < end, oldest first, at most ``limit``."""
    query = select(t.positions).where(P.unit_id == unit_id, P.ts >= start, P.ts < end)
    if not include_rejected:
        query = query.where(P.verdict != str(Verdict.REJECTED))
    rows = conn.execute(query.order_by(P.ts).limit(limit))
    return [
        TrackPoint(
            ts=r.ts,
            lat=r.lat,
            lon=r.lon,
            speed=r.speed,
            heading=r.heading,
            altitude=r.altitude,
            accuracy=r.accuracy,
            battery=r.battery,
            source=r.source,
            verdict=Verdict(r.verdict),
            reason=None if r.reason is None else Reason(r.reason),
        )
        for r in rows
    ]


# ---------------------------------------------------------------- PostgreSQL partitions


def partition_name(day: date) -> str:
    return f"positions_p{day:%Y%m%d}"


def partition_days(conn: Connection) -> set[date]:
    """The UTC days that have a partition."""
    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE i.inhparent = to_regclass('positions') AND n.nspname = :schema"
        ),
        {"schema": PARTITION_SCHEMA},
    ).scalars()
    days = set()
    for name in rows:
        match = _PARTITION_NAME.match(name)
        if match:
            days.add(datetime.strptime(match.group(1), "%Y%m%d").date())
    return days


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def create_partition(conn: Connection, day: date) -> None:
    """Make one day's partition (no-op when it exists). Attaching takes a brief lock on the
    parent table; ``lock_timeout`` bounds the wait behind a long reader."""
    start, end = _day_start(day), _day_start(day + timedelta(days=1))
    conn.execute(text("SET LOCAL lock_timeout = '5s'"))
    conn.execute(
        text(
            f"CREATE TABLE IF NOT EXISTS {PARTITION_SCHEMA}.{partition_name(day)} "
            f"PARTITION OF positions FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
        )
    )


def drop_partition(conn: Connection, day: date) -> None:
    conn.execute(text("SET LOCAL lock_timeout = '5s'"))
    conn.execute(text(f"DROP TABLE IF EXISTS {PARTITION_SCHEMA}.{partition_name(day)}"))


def utc_days(instants: Iterable[datetime]) -> set[date]:
    return {i.astimezone(UTC).date() for i in instants}


# ---------------------------------------------------------------- SQLite retention


def units_with_history_before(conn: Connection, cutoff: datetime) -> list[str]:
    """Units that have fixes older than ``cutoff`` (one primary-key probe per unit)."""
    u = t.units.c
    has_old = exists().where(P.unit_id == u.id, P.ts < cutoff)
    return list(conn.execute(select(u.id).where(has_old).order_by(u.id)).scalars())


def delete_history_before(conn: Connection, unit_id: str, cutoff: datetime, batch: int) -> int:
    """Delete up to ``batch`` of the unit's oldest fixes before ``cutoff``; returns how many."""
    oldest = select(P.ts).where(P.unit_id == unit_id, P.ts < cutoff).order_by(P.ts).limit(batch)
    result = conn.execute(delete(t.positions).where(P.unit_id == unit_id, P.ts.in_(oldest.scalar_subquery())))
    return int(result.rowcount)


def count_history(conn: Connection, unit_id: str | None = None) -> int:
    """Rows of history (of one unit, or all): for tests and the command line."""
    query = select(func.count()).select_from(t.positions)
    if unit_id is not None:
        query = query.where(P.unit_id == unit_id)
    return int(conn.execute(query).scalar_one())


__all__ = [
    "PARTITION_SCHEMA",
    "HistoryRow",
    "TrackPoint",
    "count_history",
    "create_partition",
    "delete_history_before",
    "drop_partition",
    "insert_history",
    "jump_suspects",
    "lock_anchors",
    "partition_days",
    "partition_name",
    "track",
    "units_with_history_before",
    "update_last_known",
    "utc_days",
]
