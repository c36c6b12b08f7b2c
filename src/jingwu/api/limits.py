"""A cap on every request body, so that no command (JSON) can make the server buffer megabytes.

Photo uploads have their own, larger limit (``JINGWU_MAX_UPLOAD_BYTES``), counted by their route
while it reads; everything else that carries a body is JSON and refused beyond ``JSON_BODY_LIMIT``,
from Content-Length before reading or by counting while reading.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jingwu.api.refusals import error_response
from jingwu.domain.attachments import UploadTooLarge
from jingwu.errors import BodyTooLarge, JingwuError, ValidationFailed

# The largest command is a batch of 5,000 positions (about 0.8 MB of JSON); 2 MiB leaves room.
JSON_BODY_LIMIT = 2 * 1024 * 1024
# The routes whose body is a file (a photo, a scanned document): each reads it against the upload
# limit itself (JINGWU_MAX_UPLOAD_BYTES), refusing with 413 as soon as it is known to be too large.
_UPLOAD_PATH = re.compile(
    r"^/api/(?:incidents/[^/]+/attachments"
    r"|records/collections/[^/]+/photos"
    r"|disputes/[^/]+/visits/[^/]+/photos"
    r"|service/applications/[^/]+/documents"
    r"|service/reports/[^/]+/photos"
    r"|analytics/datasets/[^/]+/files)$"
)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limit: int = JSON_BODY_LIMIT) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _UPLOAD_PATH.match(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.isdigit():
                refusal = ValidationFailed("Content-Length is not a number", code="bad_content_length")
                await _refuse(refusal, scope, receive, send)
                return
            if int(declared) > self.limit:
                await _refuse(BodyTooLarge(self.limit), scope, receive, send)
                return
        # Without a trustworthy length the body is read here, up to the limit, and handed on whole.
        try:
            body = await read_body(receive, self.limit)
        except UploadTooLarge:
            await _refuse(BodyTooLarge(self.limit), scope, receive, send)
            return
        if body is None:
            return  # the client went away mid-request
        await self.app(scope, replaying(body, receive), send)


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, refused (UploadTooLarge) as soon as it passes ``limit``; None when
    the client disconnects before the end."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise UploadTooLarge(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A receive that hands an already-read body to the app, then defers to the client's."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the client to go away, as usual

    return replay


async def _refuse(exc: JingwuError, scope: Scope, receive: Receive, send: Send) -> None:
    await error_response(exc)(scope, receive, send)


__all__ = ["JSON_BODY_LIMIT", "BodyLimitMiddleware", "read_body", "replaying"]
