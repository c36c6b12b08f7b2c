"""Security headers on every answer: what a browser may load and run for our pages.

Scripts come only from our own origin (no inline script, no eval) except on the API docs page,
whose Swagger UI bootstraps with one inline script. Styles allow inline attributes: Leaflet and
the maps position and colour markers with them, and a style attribute cannot run code. The
pages may not be framed (click-jacking a dispatch button), and a map tile server configured with
JINGWU_TILE_URL is the only other origin images may come from.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_DOCS_PATHS = ("/docs",)


def content_security_policy(*, tile_url: str | None, docs: bool) -> str:
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
            "connect-src 'self' ws: wss:",
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
        self.policies = {
            docs: content_security_policy(tile_url=tile_url, docs=docs) for docs in (False, True)
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope.get("path", "") in _DOCS_PATHS
        https = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", self.policies[docs])
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
