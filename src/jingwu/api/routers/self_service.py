"""Residents' self-service: sign-in by code, applications, certificates and their public verification.

Paths are written out in full (no router prefix): the API under ``/api/service/``, the resident
portal at ``/service/`` and the public verification page at ``/service/verify/{code}`` (those,
and the phone sign-in, are the open routes of api.routers.self_service_open, included here). A
resident sees only their own applications and reports (another's answers 404, as if absent); the
station's officers see their stations' applications, masked unless their role reads personal data
in full, each look audited before the answer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from jingwu.api.deps import (
    ServiceApplicant,
    ServiceApprover,
    ServiceHandler,
    ServicesDep,
    client_address,
    guard,
)
from jingwu.api.routers import self_service_open
from jingwu.api.schemas.requests import LocationIn
from jingwu.api.schemas.responses import AttachmentOut, ErrorOut
from jingwu.api.schemas.self_service import (
    ApplicationIn,
    ApplicationKindOut,
    ApplicationOut,
    ApproveIn,
    DocumentKindOut,
    DocumentOut,
    RefuseIn,
    ReportIn,
    ReportOut,
    ReportTypeOut,
    RevokeIn,
    StandingOut,
    StationChoiceOut,
    VerifyIn,
    application_out,
    report_out,
)
from jingwu.composition import Services
from jingwu.domain.access import Permission, Principal
from jingwu.domain.attachments import UploadTooLarge
from jingwu.domain.gcj02 import gcj02_point_to_wgs84
from jingwu.domain.geo import GeoPoint
from jingwu.domain.self_service import (
    ACCEPTED_DOCUMENT_TYPES,
    AWAITING_VERIFICATION,
    ApplicationStatus,
    DocumentCheck,
)
from jingwu.errors import NotFound, ValidationFailed
from jingwu.service.self_service import Application, NewApplication
from jingwu.service.self_service.applications import application_not_found
from jingwu.service.self_service.reports import report_types
from jingwu.service.views import attachment_view

router = APIRouter(prefix="", tags=["self-service"])
# The portal page, phone sign-in and the public check: no token (api.routers.self_service_open).
router.include_router(self_service_open.router)

HANDLING = "办理居民申请 handling a resident's application"


# ------------------------------------------------------------------------------ what may be asked


@router.get("/api/service/kinds", response_model=list[ApplicationKindOut])
def application_kinds(principal: ServiceApplicant, services: ServicesDep) -> list[ApplicationKindOut]:
    """What a resident may apply for and the documents each asks for (the bureau's configuration)."""
    return [
        ApplicationKindOut(
            code=k.code,
            zh=k.zh,
            en=k.en,
            valid_days=k.valid_days,
            documents=[DocumentKindOut(code=d.code, zh=d.zh, en=d.en) for d in k.documents],
        )
        for k in services.self_service.kinds
    ]


@router.get("/api/service/stations", response_model=list[StationChoiceOut])
def station_choices(principal: ServiceApplicant, services: ServicesDep) -> list[StationChoiceOut]:
    """The stations a resident may apply at (the one whose area holds their home)."""
    return [
        StationChoiceOut(id=s.id, name=s.name, district=s.district)
        for s in services.dispatch.stations
        if s.retired_at is None
    ]


@router.get("/api/service/report-types", response_model=list[ReportTypeOut])
def non_urgent_types(principal: ServiceApplicant) -> list[ReportTypeOut]:
    """The non-urgent incident types a resident may report here (anything urgent: call 110)."""
    return [ReportTypeOut(code=t.code, zh=t.name_zh, en=t.name_en) for t in report_types()]


# ------------------------------------------------------------------------------ non-urgent reports


def _point(location: LocationIn) -> GeoPoint:
    if location.crs == "gcj02":
        return gcj02_point_to_wgs84(location.lat, location.lon)
    return GeoPoint(location.lat, location.lon)


@router.post("/api/service/reports", status_code=201, response_model=ReportOut)
def report(body: ReportIn, principal: ServiceApplicant, services: ServicesDep) -> ReportOut:
    """A non-urgent report with its place: an incident in the one queue, from the app channel
    (422 ``not_a_non_urgent_type`` for an urgent type: call 110)."""
    incident = services.self_service.reports.report(
        body.type_code,
        _point(body.location),
        address=body.address,
        description=body.description,
        actor=principal.username,
    )
    return report_out(incident)


@router.get("/api/service/reports", response_model=list[ReportOut])
def my_reports(principal: ServiceApplicant, services: ServicesDep) -> list[ReportOut]:
    """The caller's own reports, with how they stand."""
    reports = services.self_service.reports
    return [
        report_out(i, len(services.dispatch.list_attachments(i.id))) for i in reports.mine(principal.username)
    ]


_UPLOAD = {
    "requestBody": {
        "required": True,
        "content": {
            t: {"schema": {"type": "string", "format": "binary"}} for t in sorted(ACCEPTED_DOCUMENT_TYPES)
        },
    }
}
_UPLOAD_REFUSALS: dict[int | str, dict[str, object]] = {
    413: {"model": ErrorOut, "description": "upload_too_large"},
    415: {"model": ErrorOut, "description": "unsupported_media_type"},
}


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ValidationFailed("Content-Length is not a number", code="bad_content_length")
        if int(declared) > limit:
            raise UploadTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise UploadTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/api/service/reports/{report_id}/photos",
    status_code=201,
    response_model=AttachmentOut,
    openapi_extra=_UPLOAD,
    responses=_UPLOAD_REFUSALS,
)
async def report_photo(
    report_id: str, request: Request, principal: ServiceApplicant, services: ServicesDep
) -> AttachmentOut:
    """A photo of one's own report (the body is the image: JPEG, PNG or WebP), kept with the
    incident's attachments."""
    reports = services.self_service.reports
    await run_in_threadpool(reports.own, report_id, principal.username)
    data = await _read_limited(request, services.settings.max_upload_bytes)
    info = await run_in_threadpool(
        reports.add_photo,
        report_id,
        request.headers.get("content-type", ""),
        data,
        username=principal.username,
    )
    return AttachmentOut.model_validate(attachment_view(info))


