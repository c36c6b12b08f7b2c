"""The append-only, hash-chained audit log: who did what, when, from where, with what outcome.

Each record's ``hash`` is the SHA-256 of a canonical serialisation (JSON with sorted keys, no
spaces, UTC ISO-8601 timestamps with microseconds) of all its fields — its id included — and the
previous record's hash (``prev_hash``; 64 zeros for the first record). Editing a record breaks its
own hash; deleting one leaves a gap in the ids and a ``prev_hash`` that points at nothing;
swapping two records' contents leaves each with a hash that fits the other's id.

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
(0 and 64 zeros before any prune). Verification then starts there: the first remaining record
must be base id + 1 with ``prev_hash`` equal to the base hash, so records deleted from the start
of what remains still show as a gap. The prune appends an ``audit.pruned`` record naming the base
in the same transaction, and verification requires the newest such record to name the head's
base: moving the base to hide deleted records then also takes adding an ``audit.pruned`` record
(in plain view in the log) or rewriting the later ones (caught by anchors). A pruned log proves
what remains from the base on; the printed base, anchored off-site, proves the prune took off
only the old end. Anchors older than the base cannot be checked any more and are reported so.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from jingwu.errors import SystemFault
from jingwu.store import tables as t
from jingwu.store.db import read_transaction, write_transaction

GENESIS_HASH = "0" * 64
HEAD_ROW_ID = 1
PRUNED_ACTION = "audit.pruned"


class Outcome(StrEnum):
    OK = "ok"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    ts: datetime
    actor: str | None
    action: str
    target: str | None
    outcome: str
    source: str | None
    reason: str | None
    details: Mapping[str, Any]
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ts": _iso(self.ts),
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "outcome": self.outcome,
            "source": self.source,
            "reason": self.reason,
            "details": dict(self.details),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def _iso(ts: datetime) -> str:
    if ts.tzinfo is None:
        raise ValueError("audit timestamps are UTC instants")
    return ts.astimezone(UTC).isoformat(timespec="microseconds")


def record_hash(
    *,
    id: int,
    ts: datetime,
    actor: str | None,
    action: str,
    target: str | None,
    outcome: str,
    source: str | None,
    reason: str | None,
    details: Mapping[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of the record's canonical serialisation, chained to ``prev_hash``."""
    canonical = json.dumps(
        {
            "id": id,
            "ts": _iso(ts),
            "actor": actor,
            "action": action,
            "target": target,
            "outcome": outcome,
            "source": source,
            "reason": reason,
            "details": details,
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _hash_of(record: AuditRecord, *, as_id: int | None = None) -> str:
    return record_hash(
        id=record.id if as_id is None else as_id,
        ts=record.ts,
        actor=record.actor,
        action=record.action,
        target=record.target,
        outcome=record.outcome,
        source=record.source,
        reason=record.reason,
        details=record.details,
        prev_hash=record.prev_hash,
    )


# ------------------------------------------------------------------------------ verification


class Damage(StrEnum):
    EDITED = "edited"  # the record's fields no longer give its hash
    DELETED = "deleted"  # a record is missing: a gap in the ids, or prev_hash points at nothing
    REORDERED = "reordered"  # the record holds another position's content, or links out of order
    TRUNCATED = "truncated"  # the newest records are gone (the head names a later record)
    HEAD = "head_mismatch"  # the head names a record the chain does not end with
    BASE = "base_mismatch"  # the chain does not start at the head's pruning base, or it is unrecorded
    ANCHOR = "anchor_mismatch"  # a record anchored off-site is gone or different


@dataclass(frozen=True, slots=True)
class Finding:
    record_id: int
    damage: Damage
    message: str


@dataclass(frozen=True, slots=True)
class Verification:
    count: int
    last_id: int
    last_hash: str
    finding: Finding | None = None
    # Where the checked chain starts: the last pruned record (0 and GENESIS_HASH: none pruned).
    base_id: int = 0
    base_hash: str = GENESIS_HASH
    # Anchors naming records pruned before the base: gone legitimately, so they cannot be checked.
    unchecked_anchors: tuple[int, ...] = ()

    @property
    def intact(self) -> bool:
        return self.finding is None


@dataclass(frozen=True, slots=True)
class Head:
    last_id: int
    last_hash: str
    # The pruning base: the last record removed by retention (0 and GENESIS_HASH: none yet).
    base_id: int = 0
    base_hash: str = GENESIS_HASH


@dataclass(slots=True)
class _Walk:
    expected_id: int = 1
    expected_prev: str = GENESIS_HASH
    count: int = 0


def verify_chain(
    records: Iterable[AuditRecord],
    head: Head | None = None,
    *,
    anchors: Iterable[tuple[int, str]] = (),
) -> Verification:
    """Check records given in id order; report the first broken record and why.

    Pure: ``records`` may come from the database, a backup or an export. ``head`` is the stored
    head row (``None``: not checked, and the chain must start at record 1); the chain starts at
    its pruning base. ``anchors`` are (id, hash) pairs recorded off-site earlier; one naming the
    base is checked against the base hash, and ones before it (pruned since) are listed in
    ``unchecked_anchors``.
    """
    rows = list(records)
    by_id = {r.id: r for r in rows}
    hash_positions = {r.hash: r.id for r in rows}
    base_id, base_hash = (0, GENESIS_HASH) if head is None else (head.base_id, head.base_hash)
    walk = _Walk(expected_id=base_id + 1, expected_prev=base_hash)

    def found(record_id: int, damage: Damage, message: str) -> Verification:
        return Verification(
            walk.count,
            walk.expected_id - 1,
            walk.expected_prev,
            Finding(record_id, damage, message),
            base_id=base_id,
            base_hash=base_hash,
        )

    for record in rows:
        if record.id != walk.expected_id:
            missing = walk.expected_id
            span = (
                f"records {missing}–{record.id - 1} are"
                if record.id - 1 > missing
                else f"record {missing} is"
            )
            return found(
                missing, Damage.DELETED, f"record {missing}: deleted ({span} missing before {record.id})"
            )
        if _hash_of(record) != record.hash:
            other = next(
                (i for i in by_id if i != record.id and _hash_of(record, as_id=i) == record.hash), None
            )
            if other is not None:
                return found(
                    record.id,
                    Damage.REORDERED,
                    f"record {record.id}: re-ordered (it holds the content of record {other})",
                )
            return found(
                record.id, Damage.EDITED, f"record {record.id}: edited (its fields do not match its hash)"
            )
        if record.prev_hash != walk.expected_prev:
            if walk.count == 0 and base_id > 0:
                return found(
                    record.id,
                    Damage.BASE,
                    f"record {record.id}: base mismatch (its prev_hash is not the base hash kept when "
                    f"records up to {base_id} were pruned: the base was changed or the record replaced)",
                )
            later = hash_positions.get(record.prev_hash)
            if later is not None and later >= record.id:
                return found(
                    record.id,
                    Damage.REORDERED,
                    f"record {record.id}: re-ordered (it links to record {later}, which comes after it)",
                )
            return found(
                record.id,
                Damage.DELETED,
                f"record {record.id}: chain broken (its prev_hash is not the hash of record "
                f"{record.id - 1}: a record before it was deleted or replaced)",
            )
        walk.expected_prev = record.hash
        walk.expected_id += 1
        walk.count += 1

    last_id = walk.expected_id - 1
    if base_id > 0:
        # Only a prune moves the base, and it records so in the chain in the same transaction.
        pruned = next(
            (r for r in reversed(rows) if r.action == PRUNED_ACTION and r.outcome == Outcome.OK), None
        )
        said = None if pruned is None else (pruned.details.get("last_id"), pruned.details.get("base_hash"))
        if said != (base_id, base_hash):
            return found(
                base_id,
                Damage.BASE,
                f"record {base_id}: base mismatch (the head says records up to {base_id} were pruned, "
                + (
                    f"but no {PRUNED_ACTION} record says so)"
                    if pruned is None
                    else f"but the newest {PRUNED_ACTION} record, {pruned.id}, names another base)"
                ),
            )
    unchecked: list[int] = []
    for anchor_id, anchor_hash in anchors:
        if anchor_id < base_id:
            unchecked.append(anchor_id)
            continue
        if anchor_id == base_id:
            if anchor_hash.lower() != base_hash:
                return found(
                    anchor_id,
                    Damage.ANCHOR,
                    f"record {anchor_id}: anchor mismatch (the anchored record is the pruning base, "
                    "and the base hash is different)",
                )
            continue
        anchored = by_id.get(anchor_id)
        if anchored is None or anchored.hash != anchor_hash.lower():
            return found(
                anchor_id,
                Damage.ANCHOR,
                f"record {anchor_id}: anchor mismatch (the record anchored off-site is "
                + ("missing)" if anchored is None else "different)"),
            )
    if head is not None and (head.last_id, head.last_hash) != (last_id, walk.expected_prev):
        if head.last_id > last_id:
            return found(
                last_id + 1,
                Damage.TRUNCATED,
                f"record {last_id + 1}: truncated (the head names record {head.last_id}; "
                f"the chain ends at {last_id})",
            )
        return found(
            last_id,
            Damage.HEAD,
            f"record {last_id}: head mismatch (the head names record {head.last_id} with another hash)",
        )
    return Verification(
        walk.count,
        last_id,
        walk.expected_prev,
        base_id=base_id,
        base_hash=base_hash,
        unchecked_anchors=tuple(unchecked),
    )


# ----------------------------------------------------------------------------------- storage


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


def _prunable(conn: Connection, before: datetime) -> tuple[int, int | None, int | None, str | None]:
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
    count, first_id, last_id, last_hash = _prunable(conn, before)
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
            "before": _iso(before),
        },
    )
    return Pruned(count, first_id, last_id, last_id, last_hash, record)


