"""Community devices (docs/devices.md): register alarm columns, door readers and vehicle gates,
see which are online, read a door's or gate's passages (audited), and the MQTT subscriber's
health. The devices themselves never call this API: they publish to the broker."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from jingwu.api.deps import ServicesDep, client_address, needs
from jingwu.api.idempotency import withhold_from_replay
from jingwu.api.lookups import LookupReason, limit_lookups, reason_text
from jingwu.api.schemas.requests import LocationIn, StrictInt
from jingwu.api.schemas.responses import LocationOut
from jingwu.composition import Services
from jingwu.devices.protocol import TOPIC_ROOT
from jingwu.domain.access import Permission, Principal, station_ids_within
from jingwu.domain.devices import (
    COMMUNITY_MAX_CHARS,
    DEVICE_ID_PATTERN,
    HEARTBEAT_DEFAULT_S,
    HEARTBEAT_MAX_S,
    HEARTBEAT_MIN_S,
    CommunityDevice,
    DeviceKind,
)
from jingwu.domain.gcj02 import gcj02_point_to_wgs84
from jingwu.domain.geo import GeoPoint
from jingwu.errors import Forbidden
from jingwu.service.community_devices import ADDRESS_MAX_CHARS, AccessEvent, NewDevice, device_view

router = APIRouter(prefix="/api/devices", tags=["devices"])

DeviceReader = Annotated[Principal, Depends(needs(Permission.DEVICE_READ))]
DeviceAdmin = Annotated[Principal, Depends(needs(Permission.DEVICE_ADMIN))]
AccessEventReader = Annotated[Principal, Depends(needs(Permission.ACCESS_EVENT_READ))]
DeviceId = Annotated[str, Path(min_length=3, max_length=48, pattern=f"^{DEVICE_ID_PATTERN.pattern}$")]
# Secrets and people's comings and goings: no cache, shared or private, keeps them.
_NO_STORE = "no-store"


class DeviceRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(
        min_length=3,
        max_length=48,
        pattern=f"^{DEVICE_ID_PATTERN.pattern}$",
        description="the device's id, as in its topics: 3-48 of a-z, 0-9, '-', '_' (e.g. col-baojian-001)",
    )
    kind: DeviceKind
    community: str = Field(
        min_length=1, max_length=COMMUNITY_MAX_CHARS, description="the community (小区/社区) it serves"
    )
    location: LocationIn = Field(
        description="where the device stands; for an alarm column, where the caller will be. It "
        "must be within JINGWU_MAX_SNAP_DISTANCE_M of a drivable road (else 422 off_road)"
    )
    address: str | None = Field(default=None, max_length=ADDRESS_MAX_CHARS)
    heartbeat_s: StrictInt = Field(
        default=HEARTBEAT_DEFAULT_S,
        ge=HEARTBEAT_MIN_S,
        le=HEARTBEAT_MAX_S,
        description="how often the device sends a heartbeat; three missed ones make it offline",
    )


class DeviceOut(BaseModel):
    id: str
    kind: str
    community: str
    station_id: str | None
    location: LocationOut
    address: str | None
    heartbeat_s: int
    state: Literal["online", "offline", "never_seen"]
    online: bool
    last_seen: str | None
    alarm_incident_id: str | None = Field(description="the incident the column's latest press opened")
    alarm_pressed_at: str | None
    registered_at: str


class RegisteredDeviceOut(DeviceOut):
    secret: str | None = Field(
        description="the key of the device's message signatures, shown this once (null in an "
        "idempotent replay: it is not kept); configure it in the device"
    )
    topic_root: str = Field(
        description="where the device publishes: TOPIC_ROOT/{id}/{alarm|access|heartbeat}"
    )


class DeviceSecretOut(BaseModel):
    device_id: str
    secret: str | None = Field(description="the new key, shown this once; the old one no longer works")


class AccessEventOut(BaseModel):
    id: int
    device_id: str
    ts: str = Field(description="when it happened, by the device's clock")
    received_at: str
    kind: Literal["door", "gate"]
    direction: Literal["in", "out"]
    credential_type: str
    credential: str | None = Field(description="the card, enrolment or pass id, masked (****5678)")
    plate: str | None = Field(description="a gate's plate, masked (黑A***45)")
    result: Literal["granted", "denied"]


class MessageCountsOut(BaseModel):
    since: str
    received: int
    accepted: dict[str, int]
    dropped: dict[str, int]
    last_message_at: str | None


class DeviceHealthOut(BaseModel):
    enabled: bool = Field(description="whether this process subscribes (JINGWU_MQTT_URL is set)")
    broker: str | None
    subscription: str | None
    connected: bool
    connected_since: str | None
    reconnects: int
    last_error: str | None
    devices_registered: int = Field(description="devices in the registry (all stations)")
    messages: MessageCountsOut


def _out(device: CommunityDevice) -> DeviceOut:
    return DeviceOut.model_validate(device_view(device))


def _in_reach(principal: Principal, services: Services, device: CommunityDevice) -> CommunityDevice:
    if not principal.jurisdiction.covers_station(device.station_id, services.dispatch.district_of):
        raise Forbidden(
            "this device stands outside your jurisdiction",
            code="out_of_jurisdiction",
            device_id=device.id,
            jurisdiction=str(principal.jurisdiction),
        )
    return device


@router.post("", status_code=201, response_model=RegisteredDeviceOut)
def register_device(
    body: DeviceRegistration,
    principal: DeviceAdmin,
    request: Request,
    response: Response,
    services: ServicesDep,
) -> RegisteredDeviceOut:
    """Register a community device at its place; the answer holds its secret, once. The place
    decides the station (a commander registers only within their jurisdiction: 403
    out_of_jurisdiction). Refused: an id already taken (409 device_exists), a place too far from
    any road (422 off_road). Audited."""
    if body.location.crs == "gcj02":
        location = gcj02_point_to_wgs84(body.location.lat, body.location.lon)
    else:
        location = GeoPoint(body.location.lat, body.location.lon)
    station_id = services.dispatch.station_for(location)
    if not principal.jurisdiction.covers_station(station_id, services.dispatch.district_of):
        raise Forbidden(
            "this place lies outside your jurisdiction",
            code="out_of_jurisdiction",
            jurisdiction=str(principal.jurisdiction),
        )
    withhold_from_replay("secret")  # a retry is answered without it (see RegisteredDeviceOut)
    device, secret = services.community_devices.register(
        NewDevice(
            id=body.id,
            kind=body.kind,
            community=body.community,
            location=location,
            address=body.address,
            heartbeat_s=body.heartbeat_s,
        ),
        actor=principal.username,
        source=client_address(request),
    )
    response.headers["Cache-Control"] = _NO_STORE
    return RegisteredDeviceOut(**device_view(device), secret=secret, topic_root=f"{TOPIC_ROOT}/{device.id}")


@router.get("", response_model=list[DeviceOut])
def list_devices(
    principal: DeviceReader,
    services: ServicesDep,
    kind: Annotated[DeviceKind | None, Query(description="only devices of this kind")] = None,
) -> list[DeviceOut]:
    """Devices within the caller's jurisdiction, by community and id, each with its state
    (online, offline, never_seen) and when it was last heard from."""
    stations = station_ids_within(principal.jurisdiction, services.dispatch.district_of)
    return [_out(d) for d in services.community_devices.list_devices(station_ids=stations, kind=kind)]


@router.get("/health", response_model=DeviceHealthOut)
def subscriber_health(principal: DeviceReader, services: ServicesDep) -> DeviceHealthOut:
    """This server process's MQTT subscriber: its connection and what it has received since it
    started, accepted by kind and dropped by reason (oversized, malformed, unknown_device,
    unauthenticated, wrong_kind, stale, replayed, failed). Each process counts its own share."""
    return DeviceHealthOut.model_validate(services.community_devices.health())


@router.get("/{device_id}", response_model=DeviceOut)
def get_device(device_id: DeviceId, principal: DeviceReader, services: ServicesDep) -> DeviceOut:
    return _out(_in_reach(principal, services, services.community_devices.get(device_id)))


@router.post("/{device_id}/secret", response_model=DeviceSecretOut)
def issue_device_secret(
    device_id: DeviceId,
    principal: DeviceAdmin,
    request: Request,
    response: Response,
    services: ServicesDep,
) -> DeviceSecretOut:
    """A new secret for the device (lost, leaked, a new controller); the old one stops working
    at once and the device's message counter starts again. Audited."""
    _in_reach(principal, services, services.community_devices.get(device_id))
    withhold_from_replay("secret")  # a retry is answered without it (see RegisteredDeviceOut)
    secret = services.community_devices.issue_secret(
        device_id, actor=principal.username, source=client_address(request)
    )
    response.headers["Cache-Control"] = _NO_STORE
    return DeviceSecretOut(device_id=device_id, secret=secret)


