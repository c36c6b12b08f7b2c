"""Cameras (docs/video.md): the registry (fixed, body and drone cameras), their state, a live
picture over a WebSocket, the latest snapshot; and for an incident, the cameras that can see it
and the evidence clips cut from their buffers."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import datetime
from typing import Annotated, Any, Literal

import httpx
from fastapi import APIRouter, Depends, Query, Request, Response, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from jingwu.api.deps import ServicesDep, client_address, guard, needs
from jingwu.api.idempotency import answer_with
from jingwu.api.routers.attachments import _read_limited
from jingwu.composition import Services
from jingwu.domain.access import Permission, Principal, station_ids_within
from jingwu.domain.attachments import media_type
from jingwu.domain.cameras import FAULT_STATES, Camera, CameraKind, CameraState
from jingwu.errors import Forbidden, JingwuError
from jingwu.service.video import PING, CameraUnavailable, camera_view, clip_view, relay_frames
from jingwu.service.video.coverage import Box, around, parse_request
from jingwu.service.video.evidence import ClipInfo
from jingwu.service.video.imports import parse_cameras
from jingwu.service.video.registry import spec_from_fields

router = APIRouter(tags=["cameras"])

CameraReader = Annotated[Principal, Depends(needs(Permission.CAMERA_READ))]
CameraAdmin = Annotated[Principal, Depends(needs(Permission.CAMERA_ADMIN))]
ClipWriter = Annotated[Principal, Depends(needs(Permission.ATTACHMENT_WRITE))]
ClipReader = Annotated[Principal, Depends(needs(Permission.ATTACHMENT_READ))]
RELAY_RETRY_S = 2.0
TOKEN_RECHECK_S = 30.0


class ViewIn(BaseModel):
    heading_deg: float
    fov_deg: float
    range_m: float
    height_m: float
    tilt_deg: float


class CameraIn(BaseModel):
    """A camera to register. ``stream_url`` may carry ``user:password@``: they are sealed and
    taken out of the URL that is kept and shown."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    kind: CameraKind = CameraKind.FIXED
    stream_url: str = Field(
        min_length=1, max_length=2000, description="rtsp://, rtsps://, http(s):// or file://"
    )
    owner: Literal["police", "property"] = "police"
    lat: float | None = Field(default=None, description="a fixed camera's place (WGS-84)")
    lon: float | None = None
    heading_deg: float | None = Field(default=None, description="clockwise from north")
    fov_deg: float | None = Field(default=None, description="horizontal field of view (default 90)")
    range_m: float | None = Field(default=None, description="how far it shows something useful (default 60)")
    height_m: float | None = None
    tilt_deg: float | None = None
    unit_id: str | None = Field(default=None, max_length=64, description="a body camera's or drone's unit")
    community: str | None = Field(default=None, max_length=120)
    station_id: str | None = Field(default=None, max_length=64, description="default: by place or unit")


class CameraPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=120)
    stream_url: str | None = Field(default=None, min_length=1, max_length=2000)
    owner: Literal["police", "property"] | None = None
    lat: float | None = None
    lon: float | None = None
    heading_deg: float | None = None
    fov_deg: float | None = None
    range_m: float | None = None
    height_m: float | None = None
    tilt_deg: float | None = None
    unit_id: str | None = Field(default=None, max_length=64)
    community: str | None = Field(default=None, max_length=120)
    station_id: str | None = Field(default=None, max_length=64)
    enabled: bool | None = None


class CameraOut(BaseModel):
    id: str
    name: str
    kind: str
    owner: str
    stream_url: str = Field(description="without credentials")
    has_credentials: bool
    lat: float | None
    lon: float | None
    view: ViewIn | None
    unit_id: str | None
    community: str | None
    station_id: str | None
    enabled: bool
    state: str = Field(description="unknown, online, offline, no_signal, frozen, black or unsupported")
    state_label: str
    state_since: str | None
    state_detail: str | None
    throw_calibration: dict[str, Any] | None = Field(
        default=None, description="the facade watched for thrown objects (PUT …/calibration), or null"
    )


class CameraListOut(BaseModel):
    cameras: list[CameraOut]


class ImportOut(BaseModel):
    added: int
    cameras: list[CameraOut]


class SightOut(BaseModel):
    camera: CameraOut
    rank: int
    sees: bool
    distance_m: float | None
    bearing_deg: float | None
    why: str
    why_zh: str
    reasons: list[str]


