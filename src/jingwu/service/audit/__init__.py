"""The append-only, hash-chained audit log: who did what, when, from where, with what outcome.

In two parts: ``chain``, a record, its hash and the verification of a chain of them (pure), and
``storage``, the chain in the database (appending inside the caller's transaction under the lock
on the head row, pruning the oldest records, reading them back). A service that audits a change
of its own calls :func:`append` in the change's transaction; :class:`AuditService` does each in a
transaction of its own. All of it is imported from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from jingwu.service.audit.chain import (
    GENESIS_HASH,
    PRUNED_ACTION,
    AuditRecord,
    Damage,
    Finding,
    Head,
    Outcome,
    Verification,
    record_hash,
    verify_chain,
)
from jingwu.service.audit.storage import (
    Pruned,
    all_records,
    append,
    newest_records,
    prunable_prefix,
    prune,
    read_head,
)
from jingwu.store.db import read_transaction, write_transaction


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
            count, first_id, last_id, last_hash = prunable_prefix(conn, before)
        if last_id is None or last_hash is None:
            return Pruned(0, None, None, base_id, base_hash)
        return Pruned(count, first_id, last_id, last_id, last_hash)

    def page(self, *, before_id: int | None = None, limit: int = 100) -> list[AuditRecord]:
        """Newest first: up to ``limit`` records older than ``before_id`` (None: from the newest)."""
        with read_transaction(self.engine) as conn:
            return newest_records(conn, before_id=before_id, limit=limit)

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