# ------------------------------------------------------------------------------ applications


def _own(services: Services, principal: Principal, application_id: str) -> Application:
    """The caller's own application; another's is as good as absent (404)."""
    application = services.self_service.applications.get(application_id)
    if application.user_id != principal.user_id:
        raise application_not_found(application_id)
    return application


def _station_id(services: Services, body: ApplicationIn) -> str:
    if body.station_id is not None:
        if body.station_id not in services.dispatch.district_of:
            raise NotFound(
                f"no station {body.station_id!r}", code="station_not_found", station_id=body.station_id
            )
        return body.station_id
    if body.location is None:
        raise ValidationFailed("say where you live: a station or the home's place", code="station_required")
    station_id = services.dispatch.station_for(_point(body.location))
    if station_id is None:
        raise ValidationFailed("no station's area holds this place", code="outside_jurisdiction")
    return station_id


@router.post("/api/service/applications", status_code=201, response_model=ApplicationOut)
def apply(
    body: ApplicationIn, request: Request, principal: ServiceApplicant, services: ServicesDep
) -> ApplicationOut:
    """Apply for a residence permit or a certificate (``GET /api/service/kinds``): 422
    ``unknown_application_kind``, ``bad_id_*``, ``name_required``, ``address_required``,
    ``station_required``, ``outside_jurisdiction``. The answer lists what is still missing."""
    application = services.self_service.applications.create(
        NewApplication(
            kind=body.kind,
            applicant_name=body.applicant_name,
            applicant_id_number=body.id_number,
            address=body.address,
            station_id=_station_id(services, body),
            purpose=body.purpose,
        ),
        user_id=principal.user_id,
        actor=principal.username,
        source=client_address(request),
    )
    return application_out(services, application, full=True)


@router.get("/api/service/applications", response_model=list[ApplicationOut])
def my_applications(principal: ServiceApplicant, services: ServicesDep) -> list[ApplicationOut]:
    """The caller's own applications, newest first."""
    found = services.self_service.applications.find(user_id=principal.user_id)
    return [application_out(services, a, full=True) for a in found]


@router.get("/api/service/applications/{application_id}", response_model=ApplicationOut)
def my_application(application_id: str, principal: ServiceApplicant, services: ServicesDep) -> ApplicationOut:
    return application_out(services, _own(services, principal, application_id), full=True)


