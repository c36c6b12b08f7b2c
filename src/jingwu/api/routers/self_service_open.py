"""The self-service's open routes: the residents' portal page, signing in by phone and code (it
makes the token, so it needs none), and the public check of a certificate's code (page and API),
which answers its standing only, under a per-address limit. Included by api.routers.self_service."""

from __future__ import annotations

from html import escape
from pathlib import Path as FilePath
from string import Template
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse

from jingwu.api.deps import ServicesDep, client_address
from jingwu.api.schemas.responses import ErrorOut, TokenOut
from jingwu.api.schemas.self_service import CodeRequest, CodeSentOut, SignInRequest, StandingOut
from jingwu.composition import Services
from jingwu.errors import TooManyAttempts

router = APIRouter(prefix="", tags=["self-service"])

_WEB = FilePath(__file__).resolve().parents[2] / "web" / "service"
_NO_CACHE = {"Cache-Control": "no-cache"}
_NO_STORE = {"Cache-Control": "no-store"}


# ------------------------------------------------------------------------------ the pages


@router.get("/service", include_in_schema=False)
def portal_redirect() -> RedirectResponse:
    return RedirectResponse("/service/", status_code=308)


@router.get("/service/", include_in_schema=False)
def portal() -> FileResponse:
    """The residents' portal (phone, and kiosk with ``?kiosk=1``)."""
    return FileResponse(_WEB / "index.html", headers=_NO_CACHE)


_VERIFY_PAGE = Template((_WEB / "verify.html").read_text(encoding="utf-8"))
_WORDS = {
    "valid": ("有效", "Valid", "ok"),
    "expired": ("已过期", "Expired", "bad"),
    "revoked": ("已撤销", "Revoked", "bad"),
    "unknown": ("无此证明（核验码不存在）", "Unknown: no certificate has this code", "bad"),
}


@router.get("/service/verify/{code}", include_in_schema=False)
def verify_page(code: str, request: Request, services: ServicesDep) -> Response:
    """The public page a certificate's QR code opens: its standing, rendered here (no script),
    under the same limit as the API; ``Accept: application/json`` gets the API's answer."""
    standing = _standing(code, request, services)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(standing.model_dump(), headers=_NO_STORE)
    zh, en, tone = _WORDS.get(standing.status, _WORDS["unknown"])
    page = _VERIFY_PAGE.safe_substitute(
        {
            "code": escape(standing.code),
            "status": escape(standing.status),
            "status_zh": zh,
            "status_en": en,
            "tone": tone,
            "facts_hidden": "hidden" if standing.status == "unknown" else "",
            "kind": escape(f"{standing.kind_zh or ''} {standing.kind_en or ''}".strip()),
            "issued_on": escape(standing.issued_on or ""),
            "valid_until": escape(standing.valid_until or ""),
            "station": escape(standing.station_name or ""),
        }
    )
    return HTMLResponse(page, headers=_NO_STORE)


# ------------------------------------------------------------------------------ sign-in (open)


@router.post("/api/service/sign-in/code", response_model=CodeSentOut, response_model_exclude_none=True)
def request_code(
    body: CodeRequest, request: Request, response: Response, services: ServicesDep
) -> CodeSentOut:
    """Send a sign-in code to a mobile number: 422 ``bad_phone`` / ``mobile_required``, 429
    ``too_many_attempts`` (with ``retry_after_s``) beyond one a minute and five an hour per phone,
    twenty an hour per address; 503 ``sms_unavailable`` where no sender is configured."""
    sent = services.self_service.sign_in.request_code(body.phone, source=client_address(request))
    response.headers["Cache-Control"] = "no-store"
    return CodeSentOut(
        expires_at=sent.expires_at.isoformat(), resend_after_s=sent.resend_after_s, demo_code=sent.demo_code
    )


@router.post("/api/service/sign-in", response_model=TokenOut)
def sign_in(body: SignInRequest, request: Request, response: Response, services: ServicesDep) -> TokenOut:
    """Sign in with the phone's code, as ``/api/auth/login`` does with a password: 401
    ``bad_code`` (with ``attempts_left``), ``code_expired``, ``no_code``; 429 once the code took
    five wrong tries. A phone's first sign-in makes its resident account."""
    signed = services.self_service.sign_in.verify(body.phone, body.code, source=client_address(request))
    response.headers["Cache-Control"] = "no-store"
    p = signed.principal
    return TokenOut(
        access_token=signed.access_token,
        expires_at=signed.expires_at.isoformat(),
        username=p.username,
        role=str(p.role),
        unit_id=p.unit_id,
        station_id=p.station_id,
    )


# ------------------------------------------------------------------------------ public verification


@router.get(
    "/api/service/verify/{code}",
    response_model=StandingOut,
    responses={429: {"model": ErrorOut, "description": "too_many_attempts"}},
)
def verify_certificate(
    code: Annotated[str, Path(min_length=1, max_length=64, description="as printed: JW-XXXXX-…-C")],
    request: Request,
    response: Response,
    services: ServicesDep,
) -> StandingOut:
    """Anyone may check a certificate's code: its standing, kind, issue date and station, never
    the person. 30 look-ups a minute per address (after a burst of 60)."""
    response.headers["Cache-Control"] = "no-store"
    return _standing(code, request, services)


def _standing(code: str, request: Request, services: Services) -> StandingOut:
    wait = services.self_service.verify_limit.take(client_address(request) or "unknown")
    if wait > 0:
        raise TooManyAttempts(
            "too many look-ups from this address; wait a little", retry_after_s=int(wait) + 1
        )
    standing = services.self_service.certificates.standing(code[:80])
    return StandingOut(
        code=standing.code,
        status=str(standing.standing),
        kind=standing.kind,
        kind_zh=standing.kind_zh,
        kind_en=standing.kind_en,
        issued_on=standing.issued_on,
        valid_until=standing.valid_until,
        station_name=standing.station_name,
    )
