"""Log-in, who-am-I, log-out, the TOTP second factor, and reading the audit log (admins only; the
reading is audited too).

Paths are written out in full (no router prefix) so that ``/api/audit`` can live beside the
log-in routes it mostly records.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from jingwu.api.deps import AuditReader, Self, ServicesDep, client_address
from jingwu.api.schemas.requests import LoginRequest
from jingwu.api.schemas.responses import FailedTriesOut, MeOut, TokenOut
from jingwu.domain.access import ROLE_PERMISSIONS

router = APIRouter(tags=["auth"])


@router.post("/api/auth/login", response_model=TokenOut)
def login(body: LoginRequest, request: Request, response: Response, services: ServicesDep) -> TokenOut:
    issued = services.auth.logins.login(
        body.username, body.password, body.totp, source=client_address(request)
    )
    response.headers["Cache-Control"] = "no-store"  # a bearer token: never in any cache
    p = issued.principal
    return TokenOut(
        access_token=issued.access_token,
        expires_at=issued.expires_at.isoformat(),
        username=p.username,
        role=str(p.role),
        unit_id=p.unit_id,
        station_id=p.station_id,
        failed_logins=[
            FailedTriesOut(source=f.source, count=f.count, last_at=f.last_at.isoformat())
            for f in issued.failed_tries
        ],
    )


@router.get("/api/auth/me", response_model=MeOut)
def me(principal: Self) -> MeOut:
    return MeOut(
        username=principal.username,
        role=str(principal.role),
        unit_id=principal.unit_id,
        station_id=principal.station_id,
        jurisdiction=str(principal.jurisdiction),
        permissions=sorted(str(p) for p in ROLE_PERMISSIONS[principal.role]),
    )


@router.post("/api/auth/logout", status_code=204)
def logout(
    principal: Self,
    request: Request,
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials, Depends(HTTPBearer())],
) -> None:
    services.auth.sessions.revoke(
        credentials.credentials, actor=principal.username, source=client_address(request)
    )


class TotpEnrolmentOut(BaseModel):
    secret: str = Field(description="the key in base32, for typing into an authenticator app")
    otpauth_uri: str = Field(description="otpauth://totp/… URI, for a QR code")


class TotpConfirmRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[0-9]{6}$", description="the current code of the new entry")


@router.post("/api/auth/totp/enrol", response_model=TotpEnrolmentOut)
def enrol_totp(
    principal: Self, request: Request, response: Response, services: ServicesDep
) -> TotpEnrolmentOut:
    """Set up a second factor for oneself: a new secret, shown this once. It is not asked for at
    log-in until confirmed (``POST /api/auth/totp/confirm``, or a log-in with a code of it).
    An active one is not replaced here (409 ``totp_already_enrolled``): an administrator resets it
    with ``jingwu user-totp --reset``."""
    enrolment = services.auth.second_factor.enrol(
        principal.username, actor=principal.username, source=client_address(request)
    )
    response.headers["Cache-Control"] = "no-store"
    return TotpEnrolmentOut(secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri)


@router.post("/api/auth/totp/confirm", status_code=204)
def confirm_totp(body: TotpConfirmRequest, principal: Self, request: Request, services: ServicesDep) -> None:
    """Make one's pending second factor active with a current code of it (422 ``bad_totp`` for a
    wrong code, 409 ``totp_not_pending`` when there is nothing to confirm)."""
    services.auth.second_factor.confirm(principal.username, body.code, source=client_address(request))


class AuditRecordOut(BaseModel):
    id: int
    ts: str
    actor: str | None
    action: str
    target: str | None
    outcome: str
    source: str | None
    reason: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPageOut(BaseModel):
    records: list[AuditRecordOut]
    next_before_id: int | None


@router.get("/api/audit", response_model=AuditPageOut, tags=["audit"])
def read_audit_log(
    principal: AuditReader,
    request: Request,
    response: Response,
    services: ServicesDep,
    before_id: Annotated[int | None, Query(ge=1, description="page: records older than this id")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPageOut:
    """The audit log, newest first; follow ``next_before_id`` for older pages. Every read is
    itself recorded (``audit.read``) before the page is returned."""
    services.audit.record(
        "audit.read",
        actor=principal.username,
        source=client_address(request),
        details={"before_id": before_id, "limit": limit},
    )
    records = services.audit.page(before_id=before_id, limit=limit)
    response.headers["Cache-Control"] = "no-store"  # it names people and what was looked up
    return AuditPageOut(
        records=[AuditRecordOut(**r.to_dict()) for r in records],
        next_before_id=records[-1].id if len(records) == limit and records[-1].id > 1 else None,
    )
