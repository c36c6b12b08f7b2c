"""Address search (标准地址): suggestions as the call taker types, and the address at a map click.
Any person of the command room or in the field may use it (the map permission); residents and
devices may not."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from jingwu.api.deps import MapReader, ServicesDep
from jingwu.api.schemas.geocode import GeocodeOut, GeocodeResultOut, NearbyStreetOut, ReverseOut
from jingwu.service.geocoding import MAX_QUERY_CHARS, MAX_RESULTS

router = APIRouter(prefix="/api/geocode", tags=["geocode"])


@router.get("", response_model=GeocodeOut)
async def search(
    _user: MapReader,
    services: ServicesDep,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS, description="what was typed")],
    limit: Annotated[int, Query(ge=1, le=MAX_RESULTS)] = 10,
) -> GeocodeOut:
    # On a thread: the first call of a process may still be loading the index.
    found = await run_in_threadpool(services.geocoding.search, q, limit)
    return GeocodeOut(results=[GeocodeResultOut.model_validate(asdict(m)) for m in found])


@router.get("/reverse", response_model=ReverseOut)
async def reverse(
    _user: MapReader,
    services: ServicesDep,
    lat: Annotated[float, Query(ge=-90, le=90, description="WGS-84 degrees")],
    lon: Annotated[float, Query(ge=-180, le=180, description="WGS-84 degrees")],
) -> ReverseOut:
    place = await run_in_threadpool(services.geocoding.reverse, lat, lon)
    return ReverseOut(
        label=place.label,
        district=place.district,
        subdistrict=place.subdistrict,
        address=GeocodeResultOut.model_validate(asdict(place.address)) if place.address else None,
        crossing=GeocodeResultOut.model_validate(asdict(place.crossing)) if place.crossing else None,
        street=NearbyStreetOut.model_validate(asdict(place.street)) if place.street else None,
    )
