"""Security headers on every answer: what a browser may load and run for our pages.

Scripts come only from our own origin (no inline script, no eval) except on the API docs page,
whose Swagger UI bootstraps with one inline script. Styles allow inline attributes: Leaflet and
the maps position and colour markers with them, and a style attribute cannot run code. The
pages may not be framed (click-jacking a dispatch button), and a map tile server configured with
JINGWU_TILE_URL is the only other origin images may come from.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_DOCS_PATHS = ("/docs",)


# A Host header as browsers send it: a name or an address, and a port.
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?")


def content_security_policy(*, tile_url: str | None, docs: bool, host: str | None = None) -> str:
    """The policy; ``host`` (the request's own) names the one WebSocket origin the pages may
    open, the live stream's. Browsers before CSP 3 do not count ws: as 'self', so it is spelt
    out; without a usable host only 'self' is allowed (never ws: to anywhere)."""
    images = ["'self'", "data:", "blob:"]
    if tile_url:
        parts = urlsplit(tile_url.replace("{s}", "*"))  # {s}.tile.example → *.tile.example
        images.append(f"{parts.scheme}://{parts.netloc}")
    scripts = ["'self'", "'unsafe-inline'"] if docs else ["'self'"]
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {' '.join(scripts)}",
            "style-src 'self' 'unsafe-inline'",
            f"img-src {' '.join(images)}",
            # Live views play a MediaSource (a blob: URL), and clips are fetched into blobs.
            "media-src 'self' blob:",
            "connect-src 'self'" + (f" ws://{host} wss://{host}" if host else ""),
            "worker-src 'self'",
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, tile_url: str | None = None) -> None:
        self.app = app
        self.tile_url = tile_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope.get("path", "") in _DOCS_PATHS
        https = scope.get("scheme") == "https"
        host = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"host"), None)
        policy = content_security_policy(
            tile_url=self.tile_url, docs=docs, host=host if host and _HOST.fullmatch(host) else None
        )

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", policy)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "no-referrer")
                # The terminal needs the phone's position and camera; nothing needs the rest.
                headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(self), microphone=()")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                if https:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
            await send(message)

        await self.app(scope, receive, with_headers)


__all__ = ["SecurityHeadersMiddleware", "content_security_policy"]
