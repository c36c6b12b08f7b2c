"""Stations administered: create, edit, retire (admins). Reading them is ``GET /api/stations``
(reference data, for everyone who draws the map)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from jingwu.api.deps import ServicesDep, StationAdmin
from jingwu.api.schemas.admin import StationIn, StationPatch
from jingwu.api.schemas.responses import StationOut
from jingwu.domain.areas import area_from_geojson
from jingwu.service.administration.stations import StationDraft, station_view

router = APIRouter(prefix="/api/admin/stations", tags=["administration"])


def _out(view: dict[str, Any]) -> StationOut:
    return StationOut.model_validate(view)


@router.get("", response_model=list[StationOut])
def list_stations(
    _admin: StationAdmin,
    services: ServicesDep,
    include_retired: bool = Query(default=False, description="list retired stations too"),
) -> list[StationOut]:
    return [_out(station_view(s)) for s in services.admin.stations.list(include_retired=include_retired)]


@router.post("", response_model=StationOut, status_code=201)
def create_station(body: StationIn, principal: StationAdmin, services: ServicesDep) -> StationOut:
    """A new station with its jurisdiction. In force at once in every server process: places in
    its area belong to it from now on."""
    draft = StationDraft(
        name=body.name,
        district=body.district,
        jurisdiction=area_from_geojson(body.jurisdiction),
        address=body.address,
        id=body.id,
    )
    return _out(station_view(services.admin.stations.create(draft, actor=principal.username)))


@router.get("/{station_id}", response_model=StationOut)
def get_station(station_id: str, _admin: StationAdmin, services: ServicesDep) -> StationOut:
    return _out(station_view(services.admin.stations.get(station_id)))


@router.patch("/{station_id}", response_model=StationOut)
def edit_station(
    station_id: str, body: StationPatch, principal: StationAdmin, services: ServicesDep
) -> StationOut:
    changes: dict[str, Any] = body.model_dump(exclude_unset=True, exclude={"version"})
    if "jurisdiction" in changes:
        changes["jurisdiction"] = area_from_geojson(changes["jurisdiction"])
    station = services.admin.stations.update(
        station_id, changes, version=body.version, actor=principal.username
    )
    return _out(station_view(station))


@router.post("/{station_id}/retire", response_model=StationOut)
def retire_station(station_id: str, principal: StationAdmin, services: ServicesDep) -> StationOut:
    """Close a station (409 station_in_use while units or people still belong to it)."""
    return _out(station_view(services.admin.stations.retire(station_id, actor=principal.username)))
