"""Key rotation for the self-service's sealed fields: residents' phones, applicants' names, ID
numbers and addresses re-sealed under the current key, and their blind indexes recomputed (which
also repairs them after the index key changed). For ``jingwu keys rotate``, beside
service.personal_data's rotation of the incidents' reporters."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, Table, select, update

from jingwu.service.personal_data import ROTATE_BATCH, SEALED_PREFIX
from jingwu.service.self_service.applications import ADDRESS_CONTEXT, ID_CONTEXT, ID_INDEX_KIND, NAME_CONTEXT
from jingwu.service.self_service.sign_in import PHONE_CONTEXT, PHONE_INDEX_KIND
from jingwu.store import self_service_tables as st
from jingwu.store.db import write_transaction
from jingwu.store.fieldcrypt import KeyRing

# (table, its key column, [(sealed column, context, index column or None, index kind or None)])
SEALED: tuple[tuple[Table, str, tuple[tuple[str, str, str | None, str | None], ...]], ...] = (
    (st.service_residents, "user_id", (("phone", PHONE_CONTEXT, "phone_index", PHONE_INDEX_KIND),)),
    (
        st.service_applications,
        "id",
        (
            ("applicant_name", NAME_CONTEXT, None, None),
            ("applicant_id_number", ID_CONTEXT, "id_number_index", ID_INDEX_KIND),
            ("address", ADDRESS_CONTEXT, None, None),
        ),
    ),
)


def rotate_self_service(engine: Engine, keys: KeyRing) -> tuple[int, int]:
    """Re-seal and re-index in batches, each its own transaction (safe to run again, and while
    the platform runs); returns (values re-sealed, indexes rewritten)."""
    resealed = rewritten = 0
    for table, key_name, columns in SEALED:
        key = table.c[key_name]
        after = ""
        while True:
            with write_transaction(engine) as conn:
                rows = conn.execute(select(table).where(key > after).order_by(key).limit(ROTATE_BATCH)).all()
                for row in rows:
                    values: dict[str, Any] = {}
                    for column, context, index_column, kind in columns:
                        stored = getattr(row, column)
                        plain = (
                            keys.decrypt(stored, context=context)
                            if stored.startswith(SEALED_PREFIX)
                            else stored
                        )
                        if not stored.startswith(SEALED_PREFIX) or keys.needs_rotation(stored):
                            values[column] = keys.encrypt(plain, context=context)
                            resealed += 1
                        if index_column is not None and kind is not None:
                            expected = keys.blind_index(plain, kind=kind)
                            if getattr(row, index_column) != expected:
                                values[index_column] = expected
                                rewritten += 1
                    if values:
                        conn.execute(update(table).where(key == getattr(row, key_name)).values(**values))
            if len(rows) < ROTATE_BATCH:
                break
            after = getattr(rows[-1], key_name)
    return resealed, rewritten


__all__ = ["SEALED", "rotate_self_service"]
