"""Photos attached to an incident: upload (the raw image as the body), list, download."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from jingwu.api.deps import AttachmentReader, AttachmentWriter, ServicesDep, guard
from jingwu.api.idempotency import answer_with
from jingwu.api.schemas.responses import AttachmentOut, ErrorOut
from jingwu.domain.attachments import ACCEPTED_IMAGE_TYPES, UploadTooLarge, accepted_media_type
from jingwu.errors import ValidationFailed
from jingwu.service.views import attachment_view

router = APIRouter(prefix="/api", tags=["attachments"])

_IMAGE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            t: {"schema": {"type": "string", "format": "binary"}} for t in sorted(ACCEPTED_IMAGE_TYPES)
        },
    }
}


@router.post(
    "/incidents/{incident_id}/attachments",
    status_code=201,
    response_model=AttachmentOut,
    openapi_extra=_IMAGE_BODY,
    responses={
        413: {"model": ErrorOut, "description": "upload_too_large"},
        415: {"model": ErrorOut, "description": "unsupported_media_type"},
    },
)
async def upload(
    incident_id: str, request: Request, principal: AttachmentWriter, services: ServicesDep
) -> AttachmentOut:
    """Attach a photo: the body is the image itself, with Content-Type image/jpeg, image/png or
    image/webp (the bytes must agree), at most JINGWU_MAX_UPLOAD_BYTES. An officer may attach
    only to the incident their unit is assigned to."""
    # Every refusal that needs no body comes before a byte of it is read.
    await run_in_threadpool(guard(principal, services).own_incident, incident_id, doing="attach photos")
    declared = accepted_media_type(request.headers.get("content-type"))
    data = await _read_limited(request, services.settings.max_upload_bytes)
    # The added event carries the attachment's metadata, so the answer is rendered from it.
    answer_with(201, lambda d: AttachmentOut.model_validate(d.events[0].data["attachment"]))
    info = await run_in_threadpool(
        services.dispatch.add_attachment, incident_id, declared, data, actor=principal.username
    )
    return AttachmentOut.model_validate(attachment_view(info))


@router.get("/incidents/{incident_id}/attachments", response_model=list[AttachmentOut])
def list_attachments(
    incident_id: str, principal: AttachmentReader, services: ServicesDep
) -> list[AttachmentOut]:
    """An incident's photos; an officer sees only those of the incident their unit is on."""
    guard(principal, services).own_incident(incident_id, doing="see photos")
    return [
        AttachmentOut.model_validate(attachment_view(a))
        for a in services.dispatch.list_attachments(incident_id)
    ]


@router.get(
    "/attachments/{attachment_id}",
    response_class=Response,
    responses={200: {"content": {t: {} for t in sorted(ACCEPTED_IMAGE_TYPES)}, "description": "the image"}},
)
def download(attachment_id: str, principal: AttachmentReader, services: ServicesDep) -> Response:
    """One photo; an officer may fetch only those of the incident their unit is on (case photos
    may show victims and suspects: an id seen on the live stream is not a licence to look)."""
    info, data = services.dispatch.get_attachment(attachment_id)
    guard(principal, services).own_incident(info.incident_id, doing="see photos")
    return Response(
        data,
        media_type=info.content_type,
        headers={
            # Case photos may be evidence: a shared cache must not keep them.
            "Cache-Control": "private",
            "ETag": f'"{info.sha256}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


async def _read_limited(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to exceed ``limit``: from Content-Length
    before reading, and by counting while reading (the header may be absent or wrong)."""
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