def all_records(conn: Connection) -> list[AuditRecord]:
    return [_record_from_row(r) for r in conn.execute(select(t.audit_log).order_by(t.audit_log.c.id))]


class AuditService:
    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.engine = engine
        self.clock = clock

    def record(
        self,
        action: str,
        *,
        outcome: Outcome | str = Outcome.OK,
        actor: str | None = None,
        target: str | None = None,
        source: str | None = None,
        reason: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> AuditRecord:
        """Append one record in its own transaction."""
        with write_transaction(self.engine) as conn:
            return append(
                conn,
                ts=self.clock(),
                action=action,
                outcome=outcome,
                actor=actor,
                target=target,
                source=source,
                reason=reason,
                details=details,
            )

    def prune(
        self,
        *,
        before: datetime,
        actor: str | None = None,
        source: str | None = None,
        reason: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> Pruned:
        """:func:`prune` in its own write transaction, its record stamped by this service's clock."""
        with write_transaction(self.engine) as conn:
            return prune(
                conn,
                ts=self.clock(),
                before=before,
                actor=actor,
                source=source,
                reason=reason,
                details=details,
            )

    def prunable(self, *, before: datetime) -> Pruned:
        """What :meth:`prune` would remove now (a dry run: nothing is written)."""
        with read_transaction(self.engine) as conn:
            head = read_head(conn)
            base_id, base_hash = (0, GENESIS_HASH) if head is None else (head.base_id, head.base_hash)
            count, first_id, last_id, last_hash = _prunable(conn, before)
        if last_id is None or last_hash is None:
            return Pruned(0, None, None, base_id, base_hash)
        return Pruned(count, first_id, last_id, last_id, last_hash)

    def page(self, *, before_id: int | None = None, limit: int = 100) -> list[AuditRecord]:
        """Newest first: up to ``limit`` records older than ``before_id`` (None: from the newest)."""
        query = select(t.audit_log).order_by(t.audit_log.c.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(t.audit_log.c.id < before_id)
        with read_transaction(self.engine) as conn:
            return [_record_from_row(r) for r in conn.execute(query)]

    def verify(self, *, anchors: Iterable[tuple[int, str]] = ()) -> Verification:
        # One snapshot for the head and the records: under READ COMMITTED an append between the
        # two reads would look like damage. (SQLite's WAL read transactions are snapshots already.)
        options = {} if self.engine.dialect.name == "sqlite" else {"isolation_level": "REPEATABLE READ"}
        with self.engine.connect().execution_options(**options) as conn, conn.begin():
            head = read_head(conn)
            records = all_records(conn)
        if head is None:
            last = records[-1] if records else None
            return Verification(
                0,
                0,
                GENESIS_HASH,
                Finding(last.id if last else 0, Damage.HEAD, "the audit head row is missing"),
            )
        return verify_chain(records, head, anchors=anchors)


__all__ = [
    "GENESIS_HASH",
    "PRUNED_ACTION",
    "AuditRecord",
    "AuditService",
    "Damage",
    "Finding",
    "Head",
    "Outcome",
    "Pruned",
    "Verification",
    "all_records",
    "append",
    "prune",
    "read_head",
    "record_hash",
    "verify_chain",
]
