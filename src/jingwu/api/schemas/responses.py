"""Response bodies: what crosses the API, and nothing more."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    code: str = Field(description="what went wrong, for programs: e.g. validation_failed, not_found")
    message: str = Field(description="the same for people")
    params: dict[str, Any] = Field(description="the values the message names")


class ErrorOut(BaseModel):
    """Every refusal and failure, whatever its status, answers in this shape."""

    error: ErrorBody


class FailedTriesOut(BaseModel):
    source: str = Field(description='the client address the tries came from ("" when unknown)')
    count: int
    last_at: str


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: str
    username: str
    role: str
    unit_id: str | None
    station_id: str | None
    failed_logins: list[FailedTriesOut] = Field(
        default_factory=list,
        description="failed log-ins on this account since its last successful one, by address, "
        "newest first: shown to the owner once, at this log-in",
    )


class ReporterOut(BaseModel):
    incident_id: str
    name: str | None
    phone: str | None = Field(description="E.164 when full, else masked (138****5678)")
    id_number: str | None = Field(description="18 characters when full, else masked (2301**********123X)")
    masked: bool


class MeOut(BaseModel):
    username: str
    role: str
    unit_id: str | None
    station_id: str | None
    jurisdiction: str = Field(description="city, district:NAME, station:ID or own")
    permissions: list[str] = Field(description="what the role may do (a client shows only these actions)")


class IncidentTypeOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    category: str
    category_zh: str
    category_en: str
    default_priority: int
    eido_type: str
    allowed_unit_kinds: list[str]
    required_capabilities: list[str]


class LocationOut(BaseModel):
    lat: float
    lon: float


class PositionOut(BaseModel):
    lat: float
    lon: float
    ts: str
    heading: float | None
    speed: float | None


class UnitOut(BaseModel):
    id: str
    callsign: str
    kind: str
    station_id: str
    status: str
    primary_status: str
    capabilities: list[str]
    incident_id: str | None
    status_changed_at: str | None
    position: PositionOut | None
    version: int = Field(default=0, description="send it back with an edit (PATCH) to refuse a stale one")
    radio_id: str | None = None
    terminal_id: str | None = None
    retired_at: str | None = None


class IncidentOut(BaseModel):
    id: str
    type_code: str
    priority: int
    location: LocationOut
    address: str | None
    description: str | None
    source: str
    status: str
    station_id: str | None
    created_by: str | None
    created_at: str
    stage_times: dict[str, str]
    merged_into: str | None
    linked_ids: list[str]
    disposition: str | None
    version: int


class RecommendationOut(BaseModel):
    unit_id: str
    callsign: str
    kind: str
    status: str
    eta_s: float
    distance_m: float
    straight_line_m: float
    route: dict[str, Any] | None
    conditional: bool = Field(
        default=False,
        description="not free (cleared from a call, or busy): offered for urgent calls only, after "
        "every free unit",
    )


class NearbyUnitOut(BaseModel):
    """A unit near an incident and why it is, or is not, on the recommendation list."""

    unit_id: str
    callsign: str
    kind: str
    status: str
    straight_line_m: float
    recommended: bool
    rank: int | None = Field(description="0-based place on the recommendation list, or null")
    eta_s: float | None = Field(description="road travel time when it is eligible and can reach the scene")
    reason: str | None = Field(
        description="why not recommended: no_position, on_this_incident, not_available, routine_call, "
        "kind_not_allowed, missing_capability, off_road, unreachable, outranked; null when recommended"
    )
    allowed_kinds: list[str] = Field(description="the unit kinds this incident type takes")
    missing_capabilities: list[str] = Field(description="what this type needs that the unit lacks")


class DispatchOut(BaseModel):
    incident: IncidentOut
    units: list[UnitOut]
    ack_deadline: str


class StationOut(BaseModel):
    id: str
    name: str
    district: str
    jurisdiction: dict[str, Any] = Field(description="GeoJSON MultiPolygon, (lon, lat)")
    address: str | None = None
    retired_at: str | None = None
    version: int = 0


class EventOut(BaseModel):
    id: int | None
    type: str
    ts: str
    incident_id: str | None
    unit_id: str | None
    actor: str | None
    data: dict[str, Any]


class HealthOut(BaseModel):
    status: str
    # A demo server says so, so that every page can carry a "demo" banner before log-in too.
    demo: bool = False


class MapCenterOut(BaseModel):
    lat: float
    lon: float


class MapConfigOut(BaseModel):
    tile_url: str | None = Field(description="raster tile URL template, or null: draw /api/map/roads only")
    tile_attribution: str | None
    attribution: str = Field(description="the road data's attribution; always shown")
    center: MapCenterOut
    bounds: list[list[float]] = Field(description="[[south, west], [north, east]] of the road network")
    timezone: str = Field(
        description="the bureau's IANA time zone (JINGWU_TIMEZONE), for every screen's clock"
    )


class StatsTodayOut(BaseModel):
    date: str = Field(description="the local day, YYYY-MM-DD")
    timezone: str
    open_incidents: int
    pending_incidents: int
    units_total: int
    units_available: int
    incidents_today: int
    median_call_to_dispatch_s: float | None
    median_dispatch_to_arrival_s: float | None
    arrival_target_s: int
    arrivals_today: int
    arrivals_within_target: int
    arrivals_flagged: int = Field(
        description="incidents whose every arrival was flagged (reported far from the scene, without "
        "a current position, or sooner than the road allows): in neither the median nor the share"
    )


class UnitRouteOut(BaseModel):
    unit_id: str
    incident_id: str
    eta_s: float | None = Field(description="road travel time; null when the unit is off every road")
    distance_m: float | None
    straight_line_m: float
    route: dict[str, Any] | None = Field(description="GeoJSON Feature with a LineString geometry, or null")


class AttachmentOut(BaseModel):
    id: str
    incident_id: str
    content_type: str
    size: int
    sha256: str
    created_at: str
    created_by: str


class UserOut(BaseModel):
    """An account as an administrator sees it; never a password hash or a second-factor secret."""

    username: str
    display_name: str | None
    role: str
    jurisdiction: str = Field(description="city, district:NAME, station:ID or own")
    station_id: str | None
    unit_id: str | None
    disabled: bool
    totp: str = Field(description="the second factor: none, pending (not yet confirmed) or active")
    locked_until: str | None = Field(description="set while failed log-ins keep the account locked")
    created_at: str


class SessionsEndedOut(BaseModel):
    ended: int = Field(description="how many live sessions (or device keys) were revoked")


class UnlockedOut(BaseModel):
    unlocked: int = Field(description="how many addresses were locked out or counting failures")
