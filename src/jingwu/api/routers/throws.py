"""Thrown objects (高空抛物, docs/throws.md): the facade a fixed camera watches, set and removed by
those who run the camera; and the throws the video workers detected, for an incident and for the
cameras in reach."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from jingwu.api.deps import ServicesDep, client_address, guard, needs
from jingwu.api.routers.cameras import CameraAdmin, CameraOut, CameraReader, _in_reach, _out, clip_response
from jingwu.composition import Services
from jingwu.domain.access import Permission, Principal, station_ids_within
from jingwu.domain.cameras import Camera
from jingwu.errors import Forbidden, NotFound, ValidationFailed

router = APIRouter(tags=["throws"])

IncidentReader = Annotated[Principal, Depends(needs(Permission.INCIDENT_READ))]


class CalibrationIn(BaseModel):
    """The facade as drawn on a still of the camera: its corners in the video's pixels
    (bottom-left, bottom-right, top-right, top-left), floors, window columns, the floor height,
    and optionally the columns' centres and how far balconies stand out."""

    model_config = ConfigDict(extra="forbid")

    facade: dict[str, Any] = Field(
        description="corners_px, floors, columns, floor_height_m; column_centres, protrusion_depth_m"
    )


class ThrowOut(BaseModel):
    id: str
    incident_id: str
    camera_id: str
    camera_name: str
    community: str | None
    detected_at: str = Field(description="the wall time of the first frame the object was seen in")
    landed_at: str
    floor: int | None = Field(description="1 = the ground floor; null when the detector could not tell")
    column: int | None = Field(description="the window column from the left of the picture, 1 first")
    floor_uncertainty: float = Field(description="one standard deviation, in floors")
    confidence: float
    track: list[tuple[int, float, float]] = Field(description="[frame, u, v] in the video's pixels")
    snapshot_attachment_id: str | None
    clip_id: str | None


class ThrowListOut(BaseModel):
    throws: list[ThrowOut]


@router.put("/api/cameras/{camera_id}/calibration", response_model=CameraOut)
def set_calibration(
    camera_id: str, body: CalibrationIn, principal: CameraAdmin, request: Request, services: ServicesDep
) -> CameraOut:
    """Set the facade the camera watches for thrown objects; its worker starts analysing within
    a couple of seconds. Refused (422): ``calibration_invalid`` (the field named in
    ``params.field``), ``camera_wrong_way`` (the outline cannot be seen from a camera at the foot
    of the wall, or lies outside the camera's picture), ``camera_not_fixed`` (a body camera or a
    drone moves). Audited."""
    camera = services.video.throws.calibrate(
        camera_id,
        body.model_dump(),
        actor=principal.username,
        source=client_address(request),
        allowed=lambda c: _allowed(principal, services, c),
    )
    return _out(camera)


@router.delete("/api/cameras/{camera_id}/calibration", status_code=204, response_class=Response)
def remove_calibration(
    camera_id: str, principal: CameraAdmin, request: Request, services: ServicesDep
) -> Response:
    """Stop watching the camera for thrown objects (its detections stay). Audited."""
    services.video.throws.uncalibrate(
        camera_id,
        actor=principal.username,
        source=client_address(request),
        allowed=lambda c: _allowed(principal, services, c),
    )
    return Response(status_code=204)


def _allowed(principal: Principal, services: Services, camera: Camera) -> None:
    """The camera within the caller's jurisdiction (403 ``out_of_jurisdiction``), checked before
    anything else is said about the calibration."""
    _in_reach(principal, services, camera)


@router.get("/api/incidents/{incident_id}/throws", response_model=ThrowListOut)
def incident_throws(incident_id: str, principal: IncidentReader, services: ServicesDep) -> ThrowListOut:
    """The thrown objects behind an incident (the first opened it, the others were noted on it),
    first first, each with its track and the ids of its snapshot and clip."""
    guard(principal, services).incident(incident_id)
    return ThrowListOut(
        throws=[ThrowOut.model_validate(t) for t in services.video.throws.for_incident(incident_id)]
    )


@router.get("/api/throws", response_model=ThrowListOut)
def recent_throws(
    principal: CameraReader,
    services: ServicesDep,
    since: Annotated[datetime | None, Query(description="ISO-8601 with a zone: detected at or after")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ThrowListOut:
    """The latest thrown objects seen by the cameras in the caller's jurisdiction, newest first."""
    if since is not None and since.tzinfo is None:
        raise ValidationFailed(
            "since needs a time zone (ISO-8601 with an offset)", code="bad_time", field="since"
        )
    stations = station_ids_within(principal.jurisdiction, services.dispatch.district_of)
    found = services.video.throws.recent(station_ids=stations, since=since, limit=limit)
    return ThrowListOut(throws=[ThrowOut.model_validate(t) for t in found])


def _evidence_of(throw_id: str, principal: Principal, services: Services) -> dict[str, Any]:
    """The throw, when its call's station lies in the caller's jurisdiction (403 otherwise)."""
    item, station_id = services.video.throws.get(throw_id)
    stations = station_ids_within(principal.jurisdiction, services.dispatch.district_of)
    if stations is not None and station_id not in stations:
        raise Forbidden("this thrown object is another station's", code="out_of_jurisdiction")
    return item


@router.get(
    "/api/throws/{throw_id}/snapshot.jpg",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}, "description": "the landing with the track drawn"}},
)
def throw_snapshot(
    throw_id: str, principal: CameraReader, request: Request, services: ServicesDep
) -> Response:
    """The snapshot of a throw, for those who watch the camera where its call is (the community's
    officers among them, who hold no right to the call's other photos). Audited."""
    item = _evidence_of(throw_id, principal, services)
    if not item["snapshot_attachment_id"]:
        raise NotFound("this thrown object has no snapshot", code="throw_snapshot_missing")
    info, data = services.dispatch.get_attachment(item["snapshot_attachment_id"])
    services.audit.record(
        "throw.evidence_read",
        actor=principal.username,
        target=f"throw:{throw_id}:snapshot",
        source=client_address(request),
    )
    return Response(
        data, media_type=info.content_type, headers={"Cache-Control": "private", "ETag": f'"{info.sha256}"'}
    )


@router.get(
    "/api/throws/{throw_id}/clip",
    response_class=FileResponse,
    responses={200: {"content": {"video/mp4": {}}, "description": "the evidence clip"}},
)
def throw_clip(
    throw_id: str, principal: CameraReader, request: Request, services: ServicesDep
) -> FileResponse:
    """The evidence clip of a throw (404 ``throw_clip_missing`` while it is being cut), on the
    same terms as its snapshot; its SHA-256 in ``X-Content-SHA256``. Audited."""
    item = _evidence_of(throw_id, principal, services)
    if not item["clip_id"]:
        raise NotFound("the clip of this thrown object is not cut yet", code="throw_clip_missing")
    clip = services.video.clip(item["clip_id"])
    services.audit.record(
        "throw.evidence_read",
        actor=principal.username,
        target=f"throw:{throw_id}:clip",
        source=client_address(request),
    )
    return clip_response(services, clip)