class IncidentCamerasOut(BaseModel):
    incident_id: str
    cameras: list[SightOut]


class ClipIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    camera_id: str = Field(min_length=1, max_length=64)
    from_: datetime = Field(alias="from", description="ISO-8601 with a zone")
    to: datetime


class ClipOut(BaseModel):
    id: str
    incident_id: str
    camera_id: str
    from_: str = Field(alias="from")
    to: str
    duration_s: float
    frames: int
    sha256: str
    size: int
    url: str
    created_at: str
    created_by: str | None
    requested_from: str | None = Field(
        default=None,
        description="the span as asked (in the answer to a cut): from and to say what the buffer held",
    )
    requested_to: str | None = None


class ClipListOut(BaseModel):
    clips: list[ClipOut]


def _out(camera: Camera) -> CameraOut:
    return CameraOut.model_validate(camera_view(camera))


def _in_reach(principal: Principal, services: Services, camera: Camera) -> Camera:
    if not principal.jurisdiction.covers_station(camera.station_id, services.dispatch.district_of):
        raise Forbidden(
            "this camera is outside your jurisdiction",
            code="out_of_jurisdiction",
            camera_id=camera.id,
            jurisdiction=str(principal.jurisdiction),
        )
    return camera


def _station_in_reach(principal: Principal, services: Services, station_id: str | None) -> None:
    if not principal.jurisdiction.covers_station(station_id, services.dispatch.district_of):
        raise Forbidden(
            "that place is outside your jurisdiction",
            code="out_of_jurisdiction",
            jurisdiction=str(principal.jurisdiction),
        )


@router.post("/api/cameras", status_code=201, response_model=CameraOut)
def add_camera(
    body: CameraIn,
    principal: CameraAdmin,
    request: Request,
    services: ServicesDep,
    probe: Annotated[
        bool,
        Query(
            description="look at the stream first (reachable, password right, H.264); false: register "
            "a camera not installed yet"
        ),
    ] = True,
) -> CameraOut:
    """Register a camera. The stream is looked at first unless ``probe=false``: refused with 422
    ``stream_unreachable``, ``stream_auth_failed``, ``stream_not_found`` or ``unsupported_codec``
    (nothing stored). Audited."""
    fields = body.model_dump()
    spec, _bare, _credentials = services.video.registry.checked(spec_from_fields(fields))
    _station_in_reach(principal, services, spec.station_id)
    camera = services.video.add(fields, actor=principal.username, source=client_address(request), probe=probe)
    return _out(camera)


@router.get("/api/cameras", response_model=CameraListOut)
def list_cameras(
    principal: CameraReader,
    services: ServicesDep,
    state: Annotated[
        str | None, Query(description="one state, or fault: every camera without a usable picture")
    ] = None,
    kind: CameraKind | None = None,
    station_id: str | None = None,
) -> CameraListOut:
    """Cameras within the caller's jurisdiction, by name, each with its state."""
    states: frozenset[CameraState] | None = None
    if state == "fault":
        states = FAULT_STATES
    elif state is not None:
        from jingwu.domain.cameras import parse_enum

        states = frozenset({parse_enum(CameraState, state, "state")})
    stations = station_ids_within(principal.jurisdiction, services.dispatch.district_of)
    if station_id is not None:
        _station_in_reach(principal, services, station_id)
        stations = frozenset({station_id})
    cameras = services.video.cameras(station_ids=stations, kind=kind, states=states)
    return CameraListOut(cameras=[_out(c) for c in cameras])


@router.post("/api/cameras/import", status_code=201, response_model=ImportOut)
async def import_cameras(
    request: Request,
    principal: CameraAdmin,
    services: ServicesDep,
    probe: Annotated[bool, Query(description="look at every stream first")] = False,
) -> ImportOut:
    """Register many cameras from a CSV (``text/csv``; header: name, kind, stream_url, owner,
    lat, lon, heading_deg, fov_deg, range_m, height_m, tilt_deg, unit_id, community, station_id)
    or a GeoJSON FeatureCollection of points (``application/geo+json``): all or none, 422
    ``import_invalid`` with each bad line's reason."""
    data = await _read_limited(request, services.settings.max_upload_bytes)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        from jingwu.errors import ValidationFailed

        raise ValidationFailed("the file is not UTF-8 text", code="import_invalid") from None
    registry = services.video.registry

    def check(spec: Any) -> None:
        checked, _bare, _credentials = registry.checked(spec)
        _station_in_reach(principal, services, checked.station_id)

    specs = await run_in_threadpool(
        parse_cameras, text, media_type(request.headers.get("content-type")), check
    )
    cameras = await run_in_threadpool(
        services.video.add_many, specs, actor=principal.username, source=client_address(request), probe=probe
    )
    return ImportOut(added=len(cameras), cameras=[_out(c) for c in cameras])


