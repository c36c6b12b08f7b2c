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
from functools import lru_cache
from typing import Any, NamedTuple

import pydantic_core
from sqlalchemy import Connection, delete, exists, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from jingwu.domain.gps import Fix, Reason, Verdict
from jingwu.errors import NotFound
from jingwu.store import tables as t

PARTITION_SCHEMA = "position_parts"
_PARTITION_NAME = re.compile(r"^positions_p(\d{8})$")

P = t.positions.c


class HistoryRow(NamedTuple):
    """One fix for the history (a named tuple: one is made per fix stored)."""

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


# The ingest's three statements run for every batch of hundreds of fixes, so they go to the
# driver directly (SQLAlchemy's per-row parameter processing cost more than the database's own
# work). Times are written exactly as SQLAlchemy writes them: naive UTC text with microseconds
# on SQLite (whose comparisons are textual), timestamptz on PostgreSQL.


# Both are cached: the fixes of a batch often share their second (trackers report on GPS time),
# and a fix's time is written twice (history and last-known) and read back as the next anchor.
@lru_cache(maxsize=16_384)
def _sqlite_time(ts: datetime) -> str:
    if ts.tzinfo is not UTC:
        ts = ts.astimezone(UTC)
    return ts.isoformat(sep=" ", timespec="microseconds")[:26]  # without the "+00:00"


