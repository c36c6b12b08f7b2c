"""Bodies and answers of administration: stations, units, personnel, shifts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from jingwu.api.schemas.requests import Body, StrictInt
from jingwu.api.schemas.responses import StationOut, UnitOut


class StationIn(Body):
    name: str = Field(min_length=1, max_length=100, examples=["南岗分局保健路派出所"])
    district: str = Field(min_length=1, max_length=100, examples=["南岗区"])
    jurisdiction: dict[str, Any] = Field(
        description="GeoJSON Polygon or MultiPolygon (or a Feature holding one), [lon, lat] positions, "
        "rings closed; refused if invalid (422 invalid_jurisdiction) or if it overlaps another station's "
        "(409 overlapping_jurisdiction)"
    )
    address: str | None = Field(default=None, max_length=300)
    id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="made if omitted")


class StationPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    district: str | None = Field(default=None, min_length=1, max_length=100)
    jurisdiction: dict[str, Any] | None = None
    address: str | None = Field(default=None, max_length=300)
    version: StrictInt | None = Field(
        default=None, description="the version edited (409 stale_station if it moved on)"
    )


class UnitIn(Body):
    callsign: str = Field(min_length=1, max_length=32, examples=["BJ21"])
    kind: str = Field(description="patrol_car, motorcycle, foot or drone", examples=["patrol_car"])
    station_id: str = Field(min_length=1, max_length=64, description="the home station")
    capabilities: list[str] = Field(default_factory=list, max_length=16, examples=[["traffic"]])
    radio_id: str | None = Field(default=None, max_length=64)
    terminal_id: str | None = Field(default=None, max_length=64)


class UnitPatch(Body):
    callsign: str | None = Field(default=None, min_length=1, max_length=32)
    kind: str | None = None
    station_id: str | None = Field(default=None, min_length=1, max_length=64)
    capabilities: list[str] | None = Field(default=None, max_length=16)
    radio_id: str | None = Field(default=None, max_length=64)
    terminal_id: str | None = Field(default=None, max_length=64)
    version: StrictInt | None = Field(
        default=None, description="the version edited (409 stale_unit if it moved on)"
    )


class PersonIn(Body):
    police_number: str = Field(
        min_length=4, max_length=32, description="警号: the user name they log in with"
    )
    name: str = Field(min_length=1, max_length=100)
    rank: str = Field(description="警衔, e.g. 一级警员, or 辅警", examples=["一级警员"])
    station_id: str = Field(min_length=1, max_length=64)
    role: str = Field(default="officer", description="officer, community_officer, dispatcher, commander, ...")
    password: str | None = Field(
        default=None, min_length=1, max_length=256, description="omitted: one is made and answered once"
    )


class PersonPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    rank: str | None = None
    station_id: str | None = Field(default=None, min_length=1, max_length=64)
    role: str | None = None
    version: StrictInt | None = None


class PersonOut(BaseModel):
    id: str
    police_number: str
    name: str
    rank: str
    station_id: str
    role: str | None
    unit_id: str | None = Field(description="the unit their current shift puts them on")
    retired_at: str | None
    version: int


class NewPersonOut(PersonOut):
    initial_password: str | None = Field(description="the password made for them, shown this once")


class CrewIn(Body):
    unit: str = Field(min_length=1, max_length=64, description="unit id or call sign")
    officers: list[str] = Field(min_length=1, max_length=8, description="police numbers (or person ids)")


class ShiftIn(Body):
    station_id: str = Field(min_length=1, max_length=64)
    kind: str = Field(description="day (08:00–20:00), night (20:00–08:00) or custom, in the bureau's time")
    day: date | None = Field(default=None, description="for day and night: the local day the shift starts")
    starts_at: datetime | None = Field(default=None, description="for custom: with a time zone")
    ends_at: datetime | None = None
    crews: list[CrewIn] = Field(default_factory=list, max_length=200)


class CrewOut(BaseModel):
    unit_id: str
    person_ids: list[str]


class ShiftOut(BaseModel):
    id: str
    station_id: str
    kind: str
    starts_at: str
    ends_at: str
    crews: list[CrewOut]


class OnDutyPerson(BaseModel):
    id: str
    police_number: str
    name: str
    rank: str


class UnitCrewOut(BaseModel):
    unit_id: str
    callsign: str
    station_id: str
    status: str
    officers: list[OnDutyPerson]


__all__ = [
    "CrewIn",
    "NewPersonOut",
    "PersonIn",
    "PersonOut",
    "PersonPatch",
    "ShiftIn",
    "ShiftOut",
    "StationIn",
    "StationOut",
    "StationPatch",
    "UnitCrewOut",
    "UnitIn",
    "UnitOut",
    "UnitPatch",
]