@router.get("/api/cameras/coverage")
def coverage(
    principal: CameraReader,
    services: ServicesDep,
    bbox: Annotated[
        str | None, Query(description="west,south,east,north; default: around the cameras in reach")
    ] = None,
) -> dict[str, Any]:
    """Which streets the fixed cameras see (field of view, range, buildings in the way) and which
    none does, as a GeoJSON FeatureCollection of stretches (``covered``, ``camera_ids``,
    ``length_m``); its ``properties`` hold the totals."""
    cameras = _cameras_in_reach(principal, services)
    box = Box.parse(bbox) if bbox else around(cameras)
    return services.video.coverage.coverage(cameras, box)


@router.get("/api/cameras/blind-spots")
def camera_blind_spots(
    principal: CameraReader,
    services: ServicesDep,
    bbox: Annotated[str | None, Query(description="west,south,east,north")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    suggest: Annotated[int, Query(ge=0, le=50, description="new camera positions to suggest")] = 5,
    days: Annotated[int, Query(ge=1, le=3650, description="incident history weighed")] = 365,
    request: Annotated[
        list[str] | None,
        Query(
            max_length=200,
            description="a community's request for a camera: lat,lon[,weight] (weight 1 = one "
            "incident; repeat the parameter for more)",
        ),
    ] = None,
) -> dict[str, Any]:
    """The blind spots (安全死角), heaviest first: uncovered street weighted by the incidents of
    the last ``days`` near it and the communities' requests; and where ``suggest`` new cameras
    would cover the most of it (a greedy maximum-coverage placement). ``geojson`` holds both for
    the map or an export."""
    cameras = _cameras_in_reach(principal, services)
    box = Box.parse(bbox) if bbox else around(cameras)
    stations = station_ids_within(principal.jurisdiction, services.dispatch.district_of)
    return services.video.coverage.blind_spots(
        cameras,
        box,
        limit=limit,
        suggest=suggest,
        days=days,
        station_ids=stations,
        requests=[parse_request(text) for text in request or []],
    )


def _cameras_in_reach(principal: Principal, services: Services) -> list[Camera]:
    stations = station_ids_within(principal.jurisdiction, services.dispatch.district_of)
    return services.video.cameras(station_ids=stations)


@router.get("/api/cameras/{camera_id}", response_model=CameraOut)
def get_camera(camera_id: str, principal: CameraReader, services: ServicesDep) -> CameraOut:
    return _out(_in_reach(principal, services, services.video.registry.get(camera_id)))


@router.patch("/api/cameras/{camera_id}", response_model=CameraOut)
def change_camera(
    camera_id: str,
    body: CameraPatch,
    principal: CameraAdmin,
    request: Request,
    services: ServicesDep,
    probe: bool = True,
) -> CameraOut:
    """Change a camera (the fields given); a new stream URL is looked at first unless
    ``probe=false``. Audited."""
    _in_reach(principal, services, services.video.registry.get(camera_id))
    changes = body.model_dump(exclude_unset=True)
    camera = services.video.registry.change(
        camera_id,
        changes,
        actor=principal.username,
        source=client_address(request),
        probe=probe,
        allowed=lambda spec: _station_in_reach(principal, services, spec.station_id),
    )
    return _out(camera)


@router.delete("/api/cameras/{camera_id}", status_code=204, response_class=Response)
def retire_camera(
    camera_id: str, principal: CameraAdmin, request: Request, services: ServicesDep
) -> Response:
    """Retire a camera: no longer read or listed; its clips stay with their incidents."""
    _in_reach(principal, services, services.video.registry.get(camera_id))
    services.video.registry.retire(camera_id, actor=principal.username, source=client_address(request))
    return Response(status_code=204)


@router.get(
    "/api/cameras/{camera_id}/snapshot.jpg",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}, "description": "the latest picture"}},
)
def snapshot(camera_id: str, principal: CameraReader, request: Request, services: ServicesDep) -> Response:
    """The camera's latest picture (a keyframe, at most a couple of seconds old). Audited."""
    _in_reach(principal, services, services.video.registry.get(camera_id))
    data, taken = services.video.snapshot(camera_id)
    services.audit.record(
        "camera.snapshot",
        actor=principal.username,
        target=f"camera:{camera_id}",
        source=client_address(request),
    )
    return Response(
        data, media_type="image/jpeg", headers={"Cache-Control": "no-store", "X-Taken-At": taken.isoformat()}
    )


