"""Idempotency keys: a command retried with the same key is applied once and answered again.

The officer terminal queues commands while offline and retries them; a retry must not dispatch,
note or upload twice. How the pieces fit:

* The API middleware (``jingwu.api.idempotency``) reads the ``Idempotency-Key`` header. A key
  already stored is answered from the store; otherwise it sets ``CURRENT_CLAIM`` and runs the
  request. (Context variables follow the request into FastAPI's worker threads.)
* Every command's write transaction calls :func:`record_claim`, so the key row commits *with*
  the command or not at all: a crash between the commit and the answer cannot make the retry run
  the command again, and a refused command (4xx, rolled back) leaves the key unused.
* The route may attach a renderer to the claim: its answer, computed from the decision inside
  that same transaction. So even after such a crash the retry gets the answer the first request
  would have got. Once the answer has been sent, the middleware replaces it with the exact bytes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from jingwu.domain.rules import Decision
from jingwu.errors import Conflict
from jingwu.store import idempotency_keys
from jingwu.store.db import read_transaction, write_transaction

log = logging.getLogger(__name__)

#: How long a key is remembered. An offline terminal retries within hours; a week leaves room for
#: a device that was switched off over a weekend, and keeps the table small.
KEY_TTL = timedelta(days=7)

Renderer = Callable[[Decision], tuple[int, bytes]]


@dataclass(slots=True)
class IdempotencyClaim:
    """A keyed request in progress. ``recorded`` turns true once a commit has stored the key."""

    username: str
    key: str
    fingerprint: str
    render: Renderer | None = None
    recorded: bool = False
    # Top-level keys of the JSON answer kept as null for replays: a secret shown once (a
    # device's) is not written to this table, where it would lie readable for a week.
    withhold: frozenset[str] = frozenset()


CURRENT_CLAIM: ContextVar[IdempotencyClaim | None] = ContextVar("jingwu_idempotency_claim", default=None)


def in_progress(key: str) -> Conflict:
    return Conflict(
        "a request with this idempotency key is still being applied; retry in a moment",
        code="idempotency_in_progress",
        key=key,
    )


def record_claim(
    conn: Connection, now: datetime, decision: Decision | None = None
) -> IdempotencyClaim | None:
    """Store the current request's key inside the command's write transaction (no-op without a
    key, or when an earlier commit of the same request stored it). The caller marks the claim
    ``recorded`` once its transaction has committed. ``decision`` is what the route's answer is
    rendered from; a command that decides nothing of the kind (a log-in, a device's secret, a
    batch of positions) leaves it out, and its route renders from what it knows itself."""
    claim = CURRENT_CLAIM.get()
    if claim is None or claim.recorded:
        return None
    status: int | None = None
    body: bytes | None = None
    if claim.render is not None:
        try:
            status, body = claim.render(decision or Decision())
        except Exception:
            # The command must not fail for want of a stored answer: the middleware stores the
            # answer it sends; only a crash in between would leave this key answering 409.
            log.exception("idempotency answer could not be rendered for key %r", claim.key)
    try:
        idempotency_keys.insert_idempotency_key(
            conn,
            username=claim.username,
            key=claim.key,
            fingerprint=claim.fingerprint,
            created_at=now,
            response_status=status,
            response_body=body,
        )
    except IntegrityError:
        # Another server process committed the same key since the middleware looked: this whole
        # command rolls back, and the client's next retry is answered from the stored key.
        raise in_progress(claim.key) from None
    return claim


def _withheld(body: bytes, keys: frozenset[str]) -> bytes:
    if not keys:
        return body
    try:
        answer = json.loads(body)
    except ValueError:
        return b""  # not JSON after all: keep nothing rather than the secret
    if isinstance(answer, dict):
        answer.update({key: None for key in keys if key in answer})
    return json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode()


class IdempotencyService:
    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.engine = engine
        self.clock = clock

    def lookup(self, username: str, key: str) -> Any:
        """The stored row (fingerprint, response_status, response_body), or None."""
        with read_transaction(self.engine) as conn:
            return idempotency_keys.get_idempotency_key(conn, username, key)

    def store_response(self, claim: IdempotencyClaim, status: int, body: bytes) -> None:
        """Keep the exact answer that was sent. A request whose route committed nothing through
        the command path (none today) records its key here, after the fact."""
        body = _withheld(body, claim.withhold)
        with write_transaction(self.engine) as conn:
            if claim.recorded:
                idempotency_keys.store_idempotency_response(conn, claim.username, claim.key, status, body)
                return
            try:
                with conn.begin_nested():
                    idempotency_keys.insert_idempotency_key(
                        conn,
                        username=claim.username,
                        key=claim.key,
                        fingerprint=claim.fingerprint,
                        created_at=self.clock(),
                        response_status=status,
                        response_body=body,
                    )
            except IntegrityError:
                log.info("idempotency key %r of %s was stored meanwhile", claim.key, claim.username)

    def purge_expired(self) -> int:
        with write_transaction(self.engine) as conn:
            return idempotency_keys.purge_idempotency_keys(conn, self.clock() - KEY_TTL)


__all__ = [
    "CURRENT_CLAIM",
    "KEY_TTL",
    "IdempotencyClaim",
    "IdempotencyService",
    "Renderer",
    "in_progress",
    "record_claim",
]
