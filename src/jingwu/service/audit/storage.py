"""The audit chain in the database: appending a record inside the caller's write transaction,
pruning the oldest ones, reading them back.

Appending is serialised across threads and processes: ids are assigned as the previous id + 1
while holding a lock on the one ``audit_head`` row (``SELECT … FOR UPDATE`` on PostgreSQL, which
under READ COMMITTED also re-reads the newest committed head once the lock is granted; on SQLite
every write transaction begins IMMEDIATE, which takes the database's write lock before the head
is read). The head row is updated in the same transaction, so it always names the newest record:
cutting records off the tail is caught by comparing the last record with the head. Someone who can
rewrite the table *and* the head can still re-write history from some point on; ``jingwu audit
verify`` prints the head (id and hash) so that it can be anchored off-site (a printed log, a
ticket, another system), and ``--anchor ID:HASH`` checks that an anchored record is still there.

Retention (:func:`prune`, ``jingwu audit prune``; never automatic) deletes the oldest records, a
contiguous prefix of the chain, in one transaction under the same head lock as appends, and
records where it stopped as the *base* on the head row: the last pruned record's id and hash
(0 and 64 zeros before any prune). Verification then starts there (service.audit.chain). The
prune appends an ``audit.pruned`` record naming the base in the same transaction, and
verification requires the newest such record to name the head's base: moving the base to hide
deleted records then also takes adding an ``audit.pruned`` record (in plain view in the log) or
rewriting the later ones (caught by anchors). A pruned log proves what remains from the base on;
the printed base, anchored off-site, proves the prune took off only the old end.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from jingwu.errors import SystemFault
from jingwu.service.audit.chain import PRUNED_ACTION, AuditRecord, Head, Outcome, iso_utc, record_hash
from jingwu.store import tables as t

HEAD_ROW_ID = 1


def _record_from_row(row: Any) -> AuditRecord:
    return AuditRecord(
        id=int(row.id),
        ts=row.ts,
        actor=row.actor,
        action=row.action,
        target=row.target,
        outcome=row.outcome,
        source=row.source,
        reason=row.reason,
        details=row.details or {},
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def _lock_head(conn: Connection) -> Any:
    """The head row, locked until the transaction ends (see the module's docstring)."""
    head = conn.execute(
        select(
            t.audit_head.c.last_id,
            t.audit_head.c.last_hash,
            t.audit_head.c.base_id,
            t.audit_head.c.base_hash,
        )
        .where(t.audit_head.c.id == HEAD_ROW_ID)
        .with_for_update()
    ).first()
    if head is None:
        raise SystemFault(
            "the audit log's head row is missing; run `jingwu audit verify`", code="audit_broken"
        )
    return head


def append(
    conn: Connection,
    *,
    ts: datetime,
    action: str,
    outcome: Outcome | str = Outcome.OK,
    actor: str | None = None,
    target: str | None = None,
    source: str | None = None,
    reason: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditRecord:
    """Append one record inside the caller's write transaction (it commits or rolls back with it).

    Serialised by the lock on the head row (see the module's docstring); ``conn`` must be a
    ``write_transaction`` so that on SQLite the transaction began IMMEDIATE."""
    head = _lock_head(conn)
    # Round-trip the details through JSON now, so that the hash is of what the database returns.
    clean_details: dict[str, Any] = json.loads(json.dumps(dict(details or {}), allow_nan=False))
    fields: dict[str, Any] = {
        "id": int(head.last_id) + 1,
        "ts": ts,
        "actor": actor,
        "action": action,
        "target": target,
        "outcome": str(outcome),
        "source": source,
        "reason": reason,
        "details": clean_details,
        "prev_hash": head.last_hash,
    }
    digest = record_hash(**fields)
    conn.execute(insert(t.audit_log).values(**fields, hash=digest))
    conn.execute(
        update(t.audit_head)
        .where(t.audit_head.c.id == HEAD_ROW_ID)
        .values(last_id=fields["id"], last_hash=digest)
    )
    return AuditRecord(**fields, hash=digest)


def read_head(conn: Connection) -> Head | None:
    row = conn.execute(
        select(
            t.audit_head.c.last_id,
            t.audit_head.c.last_hash,
            t.audit_head.c.base_id,
            t.audit_head.c.base_hash,
        ).where(t.audit_head.c.id == HEAD_ROW_ID)
    ).first()
    if row is None:
        return None
    return Head(int(row.last_id), row.last_hash, int(row.base_id), row.base_hash)


@dataclass(frozen=True, slots=True)
class Pruned:
    """What a prune removed (``count`` 0, ids None: nothing) and the base the chain now starts at.

    ``record`` is the ``audit.pruned`` record appended with it (None when nothing was removed)."""

    count: int
    first_id: int | None
    last_id: int | None
    base_id: int
    base_hash: str
    record: AuditRecord | None = None


def prunable_prefix(conn: Connection, before: datetime) -> tuple[int, int | None, int | None, str | None]:
    """(count, first id, last id, last hash) of the chain's prefix of records older than ``before``.

    The prefix ends at the first record not older than ``before``: timestamps come from the
    appenders' clocks and need not rise with the ids, and only a prefix keeps the rest a chain."""
    rec = t.audit_log.c
    first_kept = conn.execute(select(func.min(rec.id)).where(rec.ts >= before)).scalar()
    in_prefix = rec.id < first_kept if first_kept is not None else rec.id.is_not(None)
    count, first_id, last_id = conn.execute(
        select(func.count(), func.min(rec.id), func.max(rec.id)).where(in_prefix)
    ).one()
    if not count:
        return 0, None, None, None
    last_hash = conn.execute(select(rec.hash).where(rec.id == last_id)).scalar_one()
    return int(count), int(first_id), int(last_id), last_hash


def prune(
    conn: Connection,
    *,
    ts: datetime,
    before: datetime,
    actor: str | None = None,
    source: str | None = None,
    reason: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> Pruned:
    """Delete the chain's oldest records, those older than ``before`` up to the first one that is
    not, inside the caller's write transaction; keep the last one's id and hash as the base.

    Takes the head lock first, as :func:`append` does, so no append interleaves. Appends an
    ``audit.pruned`` record (count, first and last pruned id, base hash, cutoff, plus ``details``)
    when something was deleted; with nothing to delete it writes nothing — a daily timer would
    otherwise add a record a day that says nothing happened."""
    if before.tzinfo is None:
        raise ValueError("the pruning cutoff is a UTC instant")
    head = _lock_head(conn)
    count, first_id, last_id, last_hash = prunable_prefix(conn, before)
    if last_id is None or last_hash is None:
        return Pruned(0, None, None, int(head.base_id), head.base_hash)
    conn.execute(delete(t.audit_log).where(t.audit_log.c.id <= last_id))
    conn.execute(
        update(t.audit_head)
        .where(t.audit_head.c.id == HEAD_ROW_ID)
        .values(base_id=last_id, base_hash=last_hash)
    )
    record = append(
        conn,
        ts=ts,
        action=PRUNED_ACTION,
        actor=actor,
        target=None,
        source=source,
        reason=reason,
        details={
            **(details or {}),
            "count": count,
            "first_id": first_id,
            "last_id": last_id,
            "base_hash": last_hash,
            "before": iso_utc(before),
        },
    )
    return Pruned(count, first_id, last_id, last_id, last_hash, record)


def all_records(conn: Connection) -> list[AuditRecord]:
    return [_record_from_row(r) for r in conn.execute(select(t.audit_log).order_by(t.audit_log.c.id))]


def newest_records(conn: Connection, *, before_id: int | None = None, limit: int = 100) -> list[AuditRecord]:
    """Newest first: up to ``limit`` records older than ``before_id`` (None: from the newest)."""
    query = select(t.audit_log).order_by(t.audit_log.c.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(t.audit_log.c.id < before_id)
    return [_record_from_row(r) for r in conn.execute(query)]


__all__ = [
    "HEAD_ROW_ID",
    "Pruned",
    "all_records",
    "append",
    "newest_records",
    "prunable_prefix",
    "prune",
    "read_head",
]
