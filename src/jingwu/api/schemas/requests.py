"""Request bodies. Unknown keys are refused (``extra="forbid"``), so a typo is an error, not a no-op."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict

from jingwu.domain.access import Role
from jingwu.domain.status import SourceChannel, UnitStatus

# Numbers must arrive as JSON numbers: "2" is not a priority, "45.7" is not a latitude.
StrictInt = Annotated[int, Strict()]
StrictFloat = Annotated[float, Strict()]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(Body):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    totp: str | None = Field(
        default=None,
        pattern=r"^[0-9]{6}$",
        description="the current code of the user's authenticator app (TOTP, RFC 6238), when they "
        "have a second factor. Without it such a log-in answers 401 totp_required (only once the "
        "password checked out); a wrong or already used code: 401 bad_totp.",
    )


class LocationIn(Body):
    lat: StrictFloat = Field(ge=-90, le=90, description="latitude in degrees, in the system named by crs")
    lon: StrictFloat = Field(ge=-180, le=180, description="longitude in degrees, in the system named by crs")
    crs: Literal["wgs84", "gcj02"] = Field(
        default="wgs84",
        description="the coordinate system of lat/lon: wgs84 (GPS; the default) or gcj02 (the offset "
        "'Mars' coordinates of maps licensed in China, e.g. AMap/Gaode, Tencent). gcj02 is converted "
        "to WGS-84 on arrival; Jingwu stores and answers only WGS-84.",
    )


class ReporterIn(Body):
    name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(
        default=None,
        max_length=32,
        description="a mainland mobile number, or a landline with its area code (optionally an "
        "extension); +86 / 0086, spaces and dashes allowed. Stored in E.164 (+86…). Emergency and "
        "service numbers (110, 12345, 95xxx, 400…) are refused: 422 bad_phone.",
    )
    id_number: str | None = Field(
        default=None,
        max_length=32,
        description="resident identity number (GB 11643: 18 characters, or a first-generation 15 "
        "digits, upgraded); check character, birth date and province are checked (422 bad_id_*). "
        "Stored encrypted; shown masked (2301**********123X).",
    )


class IncidentCreate(Body):
    type_code: str = Field(min_length=1, max_length=64, description="a code from GET /api/incident-types")
    priority: StrictInt | None = Field(
        default=None, ge=1, le=4, description="1 (most urgent) … 4; omitted: the type's default priority"
    )
    location: LocationIn
    address: str | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, max_length=4000)
    source: SourceChannel
    reporter: ReporterIn | None = None


class DispatchRequest(Body):
    unit_ids: list[str] = Field(min_length=1, max_length=20)


class UnitStatusRequest(Body):
    status: UnitStatus
    occurred_at: datetime | None = Field(
        default=None,
        description="when the change happened (with a time zone), if it is reported late, e.g. by a "
        "terminal that was offline; omitted: now. At most 60 s ahead of the server's clock and 12 h "
        "behind it; never before the unit's previous change.",
    )
    confirm_far: bool = Field(
        default=False,
        description="on_scene only: the crew confirms an arrival that the unit's last position puts "
        "farther from the scene than JINGWU_ARRIVAL_RADIUS_M (without it: 409 far_from_scene). The "
        "arrival is kept, flagged, and left out of the response-time figures.",
    )
    disposition: str | None = Field(
        default=None,
        max_length=500,
        description="cleared only: how the crew ended the incident (an officer must give it); it "
        "becomes the incident's disposition.",
    )


class CloseIncidentRequest(Body):
    disposition: str | None = Field(default=None, max_length=500)


class MergeIncidentRequest(Body):
    into: str = Field(min_length=1, max_length=64, description="the incident the duplicate repeats")


class BackupRequest(Body):
    reason: str | None = Field(default=None, max_length=500)


class NoteRequest(Body):
    text: str = Field(min_length=1, max_length=4000)


class PositionIn(Body):
    unit_id: str = Field(min_length=1, max_length=64)
    lat: StrictFloat = Field(ge=-90, le=90)
    lon: StrictFloat = Field(ge=-180, le=180)
    heading: StrictFloat | None = Field(default=None, ge=0, le=360)
    speed: StrictFloat | None = Field(default=None, ge=0, le=100, description="metres per second")
    ts: datetime | None = Field(
        default=None, description="fix time, with a zone (without: 422 naive_time); omitted: time of receipt"
    )
    accuracy: StrictFloat | None = Field(
        default=None, ge=0, description="metres: radius of the horizontal uncertainty"
    )
    altitude: StrictFloat | None = Field(default=None, description="metres")
    battery: StrictFloat | None = Field(default=None, ge=0, le=100, description="percent")


class PositionBatch(Body):
    positions: list[PositionIn] = Field(min_length=1, max_length=5000)


# A user name, station or unit id in a path or body: printable, as the accounts were created.
ACCOUNT_NAME = r"^[^\x00-\x1f\x7f]+$"


class UserChange(Body):
    """What an administrator changes of an account; what is left out stays as it is."""

    role: Role | None = Field(default=None, description="omitted or null: unchanged")
    jurisdiction: str | None = Field(
        default=None,
        max_length=200,
        description="city, district:NAME, station:ID or own (422 bad_jurisdiction otherwise). Omitted: "
        "unchanged, except that a default one follows a new role or station, and one becomes own "
        "(or leaves own) with the role of a resident",
    )
    station_id: str | None = Field(
        default=None,
        max_length=64,
        pattern=ACCOUNT_NAME,
        description="the station the user belongs to; null: none. Omitted: unchanged, or the "
        "station of the unit given",
    )
    unit_id: str | None = Field(
        default=None,
        max_length=64,
        pattern=ACCOUNT_NAME,
        description="the unit an officer's terminal or a device is bound to; null: none",
    )
    disabled: bool | None = Field(
        default=None, description="true: no log-in, and every session ends; false: enabled again"
    )


class PasswordReset(Body):
    password: str = Field(
        min_length=1,
        max_length=256,
        description="the new password (at least 12 characters of two kinds, not the user name, not a "
        "common one: 422 weak_password otherwise)",
    )
