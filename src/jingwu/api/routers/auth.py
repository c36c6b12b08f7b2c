"""Log-in, who-am-I and log-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from jingwu.api.deps import AnyUser, ServicesDep
from jingwu.api.schemas.requests import LoginRequest
from jingwu.api.schemas.responses import MeOut, TokenOut

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/login", response_model=TokenOut)
def login(body: LoginRequest, services: ServicesDep) -> TokenOut:
    issued = services.auth.login(body.username, body.password)
    p = issued.principal
    return TokenOut(
        access_token=issued.access_token,
        expires_at=issued.expires_at.isoformat(),
        username=p.username,
        role=str(p.role),
        unit_id=p.unit_id,
        station_id=p.station_id,
    )


@router.get("/me", response_model=MeOut)
def me(principal: AnyUser) -> MeOut:
    return MeOut(
        username=principal.username,
        role=str(principal.role),
        unit_id=principal.unit_id,
        station_id=principal.station_id,
    )


@router.post("/logout", status_code=204)
def logout(
    principal: AnyUser,
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials, Depends(HTTPBearer())],
) -> None:
    services.auth.revoke(credentials.credentials)
