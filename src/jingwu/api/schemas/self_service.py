"""Request and answer bodies of the residents' self-service (api.routers.self_service)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from jingwu.api.schemas.requests import LocationIn
from jingwu.composition import Services
from jingwu.domain.identity import mask_id_number, mask_name
from jingwu.domain.model import Incident
from jingwu.service.self_service import Application


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CodeRequest(Body):
    phone: str = Field(min_length=1, max_length=32, description="the resident's mobile number")


class CodeSentOut(BaseModel):
    expires_at: str
    resend_after_s: int
    demo_code: str | None = Field(
        default=None, description="only where the sender is the demo one: the code, to show on screen"
    )


class SignInRequest(Body):
    phone: str = Field(min_length=1, max_length=32)
    code: str = Field(pattern=r"^[0-9]{6}$", description="the six digits sent to the phone")


class StandingOut(BaseModel):
    code: str
    status: str = Field(description="valid, expired, revoked or unknown")
    kind: str | None = None
    kind_zh: str | None = None
    kind_en: str | None = None
    issued_on: str | None = None
    valid_until: str | None = None
    station_name: str | None = None


class DocumentKindOut(BaseModel):
    code: str
    zh: str
    en: str


class ApplicationKindOut(BaseModel):
    code: str
    zh: str
    en: str
    valid_days: int
    documents: list[DocumentKindOut]


class StationChoiceOut(BaseModel):
    id: str
    name: str
    district: str


class ReportTypeOut(BaseModel):
    code: str
    zh: str
    en: str


class ReportIn(Body):
    type_code: str = Field(min_length=1, max_length=64)
    location: LocationIn
    address: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)


class ReportOut(BaseModel):
    incident_id: str
    type_code: str
    status: str
    source: str
    address: str | None
    description: str | None
    created_at: str
    photos: int = 0


def report_out(incident: Incident, photos: int = 0) -> ReportOut:
    return ReportOut(
        incident_id=incident.id,
        type_code=incident.type_code,
        status=str(incident.status),
        source=str(incident.source),
        address=incident.address,
        description=incident.description,
        created_at=incident.created_at.isoformat(),
        photos=photos,
    )


class ApplicationIn(Body):
    kind: str = Field(min_length=1, max_length=40)
    applicant_name: str = Field(min_length=1, max_length=40)
    id_number: str = Field(min_length=1, max_length=24, description="居民身份证号码 (GB 11643)")
    address: str = Field(min_length=1, max_length=200, description="where the applicant lives")
    purpose: str | None = Field(default=None, max_length=200)
    station_id: str | None = Field(default=None, max_length=64, description="the station of the home")
    location: LocationIn | None = Field(default=None, description="the home's place: gives its station")


class DocumentOut(BaseModel):
    id: str
    document: str
    content_type: str
    size: int
    sha256: str
    created_at: str


class MissingOut(BaseModel):
    document: str
    zh: str
    en: str
    reason: str = Field(description="not_uploaded, or the officer's words")


class CheckOut(BaseModel):
    document: str
    ok: bool
    reason: str | None


class ApplicationOut(BaseModel):
    id: str
    kind: str
    kind_zh: str
    kind_en: str
    status: str
    station_id: str
    station_name: str
    applicant_name: str
    id_number: str
    address: str
    purpose: str | None
    documents_asked: list[DocumentKindOut]
    documents: list[DocumentOut]
    missing: list[MissingOut]
    checklist: list[CheckOut]
    refusal_reason: str | None
    certificate_code: str | None
    verified_by: str | None
    verified_at: str | None
    decided_by: str | None
    decided_at: str | None
    created_at: str
    updated_at: str
    masked: bool


def iso(value: object) -> str | None:
    return None if value is None else value.isoformat()  # type: ignore[attr-defined]


def application_out(services: Services, a: Application, *, full: bool) -> ApplicationOut:
    kind = next((k for k in services.self_service.kinds if k.code == a.kind), None)
    names = {d.code: d for d in kind.documents} if kind else {}
    station = next((s for s in services.dispatch.stations if s.id == a.station_id), None)
    return ApplicationOut(
        id=a.id,
        kind=a.kind,
        kind_zh=kind.zh if kind else a.kind,
        kind_en=kind.en if kind else a.kind,
        status=str(a.status),
        station_id=a.station_id,
        station_name=station.name if station else a.station_id,
        applicant_name=a.applicant_name if full else mask_name(a.applicant_name),
        id_number=a.applicant_id_number if full else mask_id_number(a.applicant_id_number),
        address=a.address if full else a.address[:6] + "…",
        purpose=a.purpose,
        documents_asked=[DocumentKindOut(code=d.code, zh=d.zh, en=d.en) for d in names.values()],
        documents=[
            DocumentOut(
                id=d.id,
                document=d.document,
                content_type=d.content_type,
                size=d.size,
                sha256=d.sha256,
                created_at=d.created_at.isoformat(),
            )
            for d in a.documents
        ],
        missing=[
            MissingOut(
                document=m.document,
                zh=names[m.document].zh if m.document in names else m.document,
                en=names[m.document].en if m.document in names else m.document,
                reason=m.reason,
            )
            for m in a.missing
        ],
        checklist=[CheckOut(document=c.document, ok=c.ok, reason=c.reason) for c in a.checklist],
        refusal_reason=a.refusal_reason,
        certificate_code=a.certificate_code,
        verified_by=a.verified_by,
        verified_at=iso(a.verified_at),
        decided_by=a.decided_by,
        decided_at=iso(a.decided_at),
        created_at=a.created_at.isoformat(),
        updated_at=a.updated_at.isoformat(),
        masked=not full,
    )


class CheckIn(Body):
    document: str = Field(min_length=1, max_length=40)
    ok: bool
    reason: str | None = Field(default=None, max_length=500, description="why it is missing (required then)")


class VerifyIn(Body):
    checks: list[CheckIn] = Field(min_length=1, max_length=30)


class ApproveIn(Body):
    note: str | None = Field(default=None, max_length=500)


class RefuseIn(Body):
    reason: str = Field(min_length=1, max_length=500)


class RevokeIn(Body):
    reason: str = Field(min_length=1, max_length=500)