@router.post(
    "/api/service/applications/{application_id}/documents",
    status_code=201,
    response_model=DocumentOut,
    openapi_extra=_UPLOAD,
    responses=_UPLOAD_REFUSALS,
)
async def upload_document(
    application_id: str,
    request: Request,
    principal: ServiceApplicant,
    services: ServicesDep,
    document: Annotated[str, Query(min_length=1, max_length=40, description="which asked-for document")],
) -> DocumentOut:
    """One file of an asked-for document: the body is the file itself (JPEG, PNG, WebP or PDF,
    the bytes agreeing with the Content-Type), at most JINGWU_MAX_UPLOAD_BYTES."""
    await run_in_threadpool(_own, services, principal, application_id)
    data = await _read_limited(request, services.settings.max_upload_bytes)
    info = await run_in_threadpool(
        services.self_service.applications.add_document,
        application_id,
        document,
        request.headers.get("content-type"),
        data,
        actor=principal.username,
    )
    return DocumentOut(
        id=info.id,
        document=info.document,
        content_type=info.content_type,
        size=info.size,
        sha256=info.sha256,
        created_at=info.created_at.isoformat(),
    )


@router.post("/api/service/applications/{application_id}/resubmit", response_model=ApplicationOut)
def resubmit(
    application_id: str, request: Request, principal: ServiceApplicant, services: ServicesDep
) -> ApplicationOut:
    """Back to the community officer once every missing document is brought (422
    ``documents_missing`` with the list otherwise)."""
    _own(services, principal, application_id)
    application = services.self_service.applications.resubmit(
        application_id, actor=principal.username, source=client_address(request)
    )
    return application_out(services, application, full=True)


def _document_response(services: Services, application_id: str, document_id: str) -> Response:
    info, data = services.self_service.applications.document(document_id)
    if info.application_id != application_id:
        raise NotFound(f"no document {document_id!r}", code="document_not_found", document_id=document_id)
    return Response(
        data,
        media_type=info.content_type,
        headers={
            "Cache-Control": "private, no-store",
            "Content-Disposition": "inline",
            "X-Content-Type-Options": "nosniff",
        },
    )


_DOCUMENT_RESPONSE: dict[int | str, dict[str, object]] = {
    200: {"content": {t: {} for t in sorted(ACCEPTED_DOCUMENT_TYPES)}, "description": "the file"}
}
_PDF_RESPONSE: dict[int | str, dict[str, object]] = {
    200: {"content": {"application/pdf": {}}, "description": "the certificate"}
}


@router.get(
    "/api/service/applications/{application_id}/documents/{document_id}",
    response_class=Response,
    responses=_DOCUMENT_RESPONSE,
)
def my_document(
    application_id: str, document_id: str, principal: ServiceApplicant, services: ServicesDep
) -> Response:
    _own(services, principal, application_id)
    return _document_response(services, application_id, document_id)


def _pdf(services: Services, application_id: str) -> Response:
    code, pdf = services.self_service.certificates.pdf(application_id)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Cache-Control": "private, no-store",
            "Content-Disposition": f'attachment; filename="{code}.pdf"',
        },
    )


@router.get(
    "/api/service/applications/{application_id}/certificate", response_class=Response, responses=_PDF_RESPONSE
)
def my_certificate(application_id: str, principal: ServiceApplicant, services: ServicesDep) -> Response:
    """The approved application's certificate (PDF); 404 ``certificate_not_found`` before."""
    _own(services, principal, application_id)
    return _pdf(services, application_id)


# ------------------------------------------------------------------------------ the station's side


def _in_reach(
    services: Services, principal: Principal, application_id: str, request: Request, action: str
) -> Application:
    """An application of a station the caller holds (403 ``out_of_jurisdiction`` otherwise), its
    look audited before it is answered."""
    application = services.self_service.applications.get(application_id)
    guard(principal, services).station(application.station_id)
    services.audit.record(
        action,
        actor=principal.username,
        target=application_id,
        source=client_address(request),
        reason=HANDLING,
        details={"full": principal.may(Permission.PERSONAL_DATA_FULL)},
    )
    return application


def _full(principal: Principal) -> bool:
    return principal.may(Permission.PERSONAL_DATA_FULL)