@lru_cache(maxsize=16_384)
def _read_time(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# PostgreSQL gets each column of a batch as one array literal, written here: psycopg adapts a
# Python list element by element in Python, which cost more than the insert itself. The literal
# is the column's JSON text with braces for brackets, written by pydantic's compiled serialiser
# (a tenth of the time of repr per number): JSON's numbers, its null and (for text without
# control characters) its quoted strings are exactly what an array literal reads.


def _json_array(values: list[Any]) -> str:
    text = pydantic_core.to_json(values, inf_nan_mode="constants").decode()  # NaN, Infinity as PG
    return "{" + text[1:-1] + "}"


def _pg_text(value: str | None) -> str:
    if value is None:
        return "NULL"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _pg_texts(values: Iterable[str | None]) -> str:
    texts = list(values)
    literal = _json_array(texts)
    if "\\" not in literal:  # nothing escaped (the usual case): JSON's quoting is the array's
        return literal
    # JSON escapes a newline as \n, which an array literal reads as "n": quote these ourselves.
    return "{" + ",".join(map(_pg_text, texts)) + "}"


def _pg_floats(values: Iterable[float | None]) -> str:
    return _json_array(list(values))


@lru_cache(maxsize=16_384)
def utc_text(ts: datetime) -> str:
    """An instant as ISO 8601 in UTC: PostgreSQL's time literals and the live stream's fix times
    (cached like the SQLite text above)."""
    return ts.astimezone(UTC).isoformat()


def _pg_times(values: Iterable[datetime]) -> str:
    texts = list(map(utc_text, values))
    return '{"' + '","'.join(texts) + '"}' if texts else "{}"


class _DriverCursor:
    """The driver's cursor inside the connection's current transaction, raising the driver's
    errors as SQLAlchemy raises every other statement's (a ``DBAPIError`` subclass, the driver's
    own as ``orig``): callers retry a deadlock or a missing partition here as anywhere else."""

    __slots__ = ("_cursor", "_error")

    def __init__(self, conn: Connection) -> None:
        self._cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        self._error: type[Exception] = conn.dialect.loaded_dbapi.Error

    def execute(self, statement: str, parameters: Sequence[Any] = ()) -> None:
        try:
            self._cursor.execute(statement, parameters)
        except self._error as exc:
            # Not the parameters: a batch's are thousands of values.
            raise DBAPIError.instance(statement, None, exc, self._error) from exc

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            self._cursor.executemany(statement, rows)
        except self._error as exc:
            raise DBAPIError.instance(statement, None, exc, self._error) from exc

    def fetchall(self) -> list[Any]:
        return list(self._cursor.fetchall())


def _cursor(conn: Connection) -> _DriverCursor:
    return _DriverCursor(conn)


def _postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def lock_anchors(conn: Connection, unit_ids: Collection[str]) -> dict[str, Fix | None]:
    """Each unit's last accepted position (the GPS filter's anchor), its row locked for the rest
    of the transaction on PostgreSQL (SQLite's write transaction is exclusive already), in id
    order so that two ingests never deadlock. Unknown units are refused (404 ``unit_not_found``)."""
    ids = sorted(unit_ids)
    columns = (
        "SELECT id, pos_lat, pos_lon, pos_ts, pos_speed, pos_heading, pos_accuracy, pos_altitude FROM units "
    )
    cursor = _cursor(conn)
    if _postgres(conn):
        cursor.execute(columns + "WHERE id = ANY(%s::text[]) ORDER BY id FOR UPDATE", (_pg_texts(ids),))
    else:
        cursor.execute(columns + f"WHERE id IN ({','.join('?' * len(ids))})", ids)
    found: dict[str, Fix | None] = {
        unit_id: None
        if lat is None or lon is None or ts is None
        else Fix(_read_time(ts), lat, lon, speed, heading, altitude, accuracy)  # type: ignore[arg-type]
        for unit_id, lat, lon, ts, speed, heading, accuracy, altitude in cursor.fetchall()
    }
    missing = sorted(set(ids) - set(found))
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


_HISTORY_COLUMNS = (
    "unit_id, ts, lat, lon, speed, heading, altitude, accuracy, battery, source, verdict, reason, received_at"
)
#: The batch's rows on PostgreSQL, from one array per column.
_PG_ROWS = (
    "unnest(%s::text[], %s::timestamptz[], %s::float8[], %s::float8[], %s::float8[], %s::float8[], "
    "%s::float8[], %s::float8[], %s::float8[], %s::text[], %s::text[], %s::text[], %s::timestamptz[]) "
    f"AS v({_HISTORY_COLUMNS})"
)
#: SQLite binds at most 32,766 values per statement: 13 columns × 2,000 rows stays well within.
_SQLITE_ROWS_PER_INSERT = 2_000


def insert_history(conn: Connection, rows: Sequence[HistoryRow]) -> set[tuple[str, datetime]]:
    """Store fixes in batched statements; returns the (unit, time) keys it skipped because they
    were stored already (a retried upload): not an error, and usually none."""
    if not rows:
        return set()
    cursor = _cursor(conn)
    postgres = _postgres(conn)
    inserts: list[tuple[str, Sequence[object]]]
    if postgres:  # one statement for the whole batch, the rows as one array per column
        inserts = [
            (f"INSERT INTO positions ({_HISTORY_COLUMNS}) SELECT * FROM {_PG_ROWS}", _pg_columns(rows))
        ]
    else:
        inserts = [
            (
                f"INSERT INTO positions ({_HISTORY_COLUMNS}) VALUES {_sqlite_rows(len(chunk))}",
                _sqlite_values(chunk),
            )
            for chunk in _chunks(rows)
        ]
    # A plain insert first, in a savepoint (released by the commit): a repeat of a stored fix is
    # rare, and checking every row for one (ON CONFLICT) cost the database a third more.
    cursor.execute("SAVEPOINT position_rows")
    try:
        for statement, parameters in inserts:
            cursor.execute(statement, parameters)
        return set()
    except IntegrityError as exc:
        repeat = getattr(exc.orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(exc.orig)
        if not repeat:
            raise
    cursor.execute("ROLLBACK TO SAVEPOINT position_rows")
    # Again, skipping the repeats.
    if postgres:
        # Only the keys that were not inserted come back (decoding 500 returned rows cost more
        # than inserting them).
        ((_, columns),) = inserts
        cursor.execute(
            f"WITH v AS (SELECT * FROM {_PG_ROWS}), "
            f"stored AS (INSERT INTO positions ({_HISTORY_COLUMNS}) SELECT * FROM v "
            "ON CONFLICT (unit_id, ts) DO NOTHING RETURNING unit_id, ts) "
            "SELECT v.unit_id, v.ts FROM v WHERE NOT EXISTS "
            "(SELECT 1 FROM stored s WHERE s.unit_id = v.unit_id AND s.ts = v.ts)",
            columns,
        )
        return {(unit_id, _read_time(ts)) for unit_id, ts in cursor.fetchall()}  # type: ignore[misc]
    skipped: set[tuple[str, datetime]] = set()
    for chunk, (statement, values) in zip(_chunks(rows), inserts, strict=True):
        cursor.execute(statement + " ON CONFLICT (unit_id, ts) DO NOTHING RETURNING unit_id, ts", values)
        stored = set(cursor.fetchall())
        if len(stored) < len(chunk):
            # What RETURNING names (the time as text), to the instant sent.
            sent = {(r.unit_id, _sqlite_time(r.fix.ts)): r.fix.ts for r in chunk}
            skipped.update((key[0], sent[key]) for key in sent.keys() - stored)
    return skipped


def _pg_columns(rows: Sequence[HistoryRow]) -> tuple[str, ...]:
    return (
        _pg_texts(r.unit_id for r in rows),
        _pg_times(r.fix.ts for r in rows),
        _pg_floats(r.fix.lat for r in rows),
        _pg_floats(r.fix.lon for r in rows),
        _pg_floats(r.fix.speed for r in rows),
        _pg_floats(r.fix.heading for r in rows),
        _pg_floats(r.fix.altitude for r in rows),
        _pg_floats(r.fix.accuracy for r in rows),
        _pg_floats(r.fix.battery for r in rows),
        _pg_texts(r.source for r in rows),
        _pg_texts(str(r.verdict) for r in rows),
        _pg_texts(None if r.reason is None else str(r.reason) for r in rows),
        _pg_times(r.received_at for r in rows),
    )


def _chunks(rows: Sequence[HistoryRow]) -> list[Sequence[HistoryRow]]:
    return [
        rows[first : first + _SQLITE_ROWS_PER_INSERT]
        for first in range(0, len(rows), _SQLITE_ROWS_PER_INSERT)
    ]


@lru_cache(maxsize=8)
def _sqlite_rows(n: int) -> str:
    return ",".join(["(?,?,?,?,?,?,?,?,?,?,?,?,?)"] * n)


def _sqlite_values(rows: Sequence[HistoryRow]) -> list[object]:
    values: list[object] = []
    for r in rows:
        f = r.fix
        values += (
            r.unit_id,
            _sqlite_time(f.ts),
            f.lat,
            f.lon,
            f.speed,
            f.heading,
            f.altitude,
            f.accuracy,
            f.battery,
            r.source,
            str(r.verdict),
            None if r.reason is None else str(r.reason),
            _sqlite_time(r.received_at),
        )
    return values


def update_last_known(conn: Connection, latest: Mapping[str, Fix]) -> None:
    """Move units to their newest accepted fix (the last-known position the console and the
    dispatch core read). Never back in time: a row holding a newer fix is left as it is."""
    if not latest:
        return
    moves = sorted(latest.items())
    cursor = _cursor(conn)
    if _postgres(conn):
        cursor.execute(
            "UPDATE units SET pos_lat = v.lat, pos_lon = v.lon, pos_heading = v.heading, "
            "pos_speed = v.speed, pos_ts = v.ts, pos_accuracy = v.accuracy, pos_altitude = v.altitude "
            "FROM unnest(%s::text[], %s::float8[], %s::float8[], %s::float8[], %s::float8[], "
            "%s::timestamptz[], %s::float8[], %s::float8[]) "
            "AS v(id, lat, lon, heading, speed, ts, accuracy, altitude) "
            "WHERE units.id = v.id AND (units.pos_ts IS NULL OR units.pos_ts < v.ts)",
            (
                _pg_texts(unit_id for unit_id, _ in moves),
                _pg_floats(f.lat for _, f in moves),
                _pg_floats(f.lon for _, f in moves),
                _pg_floats(f.heading for _, f in moves),
                _pg_floats(f.speed for _, f in moves),
                _pg_times(f.ts for _, f in moves),
                _pg_floats(f.accuracy for _, f in moves),
                _pg_floats(f.altitude for _, f in moves),
            ),
        )
        return
    cursor.executemany(
        "UPDATE units SET pos_lat = ?, pos_lon = ?, pos_heading = ?, pos_speed = ?, pos_ts = ?, "
        "pos_accuracy = ?, pos_altitude = ? WHERE id = ? AND (pos_ts IS NULL OR pos_ts < ?)",
        [
            (f.lat, f.lon, f.heading, f.speed, ts, f.accuracy, f.altitude, unit_id, ts)
            for unit_id, f in moves
            for ts in (_sqlite_time(f.ts),)
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
    "utc_text",
]
