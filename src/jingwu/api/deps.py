"""Who is calling: every route but /healthz and log-in asks for a bearer token and a role."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from jingwu.errors import Forbidden, Unauthenticated
from jingwu.service.auth import Principal, Role
from jingwu.services import Services

_bearer = HTTPBearer(auto_error=False)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def current_principal(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("log in first: send 'Authorization: Bearer <token>'", code="no_token")
    # A REST call is use of the session: it keeps it from ending as idle.
    return services.auth.authenticate(credentials.credentials, touch=True)


def client_address(request: Request) -> str | None:
    """The peer's address as the server sees it (behind a reverse proxy, run uvicorn with
    ``--proxy-headers`` and ``--forwarded-allow-ips`` so that this is the client's, not the proxy's)."""
    return request.client.host if request.client else None


def require(*roles: Role) -> Callable[..., Principal]:
    """A dependency that admits only the given roles (admin is always admitted)."""
    allowed = frozenset(roles) | {Role.ADMIN}

    def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(
                f"role {principal.role} may not do this",
                code="role_forbidden",
                role=str(principal.role),
                allowed=sorted(str(r) for r in allowed),
            )
        return principal

    return dependency


AnyUser = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.OFFICER))]
Dispatcher = Annotated[Principal, Depends(require(Role.DISPATCHER))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]


def check_own_incident(principal: Principal, services: Services, incident_id: str, *, doing: str) -> None:
    """An officer acts on an incident only while their unit is assigned to it."""
    if principal.role is not Role.OFFICER:
        return
    unit = services.dispatch.get_unit(principal.unit_id) if principal.unit_id else None
    if unit is None or unit.incident_id != incident_id:
        raise Forbidden(
            f"an officer may {doing} only on their own incident",
            code="not_own_incident",
            incident_id=incident_id,
        )


__all__ = [
    "Admin",
    "AnyUser",
    "Dispatcher",
    "ServicesDep",
    "check_own_incident",
    "client_address",
    "current_principal",
    "get_services",
    "require",
]
