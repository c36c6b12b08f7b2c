"""Key rotation of the patrol checks' sealed fields (``jingwu keys rotate``): watch-list subjects
and names, checked subjects, re-sealed under the current key, and their blind indexes recomputed
(which also repairs them after the index key changed)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, Table, select, update

from jingwu.domain.watchlists import SubjectKind, WatchList
from jingwu.service.checks.sealing import CHECK_SUBJECT, ENTRY_LABEL, ENTRY_SUBJECT, subject_index
from jingwu.service.personal_data import ROTATE_BATCH, SEALED_PREFIX
from jingwu.store.checks_tables import patrol_checks, watchlist_entries
from jingwu.store.db import write_transaction
from jingwu.store.fieldcrypt import KeyRing


def _kind(table: Table, row: Any) -> SubjectKind:
    if table is watchlist_entries:
        return WatchList(row.list).subject
    return SubjectKind(row.kind)


# (table, [(sealed column, context, whether it is the subject: indexed)])
SEALED: tuple[tuple[Table, tuple[tuple[str, str, bool], ...]], ...] = (
    (watchlist_entries, (("subject", ENTRY_SUBJECT, True), ("label", ENTRY_LABEL, False))),
    (patrol_checks, (("subject", CHECK_SUBJECT, True),)),
)


def rotate_checks(engine: Engine, keys: KeyRing) -> tuple[int, int]:
    """Re-seal and re-index in batches, each its own transaction (safe to run again, and while
    the platform runs); returns (values re-sealed, indexes rewritten)."""
    resealed = rewritten = 0
    for table, columns in SEALED:
        after = ""
        while True:
            with write_transaction(engine) as conn:
                rows = conn.execute(
                    select(table).where(table.c.id > after).order_by(table.c.id).limit(ROTATE_BATCH)
                ).all()
                for row in rows:
                    values: dict[str, Any] = {}
                    for column, context, indexed in columns:
                        stored = getattr(row, column)
                        if stored is None:
                            continue
                        sealed = stored.startswith(SEALED_PREFIX)
                        plain = keys.decrypt(stored, context=context) if sealed else stored
                        if not sealed or keys.needs_rotation(stored):
                            values[column] = keys.encrypt(plain, context=context)
                            resealed += 1
                        if indexed:
                            expected = subject_index(keys, _kind(table, row), plain)
                            if row.subject_index != expected:
                                values["subject_index"] = expected
                                rewritten += 1
                    if values:
                        conn.execute(update(table).where(table.c.id == row.id).values(**values))
            if len(rows) < ROTATE_BATCH:
                break
            after = rows[-1].id
    return resealed, rewritten


__all__ = ["SEALED", "rotate_checks"]
