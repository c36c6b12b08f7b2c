"""Look-ups of people: which incidents a phone number or an identity number reported. Each is a
search of personal data, so it needs a reason, is rate-limited and is written to the audit log
before it answers.

The number travels in a POST body, not in the query string: URLs end up in access logs (the
server's, a reverse proxy's), and those must not become a list of who called the police."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from jingwu.api.deps import PersonSearcher, ServicesDep, client_address, guard
from jingwu.api.lookups import MAX_REASON_CHARS, limit_lookups, reason_text
from jingwu.api.schemas.responses import IncidentOut
from jingwu.domain.identity import parse_id_number, parse_phone
from jingwu.errors import ValidationFailed
from jingwu.service.views import incident_view

router = APIRouter(prefix="/api/people", tags=["people"])


class PhoneSearch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str | None = Field(
        default=None, min_length=3, max_length=32, description="the reporter's number, in any usual form"
    )
    id_number: str | None = Field(
        default=None, min_length=15, max_length=32, description="the reporter's resident identity number"
    )
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
    """Incidents whose reporter called from ``phone``, or gave ``id_number`` (exactly one of
    the two), newest first, within the caller's jurisdiction: repeat callers, a person seen in
    another case. Matched through keyed blind indexes; neither is stored or searched in the
    clear. Changes nothing but the audit log, which records the search before it answers."""
    if (body.phone is None) == (body.id_number is None):
        raise ValidationFailed("search by phone or by id_number, one of the two", code="one_search_key")
    # 422 bad_phone / bad_id_* before anything is looked at; a refusal spends no rate limit.
    phone = parse_phone(body.phone).normalised if body.phone is not None else None
    today = datetime.now(services.settings.zone).date()
    id_number = parse_id_number(body.id_number, today=today).number if body.id_number is not None else None
    reason = reason_text(body.reason)
    g = guard(principal, services)
    limit_lookups(request, principal)
    search = services.personal.incidents_by_phone if phone else services.personal.incidents_by_id_number
    found = search(
        phone or id_number or "",
        actor=principal.username,
        reason=reason,
        source=client_address(request),
        station_ids=g.station_ids,
        limit=body.limit,
    )
    response.headers["Cache-Control"] = "no-store"
    return [IncidentOut.model_validate(incident_view(i)) for i in found]
