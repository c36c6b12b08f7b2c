"""Look-ups of people: which incidents a phone number reported. Each is a search of personal
data, so it needs a reason, is rate-limited and is written to the audit log before it answers."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from jingwu.api.deps import PersonSearcher, ServicesDep, client_address, guard
from jingwu.api.lookups import LookupReason, limit_lookups, reason_text
from jingwu.api.schemas.responses import IncidentOut
from jingwu.domain.identity import parse_phone
from jingwu.service.views import incident_view

router = APIRouter(prefix="/api/people", tags=["people"])


@router.get("/incidents", response_model=list[IncidentOut])
def incidents_by_phone(
    principal: PersonSearcher,
    request: Request,
    services: ServicesDep,
    reason: LookupReason,
    phone: str = Query(min_length=3, max_length=32, description="the reporter's number, any usual form"),
    limit: int = Query(default=100, ge=1, le=500),
) -> list[IncidentOut]:
    """Incidents whose reporter called from ``phone`` (newest first, within the caller's
    jurisdiction): repeat callers, a number seen in another case. Matched through the keyed
    blind index; the number is never stored or searched in the clear."""
    normalised = parse_phone(phone).normalised  # 422 bad_phone before anything is looked at
    g = guard(principal, services)
    limit_lookups(request, principal)
    found = services.personal.incidents_by_phone(
        normalised,
        actor=principal.username,
        reason=reason_text(reason),
        source=client_address(request),
        station_ids=g.station_ids,
        limit=limit,
    )
    return [IncidentOut.model_validate(incident_view(i)) for i in found]
