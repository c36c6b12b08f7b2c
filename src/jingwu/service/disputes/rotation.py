"""Key rotation of the disputes' sealed fields (``jingwu keys rotate``): the parties' names, phone
numbers and ID numbers re-sealed under the current key, and their blind indexes recomputed (which
also repairs them after the index key changed, so a new call from a party still escalates)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select, update

from jingwu.service.disputes.records import PARTY_ID_NUMBER, PARTY_NAME, PARTY_PHONE
from jingwu.service.personal_data import ROTATE_BATCH, SEALED_PREFIX, id_number_index, phone_index
from jingwu.store import disputes_tables as d
from jingwu.store.db import write_transaction
from jingwu.store.fieldcrypt import KeyRing

# (sealed column, context, its blind-index column and how it is computed)
SEALED: tuple[tuple[str, str, str | None], ...] = (
    ("name", PARTY_NAME, None),
    ("phone", PARTY_PHONE, "phone_index"),
    ("id_number", PARTY_ID_NUMBER, "id_index"),
)


def _index(keys: KeyRing, column: str, plain: str) -> str:
    return phone_index(keys, plain) if column == "phone_index" else id_number_index(keys, plain)


def rotate_disputes(engine: Engine, keys: KeyRing) -> tuple[int, int]:
    """Re-seal and re-index the parties in batches, each its own transaction (safe to run again,
    and while the platform runs); returns (values re-sealed, indexes rewritten)."""
    resealed = rewritten = 0
    table = d.dispute_parties
    after = ""
    while True:
        with write_transaction(engine) as conn:
            rows = conn.execute(
                select(table).where(table.c.id > after).order_by(table.c.id).limit(ROTATE_BATCH)
            ).all()
            for row in rows:
                values: dict[str, Any] = {}
                for column, context, index_column in SEALED:
                    stored = getattr(row, column)
                    if stored is None:
                        continue
                    sealed = stored.startswith(SEALED_PREFIX)
                    plain = keys.decrypt(stored, context=context) if sealed else stored
                    if not sealed or keys.needs_rotation(stored):
                        values[column] = keys.encrypt(plain, context=context)
                        resealed += 1
                    if index_column is not None:
                        expected = _index(keys, index_column, plain)
                        if getattr(row, index_column) != expected:
                            values[index_column] = expected
                            rewritten += 1
                if values:
                    conn.execute(update(table).where(table.c.id == row.id).values(**values))
        if len(rows) < ROTATE_BATCH:
            break
        after = rows[-1].id
    return resealed, rewritten


__all__ = ["SEALED", "rotate_disputes"]
