"""Key rotation for the registry's sealed fields: residents' names, identity numbers and phones,
businesses' people in charge, collections' payloads and the history's personal values, re-sealed
under the current key, and the residents' blind indexes recomputed (which also repairs them after
the index key changed). For ``jingwu keys rotate``, beside the reporters' rotation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, Table, select, update

from jingwu.domain.registry import PERSONAL_FIELDS
from jingwu.service.personal_data import ROTATE_BATCH, SEALED_PREFIX
from jingwu.service.records import sealing as s
from jingwu.store import records_tables as rt
from jingwu.store.db import write_transaction
from jingwu.store.fieldcrypt import KeyRing

Index = Callable[[KeyRing, str], str]
# (table, key column, [(sealed column, context, index column or None, index function or None)])
SEALED: tuple[tuple[Table, str, tuple[tuple[str, str, str | None, Index | None], ...]], ...] = (
    (
        rt.records_residents,
        "id",
        (
            ("name", s.NAME, "name_index", s.name_index),
            ("id_number", s.ID_NUMBER, "id_index", s.id_index),
            ("phone", s.PHONE, "phone_index", s.phone_index),
        ),
    ),
    (rt.records_businesses, "id", (("people_in_charge", s.PEOPLE_IN_CHARGE, None, None),)),
    (rt.records_collections, "id", (("payload", s.PAYLOAD, None, None),)),
    (rt.records_history, "id", (("before", s.HISTORY, None, None), ("after", s.HISTORY, None, None))),
)


def rotate_records(engine: Engine, keys: KeyRing) -> tuple[int, int]:
    """Re-seal and re-index in batches, each its own transaction (safe to run again, and while the
    platform runs); returns (values re-sealed, indexes rewritten)."""
    resealed = rewritten = 0
    for table, key_name, columns in SEALED:
        key = table.c[key_name]
        after: Any = 0 if table is rt.records_history else ""
        while True:
            query = select(table).where(key > after).order_by(key).limit(ROTATE_BATCH)
            if table is rt.records_history:
                query = query.where(table.c.field.in_(sorted(PERSONAL_FIELDS)))
            with write_transaction(engine) as conn:
                rows = conn.execute(query).all()
                for row in rows:
                    values: dict[str, Any] = {}
                    for column, context, index_column, index in columns:
                        stored = getattr(row, column)
                        if stored is None:
                            continue
                        sealed = stored.startswith(SEALED_PREFIX)
                        plain = keys.decrypt(stored, context=context) if sealed else stored
                        if not sealed or keys.needs_rotation(stored):
                            values[column] = keys.encrypt(plain, context=context)
                            resealed += 1
                        if index_column is not None and index is not None:
                            expected = index(keys, plain)
                            if getattr(row, index_column) != expected:
                                values[index_column] = expected
                                rewritten += 1
                    if values:
                        conn.execute(update(table).where(key == getattr(row, key_name)).values(**values))
            if len(rows) < ROTATE_BATCH:
                break
            after = getattr(rows[-1], key_name)
    return resealed, rewritten


__all__ = ["SEALED", "rotate_records"]
