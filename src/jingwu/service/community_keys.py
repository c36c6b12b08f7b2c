"""The start-up check of the field keys over the community's sealed data (the registry, watch lists
and checks, dispute parties, residents' applications): a database whose only sealed values are
there must still refuse a missing or wrong key file, or new records would be sealed under a key the
old ones cannot be read with. Each capability lists its sealed columns in its rotation module."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Connection, Table, select

from jingwu.store.fieldcrypt import FieldCryptError, KeyRing


def sealed_columns() -> Iterator[tuple[Table, str, str]]:
    """(table, column, encryption context) of every sealed community column."""
    # Loaded here: the capabilities' services import personal_data, which calls this module.
    from jingwu.service.checks.rotation import SEALED as CHECKS
    from jingwu.service.disputes.rotation import SEALED as DISPUTES
    from jingwu.service.records.rotation import SEALED as RECORDS
    from jingwu.service.self_service.sealing import SEALED as SELF_SERVICE
    from jingwu.store.disputes_tables import dispute_parties

    for table, _, columns in (*RECORDS, *SELF_SERVICE):
        for column, context, *_ in columns:
            yield table, column, context
    for table, check_columns in CHECKS:
        for column, context, _ in check_columns:
            yield table, column, context
    for column, context, _ in DISPUTES:
        yield dispute_parties, column, context


def _one_sealed(conn: Connection, table: Table, column: str) -> str | None:
    from jingwu.service.personal_data import SEALED_PREFIX

    value = conn.execute(select(table.c[column]).where(table.c[column].like(f"{SEALED_PREFIX}%")).limit(1))
    found: str | None = value.scalar()
    return found


def holds_community_data(conn: Connection) -> bool:
    return any(_one_sealed(conn, table, column) is not None for table, column, _ in sealed_columns())


def check_community_keys(conn: Connection, keys: KeyRing) -> None:
    """Refuse keys that cannot open a sealed community value (one of each column is tried)."""
    for table, column, context in sealed_columns():
        stored = _one_sealed(conn, table, column)
        if stored is None:
            continue
        try:
            keys.decrypt(stored, context=context)
        except FieldCryptError as exc:
            raise FieldCryptError(
                f"the field keys cannot open this database ({table.name}.{column}: {exc}); set "
                "JINGWU_FIELD_KEY_FILE / JINGWU_FIELD_KEYS to the keys it was sealed with"
            ) from None


__all__ = ["check_community_keys", "holds_community_data", "sealed_columns"]
