"""Answers of the address routes: suggestions for what a call taker typed, and the address at a
map click."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Kind = Literal[
    "address", "street", "crossing", "community", "school", "hospital", "station", "mall", "stop", "place"
]


class GeocodeResultOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(description="the address as the index writes it: 红军街85号, 果戈里大街与红军街交口")
    lat: float = Field(description="WGS-84 degrees")
    lon: float = Field(description="WGS-84 degrees")
    kind: Kind
    district: str = Field(description="district (区) at the point; empty outside every district")
    subdistrict: str = Field(description="street office (街道) at the point; empty where none")
    score: float = Field(ge=0, le=100, description="100: the exact name; lower: a looser match")


class GeocodeOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    results: list[GeocodeResultOut] = Field(description="best first")


class NearbyStreetOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    distance_m: float = Field(ge=0)
    lat: float
    lon: float


class ReverseOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(description="district + nearest address, crossing or street; empty far from all")
    district: str
    subdistrict: str
    address: GeocodeResultOut | None = Field(description="the nearest house-number address, if within 60 m")
    crossing: GeocodeResultOut | None = Field(description="the nearest intersection, if within 40 m")
    street: NearbyStreetOut | None = Field(description="the nearest named street, if within 300 m")