@router.websocket("/api/cameras/{camera_id}/live")
async def live_view(websocket: WebSocket, camera_id: str, access_token: str = Query(default="")) -> None:
    """A camera's live picture: JSON texts ``{"type": "init", "mime"}`` and ``{"type": "state",
    "state", "detail"}``, binary fMP4 (an init segment after each init, then a fragment a frame);
    see web/shared/liveview.js. Close codes 4401 (log in), 4403 (not yours), 4404 (no camera).
    Each opening is audited."""
    services: Services = websocket.app.state.services
    await websocket.accept()
    try:
        principal = await run_in_threadpool(services.auth.sessions.authenticate, access_token)
        if not principal.may(Permission.CAMERA_READ):
            raise Forbidden(f"the role {principal.role} may not watch cameras", code="role_forbidden")
        camera = await run_in_threadpool(services.video.registry.get, camera_id)
        _in_reach(principal, services, camera)
    except JingwuError as exc:
        code = {401: 4401, 403: 4403, 404: 4404}.get(exc.http_status, 4422)
        await websocket.close(code=code, reason=exc.message[:120])
        return
    await run_in_threadpool(
        services.audit.record,
        "camera.viewed",
        actor=principal.username,
        target=f"camera:{camera_id}",
        source=websocket.client.host if websocket.client else None,
    )
    gone = asyncio.Event()
    refused: list[JingwuError] = []

    async def watch_client() -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            while True:
                await websocket.receive()
        gone.set()

    async def recheck() -> None:
        # As the events stream does: a session ended, a role changed or a camera moved out of
        # the viewer's jurisdiction stops the picture within TOKEN_RECHECK_S.
        while not gone.is_set():
            await asyncio.sleep(TOKEN_RECHECK_S)
            try:
                again = await run_in_threadpool(services.auth.sessions.authenticate, access_token)
                if not again.may(Permission.CAMERA_READ):
                    raise Forbidden("this role may no longer watch cameras", code="role_forbidden")
                _in_reach(again, services, await run_in_threadpool(services.video.registry.get, camera_id))
            except JingwuError as exc:
                refused.append(exc)
                gone.set()

    helpers = [asyncio.create_task(watch_client()), asyncio.create_task(recheck())]
    try:
        while not gone.is_set():
            # The relay is read until the viewer goes, whatever the camera does meanwhile.
            relaying = asyncio.create_task(_relay_once(websocket, services, camera_id, gone))
            leaving = asyncio.create_task(gone.wait())
            await asyncio.wait({relaying, leaving}, return_when=asyncio.FIRST_COMPLETED)
            for task in (relaying, leaving):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await relaying
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(gone.wait(), timeout=RELAY_RETRY_S)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        for task in helpers:
            task.cancel()
        with contextlib.suppress(Exception):
            if refused:
                code = {401: 4401, 403: 4403, 404: 4404}.get(refused[0].http_status, 4422)
                await websocket.close(code=code, reason=refused[0].message[:120])
            else:
                await websocket.close()


async def _relay_once(websocket: WebSocket, services: Services, camera_id: str, gone: asyncio.Event) -> None:
    """Pass the worker's live frames on until either side ends; a camera no worker reads is
    said as its state."""
    try:
        relay_url, token = await run_in_threadpool(services.video.relay_of, camera_id)
    except CameraUnavailable as exc:
        state = exc.params.get("state", "offline")
        await websocket.send_text(json.dumps({"type": "state", "state": state, "detail": exc.message}))
        return
    try:
        async with (
            httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=None)) as client,
            client.stream(
                "GET", f"{relay_url}/cameras/{camera_id}/live", headers={"Authorization": f"Bearer {token}"}
            ) as answer,
        ):
            if answer.status_code != 200:
                await websocket.send_text(
                    json.dumps({"type": "state", "state": "offline", "detail": "the video worker refused"})
                )
                return
            async for kind, payload in relay_frames(answer.aiter_raw()):
                if gone.is_set():
                    return
                if kind == "text" and payload == PING:
                    continue  # the relay's keep-alive, not the browser's business
                if kind == "text":
                    await websocket.send_text(payload.decode())
                else:
                    await websocket.send_bytes(payload)
    except httpx.HTTPError:
        await websocket.send_text(
            json.dumps(
                {"type": "state", "state": "offline", "detail": "the video worker went away; reconnecting"}
            )
        )


