"""Reference data: incident types and stations."""

from __future__ import annotations

from fastapi import APIRouter, Query

from jingwu.api.deps import ReferenceReader, ServicesDep
from jingwu.api.schemas.responses import IncidentTypeOut, StationOut
from jingwu.domain.incident_types import INCIDENT_TYPES, IncidentType, search_incident_types

router = APIRouter(prefix="/api", tags=["reference"])


def _type_out(it: IncidentType) -> IncidentTypeOut:
    return IncidentTypeOut(
        code=it.code,
        name_zh=it.name_zh,
        name_en=it.name_en,
        category=it.category,
        category_zh=it.category_zh,
        category_en=it.category_en,
        default_priority=it.default_priority,
        eido_type=it.eido_type,
        allowed_unit_kinds=sorted(it.allowed_unit_kinds),
        required_capabilities=sorted(it.required_capabilities),
    )


@router.get("/incident-types", response_model=list[IncidentTypeOut])
def incident_types(
    _user: ReferenceReader,
    q: str | None = Query(default=None, max_length=64, description="search zh/en/code"),
) -> list[IncidentTypeOut]:
    found = search_incident_types(q) if q else list(INCIDENT_TYPES.values())
    return [_type_out(it) for it in found]


@router.get("/stations", response_model=list[StationOut])
def stations(_user: ReferenceReader, services: ServicesDep) -> list[StationOut]:
    return [
        StationOut(
            id=s.id,
            name=s.name,
            district=s.district,
            jurisdiction=s.jurisdiction.to_geojson(),
            address=s.address,
            version=s.version,
        )
        for s in services.dispatch.stations
    ]
