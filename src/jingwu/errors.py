"""The one exception tree of Jingwu.

    JingwuError
    ├── UserError                 the caller's fault; nothing was changed (HTTP 4xx)
    │   ├── ValidationFailed      422  malformed or out-of-range input
    │   ├── NotFound              404  no such incident / unit / type …
    │   ├── Conflict              409  the state moved on (illegal transition, unit taken)
    │   ├── Unauthenticated       401
    │   └── Forbidden             403
    └── SystemFault               ours or the environment's; retrying may help (HTTP 5xx)

Every error carries a stable ``code`` (for clients and for zh-CN/en messages) and the
``params`` that fill its message, so the API can answer in either language.
"""

from __future__ import annotations

from typing import Any, ClassVar


class JingwuError(Exception):
    http_status: ClassVar[int] = 500
    code: str = "internal"

    def __init__(self, message: str, *, code: str | None = None, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.params = params

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "params": self.params}


class UserError(JingwuError):
    http_status = 400
    code = "bad_request"


class ValidationFailed(UserError):
    http_status = 422
    code = "validation_failed"


class NotFound(UserError):
    http_status = 404
    code = "not_found"


class Conflict(UserError):
    http_status = 409
    code = "conflict"


class Unauthenticated(UserError):
    http_status = 401
    code = "unauthenticated"


class Forbidden(UserError):
    http_status = 403
    code = "forbidden"


class SystemFault(JingwuError):
    http_status = 503
    code = "system_fault"


class OffRoadError(ValidationFailed):
    """A point too far from any road to be reached by a patrol unit (in a river, a lake, a field)."""

    code = "off_road"

    def __init__(self, lat: float, lon: float, distance_m: float, max_distance_m: float) -> None:
        super().__init__(
            f"location ({lat:.6f}, {lon:.6f}) is {distance_m:.0f} m from the nearest road "
            f"(at most {max_distance_m:.0f} m allowed)",
            lat=lat,
            lon=lon,
            distance_m=round(distance_m, 1),
            max_distance_m=max_distance_m,
        )
        self.distance_m = distance_m


class BodyTooLarge(UserError):
    """A request body over the limit for its kind (JSON commands; photos have their own)."""

    http_status = 413
    code = "body_too_large"

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"the request body is larger than {limit_bytes} bytes", limit_bytes=limit_bytes)


class TooManyAttempts(UserError):
    http_status = 429
    code = "too_many_attempts"


__all__ = [
    "BodyTooLarge",
    "Conflict",
    "Forbidden",
    "JingwuError",
    "NotFound",
    "OffRoadError",
    "SystemFault",
    "TooManyAttempts",
    "Unauthenticated",
    "UserError",
    "ValidationFailed",
]
