"""Idempotency keys as stored: a request's key, its fingerprint and the answer it got (the rules
are :mod:`jingwu.service.idempotency`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select, update

from jingwu.store import tables as t


def get_idempotency_key(conn: Connection, username: str, key: str) -> Any:
    """The stored row of (username, key), or None."""
    query = select(t.idempotency_keys).where(
        and_(t.idempotency_keys.c.username == username, t.idempotency_keys.c.key == key)
    )
    return conn.execute(query).first()


def insert_idempotency_key(
    conn: Connection,
    *,
    username: str,
    key: str,
    fingerprint: str,
    created_at: datetime,
    response_status: int | None,
    response_body: bytes | None,
) -> None:
    """Record a key; a key already recorded raises IntegrityError (the caller decides what it means)."""
    conn.execute(
        insert(t.idempotency_keys).values(
            username=username,
            key=key,
            fingerprint=fingerprint,
            created_at=created_at,
            response_status=response_status,
            response_body=response_body,
        )
    )


def store_idempotency_response(conn: Connection, username: str, key: str, status: int, body: bytes) -> None:
    conn.execute(
        update(t.idempotency_keys)
        .where(and_(t.idempotency_keys.c.username == username, t.idempotency_keys.c.key == key))
        .values(response_status=status, response_body=body)
    )


def purge_idempotency_keys(conn: Connection, created_before: datetime) -> int:
    result = conn.execute(delete(t.idempotency_keys).where(t.idempotency_keys.c.created_at < created_before))
    return int(result.rowcount)


__all__ = [
    "get_idempotency_key",
    "insert_idempotency_key",
    "purge_idempotency_keys",
    "store_idempotency_response",
]
