"""Incidents as records: the queue and search (GET /api/incidents), corrections (PATCH) and
reopening. The other incident routes (intake, dispatch, close, …) are in routers.incidents."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from jingwu.api.deps import Guard, IncidentCommander, IncidentReader, ServicesDep, client_address, guard
from jingwu.api.idempotency import answer_with
from jingwu.api.schemas.incidents import IncidentPage, IncidentPatch, ReopenRequest
from jingwu.api.schemas.requests import LocationIn
from jingwu.api.schemas.responses import IncidentOut
from jingwu.domain.gcj02 import gcj02_point_to_wgs84
from jingwu.domain.geo import GeoPoint
from jingwu.domain.incident_edits import KEEP, IncidentEdit
from jingwu.domain.incident_query import IncidentFilter, check_time_range, words_of
from jingwu.domain.incident_types import get_incident_type
from jingwu.domain.model import Incident
from jingwu.domain.rules import validate_priority
from jingwu.domain.status import OPEN_INCIDENT_STATUSES, IncidentStatus
from jingwu.errors import Forbidden, ValidationFailed
from jingwu.service.views import incident_view

router = APIRouter(prefix="/api/incidents", tags=["incidents"])

# Fields of a correction that say what the incident is: they may change, never become empty.
_NOT_CLEARABLE = ("type_code", "priority", "location")


def _out(incident: Incident) -> IncidentOut:
    return IncidentOut.model_validate(incident_view(incident))


def _wgs84(location: LocationIn) -> GeoPoint:
    if location.crs == "gcj02":
        return gcj02_point_to_wgs84(location.lat, location.lon)
    return GeoPoint(location.lat, location.lon)


def _stations_asked(g: Guard, asked: list[str]) -> frozenset[str]:
    """The stations a search names: each must exist (422) and lie within the caller's reach (403)."""
    known = g.district_of
    reach = g.station_ids
    for station_id in asked:
        if station_id not in known:
            raise ValidationFailed(
                f"no station {station_id!r}", code="unknown_station", station_id=station_id
            )
        if reach is not None and not g.own_only and station_id not in reach:
            raise Forbidden(
                f"station {station_id} lies outside your jurisdiction",
                code="out_of_jurisdiction",
                station_id=station_id,
                jurisdiction=str(g.principal.jurisdiction),
            )
    return frozenset(asked)


@router.get("", response_model=list[IncidentOut] | IncidentPage)
def list_incidents(
    principal: IncidentReader,
    services: ServicesDep,
    open_only: bool | None = Query(
        default=None,
        alias="open",
        description="only incidents not closed or merged; by default true, unless status is given",
    ),
    limit: int = Query(default=500, ge=1, le=5000, description="the most answered (a page's size)"),
    q: str | None = Query(
        default=None,
        max_length=200,
        description="words that must each appear in the address or the description (any case)",
    ),
    created_from: Annotated[
        datetime | None, Query(alias="from", description="created at or after (ISO 8601 with a time zone)")
    ] = None,
    created_to: Annotated[datetime | None, Query(alias="to", description="created before")] = None,
    type_code: Annotated[
        list[str] | None, Query(alias="type", description="incident type codes (repeatable)")
    ] = None,
    priority: Annotated[list[int] | None, Query(description="priorities 1 … 4 (repeatable)")] = None,
    station: Annotated[
        list[str] | None, Query(description="station ids within your jurisdiction (repeatable)")
    ] = None,
    status: Annotated[list[IncidentStatus] | None, Query(description="statuses (repeatable)")] = None,
    unit: Annotated[
        list[str] | None, Query(description="incidents these units were ever sent to (repeatable)")
    ] = None,
    cursor: str | None = Query(
        default=None,
        max_length=400,
        description="page through the answer: empty for the first page, then each page's next_cursor. "
        "With it the answer is a page {items, next_cursor}, newest first; without it, the list, "
        "most urgent first (the queue)",
    ),
) -> list[IncidentOut] | IncidentPage:
    """The queue within the caller's jurisdiction (a resident: their own reports), or a search
    of every incident there paged with a cursor. The answer never carries reporters."""
    g = guard(principal, services)
    check_time_range(created_from, created_to)
    type_code, priority, station, unit = type_code or [], priority or [], station or [], unit or []
    for code in type_code:
        get_incident_type(code)  # 422 unknown_incident_type
    for value in priority:
        validate_priority(value)
    statuses = frozenset(status or ())
    if not statuses and (open_only is None or open_only):
        statuses = OPEN_INCIDENT_STATUSES
    elif statuses and open_only:
        statuses &= OPEN_INCIDENT_STATUSES
        if not statuses:
            raise ValidationFailed("open=true asks for none of the statuses given", code="bad_status_filter")
    found = IncidentFilter(
        words=words_of(q),
        created_from=created_from,
        created_to=created_to,
        type_codes=frozenset(type_code),
        priorities=frozenset(priority),
        station_ids=_stations_asked(g, station),
        statuses=statuses,
        unit_ids=frozenset(unit),
    )
    reach = None if g.own_only else g.station_ids
    mine = principal.username if g.own_only else None
    records = services.dispatch.records
    if cursor is None:
        return [_out(i) for i in records.queue(found, limit=limit, station_ids=reach, created_by=mine)]
    items, next_cursor = records.page(found, limit=limit, cursor=cursor, station_ids=reach, created_by=mine)
    return IncidentPage(items=[_out(i) for i in items], next_cursor=next_cursor)


