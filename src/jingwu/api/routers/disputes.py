"""Dispute cases (矛盾纠纷): parties, risk, visits, agreements, follow-ups; the work lists; the
open disputes beside a call. Every case is cut to the caller's jurisdiction (the station whose
area holds its point); the parties' personal data is read only with a reason, audited first."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from jingwu.api.deps import DisputeReader, DisputeWriter, Guard, ServicesDep, client_address, guard
from jingwu.api.lookups import LookupReason, limit_lookups, reason_text
from jingwu.api.routers.attachments import _IMAGE_BODY, _read_limited
from jingwu.api.schemas.requests import Body, LocationIn
from jingwu.api.schemas.responses import ErrorOut
from jingwu.composition import Services
from jingwu.domain.access import Permission, Role
from jingwu.domain.attachments import ACCEPTED_IMAGE_TYPES, accepted_media_type
from jingwu.domain.disputes import RiskFactor, RiskLevel, parse_factors, parse_kind, parse_risk_level
from jingwu.domain.gcj02 import gcj02_point_to_wgs84
from jingwu.domain.geo import GeoPoint
from jingwu.domain.identity import parse_id_number, parse_phone
from jingwu.errors import Forbidden, ValidationFailed
from jingwu.service.disputes import DisputeEdit, NewDispute, NewParty, Reach
from jingwu.service.disputes.records import PARTY_ROLES

router = APIRouter(prefix="/api/disputes", tags=["disputes"])
# The console's question "any dispute at this call's address?", under the incident it is about.
# (The same answer is at /api/disputes/by-incident/{incident_id}.)
incidents_router = APIRouter(prefix="/api/incidents", tags=["disputes"])

_FACTORS_DOC = "stated risk factors: " + ", ".join(f.value for f in RiskFactor)


# ------------------------------------------------------------------ bodies


class PartyIn(Body):
    name: str = Field(min_length=1, max_length=50)
    phone: str | None = Field(default=None, max_length=32, description="422 bad_phone when not a number")
    id_number: str | None = Field(default=None, max_length=32, description="checked (422 bad_id_*)")
    role: str = Field(default="party", description="party, applicant or respondent")
    resident_id: str | None = Field(
        default=None, max_length=64, description="the registry's resident, when the party is one"
    )


class DisputeCreate(Body):
    kind: str = Field(description="neighbour, family, labour, property, debt, other (422 bad_dispute_kind)")
    summary: str = Field(min_length=1, max_length=2000)
    address: str = Field(min_length=1, max_length=300)
    location: LocationIn
    parties: list[PartyIn] = Field(max_length=20)
    risk_factors: list[str] = Field(default_factory=list, max_length=20, description=_FACTORS_DOC)
    officer: str | None = Field(
        default=None, max_length=64, description="the community officer who follows it (default: you, if one)"
    )


class DisputePatch(Body):
    version: int = Field(ge=1, description="the version you saw (409 stale_dispute when it moved on)")
    kind: str | None = None
    summary: str | None = Field(default=None, min_length=1, max_length=2000)
    address: str | None = Field(default=None, min_length=1, max_length=300)
    location: LocationIn | None = None
    risk_factors: list[str] | None = Field(default=None, max_length=20, description=_FACTORS_DOC)
    officer: str | None = Field(default=None, max_length=64)
    parties: list[PartyIn] | None = Field(default=None, max_length=20)


class VisitIn(Body):
    id: str | None = Field(
        default=None,
        max_length=52,
        description="dvs_ + 8-48 characters, chosen by an offline terminal so its photos can follow",
    )
    note: str = Field(min_length=1, max_length=4000)
    visited_at: datetime | None = Field(default=None, description="with a time zone; default: now")


class AgreementIn(Body):
    text: str = Field(min_length=1, max_length=4000)
    agreed_on: date | None = None


class FollowUpIn(Body):
    due_on: date = Field(description="a day of the bureau's calendar, today or later")
    note: str | None = Field(default=None, max_length=1000)


class FollowUpDone(Body):
    note: str | None = Field(default=None, max_length=1000)


class CloseIn(Body):
    outcome: str = Field(description="resolved, referred, withdrawn or other (422 bad_outcome)")
    note: str = Field(min_length=1, max_length=2000)


# ------------------------------------------------------------------ answers


class Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


class PartyOut(BaseModel):
    id: str
    role: str
    name: str
    has_phone: bool
    has_id_number: bool
    resident_id: str | None


class DisputeOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    kind: str
    summary: str
    address: str
    location: dict[str, float]
    station_id: str | None
    officer: str | None
    status: str
    risk_level: str
    risk_factors: list[str]
    risk_reasons: list[dict[str, str]]
    risk_raised_at: datetime | None
    risk_rising: bool
    next_follow_up_on: date | None
    overdue_days: int
    parties: list[PartyOut]
    created_at: datetime
    created_by: str
    updated_at: datetime
    version: int


class PartyDataOut(BaseModel):
    id: str
    role: str
    name: str
    phone: str | None
    id_number: str | None
    resident_id: str | None
    masked: bool


# ------------------------------------------------------------------ helpers


def _reach(g: Guard) -> Reach:
    def check(station_id: str | None) -> None:
        if not g.principal.jurisdiction.covers_station(station_id, g.district_of):
            raise Forbidden(
                "this dispute lies outside your jurisdiction",
                code="out_of_jurisdiction",
                station_id=station_id,
                jurisdiction=str(g.principal.jurisdiction),
            )

    return check


def _point(location: LocationIn) -> GeoPoint:
    if location.crs == "gcj02":
        return gcj02_point_to_wgs84(location.lat, location.lon)
    return GeoPoint(location.lat, location.lon)


def _parties(services: Services, parties: list[PartyIn]) -> list[NewParty]:
    today = datetime.now(services.settings.zone).date()
    found = []
    for p in parties:
        if p.role not in PARTY_ROLES:
            raise ValidationFailed(
                f"unknown party role {p.role!r}",
                code="bad_party_role",
                role=p.role,
                allowed=sorted(PARTY_ROLES),
            )
        name = " ".join(p.name.split())
        if not name:
            raise ValidationFailed("a party has a name", code="party_name_required")
        phone = parse_phone(p.phone).normalised if p.phone and p.phone.strip() else None
        id_number = (
            parse_id_number(p.id_number, today=today).number if p.id_number and p.id_number.strip() else None
        )
        found.append(NewParty(name, phone=phone, id_number=id_number, role=p.role, resident_id=p.resident_id))
    return found


def _out(view: dict[str, Any]) -> DisputeOut:
    return DisputeOut.model_validate(view)


# ------------------------------------------------------------------ routes


@router.post("", status_code=201, response_model=DisputeOut)
def open_case(body: DisputeCreate, principal: DisputeWriter, services: ServicesDep) -> DisputeOut:
    """Open a case at a place (WGS-84, or GCJ-02 converted): it belongs to the station whose area
    holds the point, which must be in your jurisdiction. Its risk is assessed from the stated factors."""
    kind = parse_kind(body.kind)
    factors = parse_factors(body.risk_factors)
    parties = _parties(services, body.parties)
    officer = body.officer
    if officer is None and principal.role is Role.COMMUNITY_OFFICER:
        officer = principal.username
    new = NewDispute(
        kind=kind,
        summary=body.summary.strip(),
        address=body.address.strip(),
        location=_point(body.location),
        parties=parties,
        factors=factors,
        officer=officer,
    )
    return _out(
        services.disputes.cases.open(new, actor=principal.username, reach=_reach(guard(principal, services)))
    )


@router.get("", response_model=list[DisputeOut])
def list_cases(
    principal: DisputeReader,
    services: ServicesDep,
    station_id: str | None = Query(default=None, max_length=64),
    status: Literal["open", "closed", "all"] = "open",
    overdue: bool | None = Query(
        default=None, description="only those with (true) or without an overdue follow-up"
    ),
    risk: str | None = Query(default=None, description="only this risk level (422 bad_risk_level)"),
    officer: str | None = Query(default=None, max_length=64),
    limit: int = Query(default=200, ge=1, le=1000),
) -> list[DisputeOut]:
    """The station's work list (within your jurisdiction): overdue follow-ups first, then rising
    risk, then by risk. Names masked."""
    level: RiskLevel | None = parse_risk_level(risk) if risk is not None else None
    g = guard(principal, services)
    if station_id is not None:
        _reach(g)(station_id)
    views = services.disputes.lists.list(
        station_ids=g.station_ids,
        station_id=station_id,
        status=None if status == "all" else status,
        officer=officer,
        overdue=overdue,
        risk=level,
        limit=limit,
    )
    return [_out(v) for v in views]


@router.get("/mine", response_model=list[DisputeOut])
def my_cases(
    principal: DisputeReader,
    services: ServicesDep,
    overdue: bool | None = None,
    limit: int = Query(default=200, ge=1, le=1000),
) -> list[DisputeOut]:
    """The open cases you follow (the community officer's list), overdue first, then rising risk."""
    g = guard(principal, services)
    views = services.disputes.lists.list(
        station_ids=g.station_ids, officer=principal.username, overdue=overdue, limit=limit
    )
    return [_out(v) for v in views]


def _beside(incident_id: str, principal: DisputeReader, services: Services) -> list[DisputeOut]:
    g = guard(principal, services)
    g.incident(incident_id)
    views = services.disputes.escalation.for_incident(incident_id, station_ids=g.station_ids)
    return [_out(v) for v in views]


@router.get("/by-incident/{incident_id}", response_model=list[DisputeOut])
def beside_incident(incident_id: str, principal: DisputeReader, services: ServicesDep) -> list[DisputeOut]:
    """The open disputes at a call's address or with its caller as a party (escalated by it, or
    matching it now), gravest risk first; each with ``matched_by`` and ``escalated``."""
    return _beside(incident_id, principal, services)


@incidents_router.get("/{incident_id}/disputes", response_model=list[DisputeOut])
def incident_disputes(incident_id: str, principal: DisputeReader, services: ServicesDep) -> list[DisputeOut]:
    """As GET /api/disputes/by-incident/{incident_id}."""
    return _beside(incident_id, principal, services)


@router.get(
    "/photos/{photo_id}",
    response_class=Response,
    responses={200: {"content": {t: {} for t in sorted(ACCEPTED_IMAGE_TYPES)}, "description": "the image"}},
)
def photo(photo_id: str, principal: DisputeReader, services: ServicesDep) -> Response:
    content_type, sha256, data = services.disputes.work.photo(
        photo_id, reach=_reach(guard(principal, services))
    )
    return Response(
        data,
        media_type=content_type,
        headers={"Cache-Control": "private", "ETag": f'"{sha256}"', "X-Content-Type-Options": "nosniff"},
    )


@router.get("/{dispute_id}", response_model=DisputeOut)
def get_case(dispute_id: str, principal: DisputeReader, services: ServicesDep) -> DisputeOut:
    """The case with its visits, agreements, follow-ups and the calls that escalated it (names masked)."""
    return _out(services.disputes.cases.get(dispute_id, reach=_reach(guard(principal, services))))


@router.patch("/{dispute_id}", response_model=DisputeOut)
def edit_case(
    dispute_id: str, body: DisputePatch, principal: DisputeWriter, services: ServicesDep
) -> DisputeOut:
    """Change what is given; ``version`` must be the one you saw. Each change is in the history."""
    edit = DisputeEdit(
        version=body.version,
        kind=parse_kind(body.kind) if body.kind is not None else None,
        summary=body.summary.strip() if body.summary else None,
        address=body.address.strip() if body.address else None,
        location=_point(body.location) if body.location else None,
        factors=parse_factors(body.risk_factors) if body.risk_factors is not None else None,
        officer=body.officer,
        parties=_parties(services, body.parties) if body.parties is not None else None,
    )
    g = guard(principal, services)
    return _out(services.disputes.cases.edit(dispute_id, edit, actor=principal.username, reach=_reach(g)))


@router.get("/{dispute_id}/history", response_model=list[Answer])
def history(dispute_id: str, principal: DisputeReader, services: ServicesDep) -> list[Answer]:
    """Every change: version, when, who, what (field: [before, after]); parties only masked."""
    changes = services.disputes.cases.history(dispute_id, reach=_reach(guard(principal, services)))
    return [Answer.model_validate(c) for c in changes]


@router.get("/{dispute_id}/parties", response_model=list[PartyDataOut])
def parties(
    dispute_id: str,
    principal: DisputeReader,
    request: Request,
    response: Response,
    services: ServicesDep,
    reason: LookupReason = "",
    full: bool = Query(default=False, description="unmasked (roles with personal_data.full only)"),
) -> list[PartyDataOut]:
    """The parties' names, phones and ID numbers, masked unless ``full``; written to the audit log
    first with ``reason``. Rate-limited per user (429)."""
    if full and not principal.may(Permission.PERSONAL_DATA_FULL):
        raise Forbidden(
            f"the role {principal.role} sees parties masked only",
            code="role_forbidden",
            role=str(principal.role),
            permission=str(Permission.PERSONAL_DATA_FULL),
        )
    text = reason_text(reason)
    g = guard(principal, services)
    limit_lookups(request, principal)
    shown = services.disputes.cases.parties(
        dispute_id,
        actor=principal.username,
        reason=text,
        full=full,
        source=client_address(request),
        reach=_reach(g),
    )
    response.headers["Cache-Control"] = "no-store"
    return [PartyDataOut.model_validate(p) for p in shown]


@router.post("/{dispute_id}/visits", status_code=201, response_model=Answer)
def add_visit(dispute_id: str, body: VisitIn, principal: DisputeWriter, services: ServicesDep) -> Answer:
    """A mediation visit with its note; the photos follow at …/visits/{visit_id}/photos."""
    if body.visited_at is not None and body.visited_at.tzinfo is None:
        raise ValidationFailed("visited_at needs a time zone", code="naive_time")
    visit = services.disputes.work.add_visit(
        dispute_id,
        note=body.note.strip(),
        visited_at=body.visited_at,
        visit_id=body.id,
        actor=principal.username,
        reach=_reach(guard(principal, services)),
    )
    return Answer.model_validate(visit)


@router.post(
    "/{dispute_id}/visits/{visit_id}/photos",
    status_code=201,
    response_model=Answer,
    openapi_extra=_IMAGE_BODY,
    responses={
        413: {"model": ErrorOut, "description": "upload_too_large"},
        415: {"model": ErrorOut, "description": "unsupported_media_type"},
    },
)
async def add_photo(
    dispute_id: str, visit_id: str, request: Request, principal: DisputeWriter, services: ServicesDep
) -> Answer:
    """A visit's photo: the body is the image, Content-Type image/jpeg, image/png or image/webp (the
    bytes must agree), at most JINGWU_MAX_UPLOAD_BYTES."""
    reach = _reach(guard(principal, services))
    await run_in_threadpool(services.disputes.cases.check_reach, dispute_id, reach=reach)
    declared = accepted_media_type(request.headers.get("content-type"))
    data = await _read_limited(request, services.settings.max_upload_bytes)
    added = await run_in_threadpool(
        services.disputes.work.add_photo,
        dispute_id,
        visit_id,
        declared,
        data,
        actor=principal.username,
        reach=reach,
    )
    return Answer.model_validate(added)


@router.post("/{dispute_id}/agreements", status_code=201, response_model=Answer)
def add_agreement(
    dispute_id: str, body: AgreementIn, principal: DisputeWriter, services: ServicesDep
) -> Answer:
    agreement = services.disputes.work.add_agreement(
        dispute_id,
        text=body.text.strip(),
        agreed_on=body.agreed_on,
        actor=principal.username,
        reach=_reach(guard(principal, services)),
    )
    return Answer.model_validate(agreement)


@router.post("/{dispute_id}/follow-ups", status_code=201, response_model=Answer)
def add_follow_up(
    dispute_id: str, body: FollowUpIn, principal: DisputeWriter, services: ServicesDep
) -> Answer:
    """A day to follow the case up on; overdue from the next day (the bureau's calendar)."""
    follow = services.disputes.work.add_follow_up(
        dispute_id,
        due_on=body.due_on,
        note=body.note,
        actor=principal.username,
        reach=_reach(guard(principal, services)),
    )
    return Answer.model_validate(follow)


@router.post("/{dispute_id}/follow-ups/{follow_up_id}/done", response_model=Answer)
def complete_follow_up(
    dispute_id: str, follow_up_id: str, body: FollowUpDone, principal: DisputeWriter, services: ServicesDep
) -> Answer:
    done = services.disputes.work.complete_follow_up(
        dispute_id,
        follow_up_id,
        note=body.note,
        actor=principal.username,
        reach=_reach(guard(principal, services)),
    )
    return Answer.model_validate(done)


@router.post("/{dispute_id}/close", response_model=DisputeOut)
def close_case(dispute_id: str, body: CloseIn, principal: DisputeWriter, services: ServicesDep) -> DisputeOut:
    closed = services.disputes.cases.close(
        dispute_id,
        outcome=body.outcome,
        note=body.note.strip(),
        actor=principal.username,
        reach=_reach(guard(principal, services)),
    )
    return _out(closed)


__all__ = ["incidents_router", "router"]