@router.get("/api/service/station/applications", response_model=list[ApplicationOut])
def station_applications(
    request: Request,
    principal: ServiceHandler,
    services: ServicesDep,
    status: Annotated[
        list[ApplicationStatus] | None, Query(description="default: those waiting for verification")
    ] = None,
    station_id: Annotated[str | None, Query(max_length=64)] = None,
) -> list[ApplicationOut]:
    """The applications of the caller's stations (one, with ``station_id``), oldest waiting
    first; masked unless the role reads personal data in full. The listing is audited."""
    g = guard(principal, services)
    reach = g.station_ids
    if station_id is not None:
        g.station(station_id)
        reach = frozenset({station_id})
    statuses = set(status) if status else set(AWAITING_VERIFICATION)
    found = services.self_service.applications.find(station_ids=reach, statuses=statuses)
    services.audit.record(
        "service.applications_listed",
        actor=principal.username,
        source=client_address(request),
        reason=HANDLING,
        details={"ids": [a.id for a in found][:200], "statuses": sorted(statuses)},
    )
    full = _full(principal)
    return [application_out(services, a, full=full) for a in reversed(found)]


@router.get("/api/service/station/applications/{application_id}", response_model=ApplicationOut)
def station_application(
    application_id: str, request: Request, principal: ServiceHandler, services: ServicesDep
) -> ApplicationOut:
    application = _in_reach(services, principal, application_id, request, "service.application_read")
    return application_out(services, application, full=_full(principal))


@router.get(
    "/api/service/station/applications/{application_id}/documents/{document_id}",
    response_class=Response,
    responses=_DOCUMENT_RESPONSE,
)
def station_document(
    application_id: str, document_id: str, request: Request, principal: ServiceHandler, services: ServicesDep
) -> Response:
    """A document's file, for the officer checking it on site (audited)."""
    _in_reach(services, principal, application_id, request, "service.document_read")
    return _document_response(services, application_id, document_id)


@router.post("/api/service/station/applications/{application_id}/verify", response_model=ApplicationOut)
def verify_application(
    application_id: str, body: VerifyIn, request: Request, principal: ServiceHandler, services: ServicesDep
) -> ApplicationOut:
    """The on-site verdict, one check per asked-for document: all in order → ``verified``; any
    missing (with its reason) → ``missing_documents``. 422 ``checklist_incomplete``,
    ``reason_required``, ``unknown_document``; 409 ``bad_application_status``."""
    _in_reach(services, principal, application_id, request, "service.application_read")
    application = services.self_service.applications.verify(
        application_id,
        [DocumentCheck(c.document, c.ok, c.reason) for c in body.checks],
        actor=principal.username,
        source=client_address(request),
    )
    return application_out(services, application, full=_full(principal))


@router.post("/api/service/station/applications/{application_id}/approve", response_model=ApplicationOut)
def approve_application(
    application_id: str, body: ApproveIn, request: Request, principal: ServiceApprover, services: ServicesDep
) -> ApplicationOut:
    """Approve a verified application; its certificate is issued at once (409
    ``bad_application_status`` before verification)."""
    _in_reach(services, principal, application_id, request, "service.application_read")
    application = services.self_service.applications.approve(
        application_id,
        actor=principal.username,
        base_url=str(request.base_url),
        source=client_address(request),
    )
    return application_out(services, application, full=_full(principal))


@router.post("/api/service/station/applications/{application_id}/refuse", response_model=ApplicationOut)
def refuse_application(
    application_id: str, body: RefuseIn, request: Request, principal: ServiceApprover, services: ServicesDep
) -> ApplicationOut:
    """Refuse with a reason the resident is told (422 ``reason_required``)."""
    _in_reach(services, principal, application_id, request, "service.application_read")
    application = services.self_service.applications.refuse(
        application_id, body.reason, actor=principal.username, source=client_address(request)
    )
    return application_out(services, application, full=_full(principal))


@router.get(
    "/api/service/station/applications/{application_id}/certificate",
    response_class=Response,
    responses=_PDF_RESPONSE,
)
def station_certificate(
    application_id: str, request: Request, principal: ServiceHandler, services: ServicesDep
) -> Response:
    """The certificate as issued, for printing at the station (audited)."""
    _in_reach(services, principal, application_id, request, "service.certificate_read")
    return _pdf(services, application_id)


@router.post("/api/service/certificates/{code}/revoke", response_model=StandingOut)
def revoke_certificate(
    code: str, body: RevokeIn, principal: ServiceApprover, services: ServicesDep
) -> StandingOut:
    """Revoke a certificate of one's stations: its code answers ``revoked`` from then on."""
    standing = services.self_service.certificates.revoke(
        code, body.reason, actor=principal.username, station_ids=guard(principal, services).station_ids
    )
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
