"""Request bodies. Unknown keys are refused (``extra="forbid"``), so a typo is an error, not a no-op."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from jingwu.domain.status import SourceChannel, UnitStatus


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class LocationIn(Strict):
    lat: float = Field(ge=-90, le=90, description="WGS-84 latitude in degrees")
    lon: float = Field(ge=-180, le=180, description="WGS-84 longitude in degrees")


class ReporterIn(Strict):
    name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=32, pattern=r"^\+?[0-9 \-]{3,32}$")


class IncidentCreate(Strict):
    type_code: str = Field(min_length=1, max_length=64, description="a code from GET /api/incident-types")
    priority: int | None = Field(
        default=None, ge=1, le=4, description="1 (most urgent) … 4; omitted: the type's default priority"
    )
    location: LocationIn
    address: str | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, max_length=4000)
    source: SourceChannel
    reporter: ReporterIn | None = None


class DispatchRequest(Strict):
    unit_ids: list[str] = Field(min_length=1, max_length=20)


class UnitStatusRequest(Strict):
    status: UnitStatus


class CloseIncidentRequest(Strict):
    disposition: str | None = Field(default=None, max_length=500)


class MergeIncidentRequest(Strict):
    into: str = Field(min_length=1, max_length=64, description="the incident the duplicate repeats")


class BackupRequest(Strict):
    reason: str | None = Field(default=None, max_length=500)


class NoteRequest(Strict):
    text: str = Field(min_length=1, max_length=4000)


class PositionIn(Strict):
    unit_id: str = Field(min_length=1, max_length=64)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    heading: float | None = Field(default=None, ge=0, le=360)
    speed: float | None = Field(default=None, ge=0, le=100, description="metres per second")
    ts: datetime | None = Field(default=None, description="fix time; omitted: time of receipt")


class PositionBatch(Strict):
    positions: list[PositionIn] = Field(min_length=1, max_length=5000)