def _event_out(event: AccessEvent) -> AccessEventOut:
    return AccessEventOut.model_validate(
        {
            "id": event.id,
            "device_id": event.device_id,
            "ts": event.ts.isoformat(),
            "received_at": event.received_at.isoformat(),
            "kind": event.kind,
            "direction": event.direction,
            "credential_type": event.credential_type,
            "credential": event.credential_masked,
            "plate": event.plate_masked,
            "result": event.result,
        }
    )


@router.get("/{device_id}/access-events", response_model=list[AccessEventOut])
def access_events(
    device_id: DeviceId,
    reason: LookupReason,
    principal: AccessEventReader,
    request: Request,
    response: Response,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before_id: Annotated[int | None, Query(ge=1, description="the next page: events before this id")] = None,
) -> list[AccessEventOut]:
    """A door's or gate's passages, newest first, credentials and plates masked. Who came and
    went is personal data: the look needs a reason (4+ characters, else 422 reason_required), is
    written to the audit log before the answer, and counts against the per-user look-up limit."""
    text = reason_text(reason)
    _in_reach(principal, services, services.community_devices.get(device_id))
    limit_lookups(request, principal)
    found = services.community_devices.access_events(
        device_id,
        actor=principal.username,
        reason=text,
        source=client_address(request),
        limit=limit,
        before_id=before_id,
    )
    response.headers["Cache-Control"] = _NO_STORE
    return [_event_out(e) for e in found]


__all__ = ["router"]