# ---------------------------------------------------------------- incidents


@router.get("/api/incidents/{incident_id}/cameras", response_model=IncidentCamerasOut)
def incident_cameras(incident_id: str, principal: CameraReader, services: ServicesDep) -> IncidentCamerasOut:
    """The cameras that can see the incident, ranked: fixed cameras with the place in their
    field of view and range and not hidden by a building first (nearest first), then those in
    range but facing away or blocked, then body cameras and drones of units near the scene;
    each with why."""
    incident = guard(principal, services).incident(incident_id)
    stations = station_ids_within(principal.jurisdiction, services.dispatch.district_of)
    ranked = services.video.incident_cameras(incident, station_ids=stations)
    return IncidentCamerasOut(incident_id=incident_id, cameras=[SightOut.model_validate(r) for r in ranked])


@router.post("/api/incidents/{incident_id}/clips", status_code=201, response_model=ClipOut)
def cut_clip(incident_id: str, body: ClipIn, principal: ClipWriter, services: ServicesDep) -> ClipOut:
    """Cut an evidence clip from a camera's buffer (H.264 MP4, as the camera sent it) from the
    keyframe at or before ``from`` to ``to``, and attach it to the incident with its SHA-256.
    Refused (422): a span in the future (``clip_in_future``), longer than the buffer
    (``clip_too_long``), or no longer held (``clip_not_buffered``); 409 ``camera_unavailable``
    when no worker reads the camera."""
    guard(principal, services).own_incident(incident_id, doing="cut clips")
    camera = _in_reach(principal, services, services.video.registry.get(body.camera_id))
    answer_with(201, lambda d: ClipOut.model_validate(d.events[0].data["clip"]))
    clip = services.video.cut_clip(incident_id, camera.id, body.from_, body.to, actor=principal.username)
    return ClipOut.model_validate(clip_view(clip))


@router.get("/api/incidents/{incident_id}/clips", response_model=ClipListOut)
def list_clips(incident_id: str, principal: ClipReader, services: ServicesDep) -> ClipListOut:
    guard(principal, services).own_incident(incident_id, doing="see clips")
    return ClipListOut(
        clips=[ClipOut.model_validate(clip_view(c)) for c in services.video.clips(incident_id)]
    )


@router.get(
    "/api/incidents/{incident_id}/clips/export",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "the clips and manifest.json"}},
)
def export_clips(
    incident_id: str, principal: ClipReader, request: Request, services: ServicesDep
) -> Response:
    """The incident's clips as a ZIP with a manifest of their SHA-256, size, camera and span, to
    hand over as evidence (audited)."""
    guard(principal, services).own_incident(incident_id, doing="export clips")
    data = services.video.export_clips(incident_id, actor=principal.username, source=client_address(request))
    return Response(
        data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{incident_id}-clips.zip"',
            "Cache-Control": "no-store",
        },
    )


@router.get(
    "/api/clips/{clip_id}",
    response_class=FileResponse,
    responses={200: {"content": {"video/mp4": {}}, "description": "the clip"}},
)
def download_clip(
    clip_id: str, principal: ClipReader, request: Request, services: ServicesDep
) -> FileResponse:
    """One clip (audited); its SHA-256 is in ``X-Content-SHA256``."""
    clip = services.video.clip(clip_id)
    guard(principal, services).own_incident(clip.incident_id, doing="see clips")
    services.audit.record(
        "clip.read", actor=principal.username, target=f"clip:{clip_id}", source=client_address(request)
    )
    return clip_response(services, clip)


def clip_response(services: Services, clip: ClipInfo) -> FileResponse:
    """A clip's file as evidence is handed out: its SHA-256 beside it, kept by no cache."""
    return FileResponse(
        services.video.clip_file(clip),
        media_type="video/mp4",
        filename=f"{clip.incident_id}-{clip.id}.mp4",
        headers={"X-Content-SHA256": clip.sha256, "Cache-Control": "no-store"},
    )
