"""The one shape every refusal takes on the wire, whether a route or a middleware refuses."""

from __future__ import annotations

from starlette.responses import JSONResponse

from jingwu.errors import JingwuError


def error_response(exc: JingwuError, headers: dict[str, str] | None = None) -> JSONResponse:
    """``{"error": {code, message, params}}`` with the error's HTTP status (and ``Retry-After``
    where the error says when to try again)."""
    retry_after = exc.params.get("retry_after_s")
    if isinstance(retry_after, int) and not (headers and "Retry-After" in headers):
        headers = {**(headers or {}), "Retry-After": str(retry_after)}
    return JSONResponse(status_code=exc.http_status, content={"error": exc.to_dict()}, headers=headers)


__all__ = ["error_response"]
