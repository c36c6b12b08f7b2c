"""Bodies and answers of the position routes: the JSON batch of gateways and the terminal, the
verdicts, and a unit's track as GeoJSON."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict

StrictFloat = Annotated[float, Strict()]


class FixIn(BaseModel):
    """One fix. Coordinates are checked by the GPS filter, fix by fix, not here: one bad fix in
    a gateway's batch is rejected on its own, the others are stored."""

    model_config = ConfigDict(extra="forbid")

    unit_id: str = Field(min_length=1, max_length=64)
    lat: StrictFloat = Field(description="WGS-84 degrees")
    lon: StrictFloat = Field(description="WGS-84 degrees")
    ts: datetime | None = Field(
        default=None, description="fix time, ISO 8601 with a zone (without: 422 naive_time); omitted: receipt"
    )
    heading: StrictFloat | None = Field(default=None, description="degrees from north; negative: unknown")
    speed: StrictFloat | None = Field(default=None, description="metres per second; negative: unknown")
    altitude: StrictFloat | None = Field(default=None, description="metres")
    accuracy: StrictFloat | None = Field(
        default=None, description="metres, radius of the horizontal uncertainty; negative: invalid fix"
    )
    battery: StrictFloat | None = Field(default=None, description="percent (0-100)")
    valid: bool = Field(default=True, description="false: the device itself calls the fix invalid")


class FixBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    positions: list[FixIn] = Field(min_length=1, max_length=5000)


class OutcomeOut(BaseModel):
    index: int = Field(description="the fix's place in the request, from 0")
    unit_id: str
    reason: str = Field(description="domain.gps.Reason: why rejected, or the remark on an accepted fix")


class BatchVerdictsOut(BaseModel):
    accepted: int = Field(description="fixes stored as positions of their units (current or history)")
    rejected: list[OutcomeOut] = Field(description="fixes that are not positions of their units")
    flagged: list[OutcomeOut] = Field(
        description="accepted with a remark: late or stale (history only, the unit is not moved), "
        "or reanchored"
    )


class GeometryOut(BaseModel):
    type: Literal["LineString", "Point"]
    coordinates: list[list[float]] | list[float] = Field(description="[lon, lat] pairs (a Point: one pair)")


class TrackPropertiesOut(BaseModel):
    kind: Literal["track"] = "track"
    times: list[str] = Field(description="each point's fix time, ISO 8601 UTC, in coordinate order")
    speeds: list[float | None]
    headings: list[float | None]
    accuracies: list[float | None]
    altitudes: list[float | None]
    batteries: list[float | None]
    sources: list[str]
    remarks: list[str | None] = Field(description="late, stale, reanchored or null, per point")


class TrackFeatureOut(BaseModel):
    type: Literal["Feature"] = "Feature"
    geometry: GeometryOut | None = Field(
        description="LineString of two or more points, a Point for one, null for none"
    )
    properties: TrackPropertiesOut


class RejectedPropertiesOut(BaseModel):
    kind: Literal["rejected"] = "rejected"
    time: str
    reason: str
    accuracy: float | None
    speed: float | None
    source: str


class RejectedFeatureOut(BaseModel):
    type: Literal["Feature"] = "Feature"
    geometry: GeometryOut
    properties: RejectedPropertiesOut


class TrackOut(BaseModel):
    """A GeoJSON FeatureCollection (RFC 7946) whose first feature is the track; the rejected
    fixes follow as Point features when asked for. The range and paging are foreign members."""

    model_config = ConfigDict(populate_by_name=True)

    type: Literal["FeatureCollection"] = "FeatureCollection"
    unit_id: str
    from_: str = Field(alias="from")
    to: str
    count: int = Field(description="points in the track feature")
    truncated: bool = Field(description="more points lie in the range: ask again from next_from")
    next_from: str | None
    features: list[TrackFeatureOut | RejectedFeatureOut]


__all__ = [
    "BatchVerdictsOut",
    "FixBatch",
    "FixIn",
    "GeometryOut",
    "OutcomeOut",
    "RejectedFeatureOut",
    "TrackFeatureOut",
    "TrackOut",
]