@router.patch("/{incident_id}", response_model=IncidentOut)
def edit_incident(
    incident_id: str,
    body: IncidentPatch,
    principal: IncidentCommander,
    request: Request,
    services: ServicesDep,
) -> IncidentOut:
    """Correct the type (reclassify), priority, place, address or description. One
    ``incident.updated`` event holds each changed field's before and after, with the actor; the
    change is audited. Moving an incident to another station needs a jurisdiction over both."""
    g = guard(principal, services)
    g.incident(incident_id)
    sent = body.model_fields_set
    for name in _NOT_CLEARABLE:
        if name in sent and getattr(body, name) is None:
            raise ValidationFailed(
                f"{name} cannot be cleared, only changed", code="not_clearable", field=name
            )
    location = _wgs84(body.location) if body.location is not None else None
    if location is not None:
        to_station = services.dispatch.station_for(location)
        if not principal.jurisdiction.covers_station(to_station, g.district_of):
            raise Forbidden(
                "the new place lies outside your jurisdiction",
                code="out_of_jurisdiction",
                station_id=to_station,
                jurisdiction=str(principal.jurisdiction),
            )
    edit = IncidentEdit(
        type_code=body.type_code if body.type_code is not None else KEEP,
        priority=body.priority if body.priority is not None else KEEP,
        location=location if location is not None else KEEP,
        address=body.address if "address" in sent else KEEP,
        description=body.description if "description" in sent else KEEP,
    )
    answer_with(200, lambda d: _out(d.incidents[0]) if d.incidents else None)
    return _out(
        services.dispatch.records.edit(
            incident_id,
            edit,
            actor=principal.username,
            expected_version=body.version,
            reason=body.reason,
            source=client_address(request),
        )
    )


@router.post("/{incident_id}/reopen", response_model=IncidentOut)
def reopen_incident(
    incident_id: str,
    body: ReopenRequest,
    principal: IncidentCommander,
    request: Request,
    services: ServicesDep,
) -> IncidentOut:
    """Put a closed incident back in the queue as pending, with the reason why (audited)."""
    guard(principal, services).incident(incident_id)
    answer_with(200, lambda d: _out(d.incidents[0]))
    return _out(
        services.dispatch.records.reopen(
            incident_id,
            reason=body.reason,
            actor=principal.username,
            expected_version=body.version,
            source=client_address(request),
        )
    )
