"""Look-ups of people: which incidents a phone number reported. Each is a search of personal
data, so it needs a reason, is rate-limited and is written to the audit log before it answers.

The number travels in a POST body, not in the query string: URLs end up in access logs (the
server's, a reverse proxy's), and those must not become a list of who called the police."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from jingwu.api.deps import PersonSearcher, ServicesDep, client_address, guard
from jingwu.api.lookups import MAX_REASON_CHARS, limit_lookups, reason_text
from jingwu.api.schemas.responses import IncidentOut
from jingwu.domain.identity import parse_phone
from jingwu.service.views import incident_view

router = APIRouter(prefix="/api/people", tags=["people"])


class PhoneSearch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=3, max_length=32, description="the reporter's number, in any usual form")
    reason: str = Field(
        max_length=MAX_REASON_CHARS,
        description="why you look (e.g. 重复报警核查 / repeat-caller check), kept in the audit log",
    )
    limit: int = Field(default=100, ge=1, le=500)


@router.post("/incidents/search", response_model=list[IncidentOut])
def incidents_by_phone(
    body: PhoneSearch,
    principal: PersonSearcher,
    request: Request,
    response: Response,
    services: ServicesDep,
) -> list[IncidentOut]:
    """Incidents whose reporter called from ``phone`` (newest first, within the caller's
    jurisdiction): repeat callers, a number seen in another case. Matched through the keyed
    blind index; the number is never stored or searched in the clear. Reads nothing and
    changes nothing but the audit log, which records the search before it answers."""
    normalised = parse_phone(body.phone).normalised  # 422 bad_phone before anything is looked at
    reason = reason_text(body.reason)  # a refused request does not use up the rate limit
    g = guard(principal, services)
    limit_lookups(request, principal)
    found = services.personal.incidents_by_phone(
        normalised,
        actor=principal.username,
        reason=reason,
        source=client_address(request),
        station_ids=g.station_ids,
        limit=body.limit,
    )
    response.headers["Cache-Control"] = "no-store"
    return [IncidentOut.model_validate(incident_view(i)) for i in found]
