"""The ``Idempotency-Key`` header: a POST retried with the same key is applied once.

A client (the officer terminal's offline queue) may send ``Idempotency-Key: <1-200 printable
ASCII characters>`` on any POST under ``/api/`` except ``/api/auth/*``. Keys are per user.

* First request with a key: it runs normally. Its command's transaction stores the key (see
  ``jingwu.service.idempotency``); once answered, the exact answer is stored with it.
* Same key, same method, path and body: the stored status and JSON body are sent again with
  ``Idempotent-Replayed: true``; nothing is changed.
* Same key, different request: 422 ``idempotency_key_reused``.
* Same key while the first is still running: 409 ``idempotency_in_progress``.
* A refused command (4xx) stores no key: the client may fix the request and send it again.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

from fastapi.encoders import jsonable_encoder
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jingwu.api.limits import read_body, replaying
from jingwu.api.refusals import error_response
from jingwu.composition import Services
from jingwu.domain.attachments import UploadTooLarge
from jingwu.domain.rules import Decision
from jingwu.errors import JingwuError, ValidationFailed
from jingwu.service.idempotency import CURRENT_CLAIM, IdempotencyClaim, in_progress

HEADER = "idempotency-key"
REPLAYED_HEADER = "Idempotent-Replayed"
_KEY = re.compile(r"[\x20-\x7e]{1,200}")
_EXEMPT_PREFIX = "/api/auth/"


def answer_with(status: int, render: Callable[[Decision], Any]) -> None:
    """Say how this route answers, computed from its command's decision, so that the answer is
    stored in the command's own transaction (a no-op for a request without a key). ``render``
    returns a response model, a list of them, or None for an empty (204) answer."""
    claim = CURRENT_CLAIM.get()
    if claim is None:
        return

    def rendered(decision: Decision) -> tuple[int, bytes]:
        value = render(decision)
        body = b"" if value is None else JSONResponse(jsonable_encoder(value)).body
        return status, bytes(body)

    claim.render = rendered


def withhold_from_replay(*keys: str) -> None:
    """Keep these top-level keys of this route's JSON answer out of the stored copy a retry is
    answered from (as null): a secret shown once must not lie in the key table for a week. A no-op
    for a request without a key."""
    claim = CURRENT_CLAIM.get()
    if claim is not None:
        claim.withhold = frozenset(keys)


def _fingerprint(scope: Scope, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b"")):
        digest.update(len(part).to_bytes(8, "big") + part)
    digest.update(hashlib.sha256(body).digest())
    return digest.hexdigest()


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, *, services: Services) -> None:
        self.app = app
        self.services = services
        # Keys being run by this process → their fingerprints (one event loop: no lock needed).
        self._running: dict[tuple[str, str], str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not path.startswith("/api/")
            or path.startswith(_EXEMPT_PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        keys = headers.getlist(HEADER)
        if not keys:
            await self.app(scope, receive, send)
            return
        username = await self._username(headers)
        if username is None:
            await self.app(scope, receive, send)  # the route answers 401, whatever the key
            return
        if len(keys) != 1 or not _KEY.fullmatch(keys[0]):
            bad = ValidationFailed(
                "Idempotency-Key must be one value of 1-200 printable ASCII characters",
                code="bad_idempotency_key",
            )
            await error_response(bad)(scope, receive, send)
            return
        key = keys[0]
        try:
            body = await self._read_body(headers, receive)
        except JingwuError as exc:
            await error_response(exc)(scope, receive, send)
            return
        if body is None:
            return  # the client went away mid-request: run nothing on half a body
        fingerprint = _fingerprint(scope, body)
        slot = (username, key)
        running = self._running.get(slot)
        if running is not None:
            refusal = in_progress(key) if running == fingerprint else _reused(key)
            await error_response(refusal)(scope, receive, send)
            return
        self._running[slot] = fingerprint
        try:
            await self._run_once(scope, receive, send, username, key, fingerprint, body)
        finally:
            del self._running[slot]

    async def _run_once(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        username: str,
        key: str,
        fingerprint: str,
        body: bytes,
    ) -> None:
        stored = await run_in_threadpool(self.services.idempotency.lookup, username, key)
        if stored is not None:
            if stored.fingerprint != fingerprint:
                await error_response(_reused(key))(scope, receive, send)
            elif stored.response_status is None:
                # Committed by another process that has not stored its answer yet.
                await error_response(in_progress(key))(scope, receive, send)
            else:
                await _replay(stored.response_status, bytes(stored.response_body or b""))(
                    scope, receive, send
                )
            return

        claim = IdempotencyClaim(username=username, key=key, fingerprint=fingerprint)
        status = 0
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        token = CURRENT_CLAIM.set(claim)
        try:
            await self.app(scope, replaying(body, receive), capture)
        finally:
            CURRENT_CLAIM.reset(token)
        # Only a command that succeeded uses up its key. One that committed and then failed
        # (recorded, but not 2xx) keeps the answer its transaction stored.
        if 200 <= status < 300:
            await run_in_threadpool(self.services.idempotency.store_response, claim, status, b"".join(chunks))

    async def _username(self, headers: Headers) -> str | None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            principal = await run_in_threadpool(self.services.auth.sessions.authenticate, token.strip())
        except JingwuError:
            return None
        return principal.username

    async def _read_body(self, headers: Headers, receive: Receive) -> bytes | None:
        """The whole body (its hash is part of the fingerprint), never more than the upload limit:
        no command takes a larger one. None when the client disconnects before the end."""
        limit = self.services.settings.max_upload_bytes
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise UploadTooLarge(limit)
        return await read_body(receive, limit)


def _reused(key: str) -> ValidationFailed:
    return ValidationFailed(
        "this idempotency key was used for a different request; use a new key for a new request",
        code="idempotency_key_reused",
        key=key,
    )


def _replay(status: int, body: bytes) -> Response:
    media_type = "application/json" if body else None
    return Response(body, status_code=status, media_type=media_type, headers={REPLAYED_HEADER: "true"})


__all__ = ["HEADER", "REPLAYED_HEADER", "IdempotencyMiddleware", "answer_with", "withhold_from_replay"]
