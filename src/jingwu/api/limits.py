"""A cap on every request body, so that no command (JSON) can make the server buffer megabytes.

Photo uploads have their own, larger limit (``JINGWU_MAX_UPLOAD_BYTES``), counted by their route
while it reads; everything else that carries a body is JSON and refused beyond ``JSON_BODY_LIMIT``,
from Content-Length before reading or by counting while reading.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jingwu.domain.attachments import UploadTooLarge
from jingwu.errors import ValidationFailed

# The largest command is a batch of 5,000 positions (about 0.8 MB of JSON); 2 MiB leaves room.
JSON_BODY_LIMIT = 2 * 1024 * 1024
_UPLOAD_PATH = re.compile(r"^/api/incidents/[^/]+/attachments$")


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
                await _refuse(UploadTooLarge(self.limit), scope, receive, send)
                return
        # Without a trustworthy length the body is read here, up to the limit, and handed on whole.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await _refuse(UploadTooLarge(self.limit), scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the client to go away, as usual

        await self.app(scope, replay, send)


async def _refuse(exc: UploadTooLarge | ValidationFailed, scope: Scope, receive: Receive, send: Send) -> None:
    await JSONResponse(status_code=exc.http_status, content={"error": exc.to_dict()})(scope, receive, send)


__all__ = ["JSON_BODY_LIMIT", "BodyLimitMiddleware"]
