"""Patrol checks of persons and vehicles, and the watch lists they are checked against.

The identity number or plate travels in a POST body, never in a URL (access logs must not become
a list of who was checked). Every check is stored and audited before it answers; bad input is
refused with 422 and stores nothing."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from jingwu.api.deps import Checker, ServicesDep, WatchlistAdmin, client_address, guard
from jingwu.api.ratelimit import TokenBuckets
from jingwu.api.schemas.requests import LocationIn
from jingwu.composition import Services
from jingwu.domain.access import Permission, Principal
from jingwu.domain.gcj02 import gcj02_point_to_wgs84
from jingwu.domain.geo import GeoPoint
from jingwu.domain.watchlists import SubjectKind, watch_list
from jingwu.errors import TooManyAttempts
from jingwu.service.checks import CheckOutcome

router = APIRouter(prefix="/api", tags=["checks"])

# A checkpoint may check a car a minute and a busy one several; a script walking through numbers
# is far above this. Per user, in this process (as the look-ups' limit in api.lookups).
CHECKS_PER_MINUTE = 120
CHECK_BURST = 60


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonCheck(_Body):
    id_number: str = Field(
        max_length=32, description="the resident identity number (GB 11643), 18 or 15 characters"
    )
    reason: str = Field(
        max_length=400, description="why (盘查事由), e.g. 形迹可疑; kept with the check and audited"
    )
    location: LocationIn | None = Field(default=None, description="where; default: the unit's last position")


class VehicleCheck(_Body):
    plate: str = Field(max_length=32, description="the plate, any mainland format (docs/checks.md)")
    reason: str = Field(max_length=400, description="why (盘查事由); kept with the check and audited")
    location: LocationIn | None = None


class EntryIn(_Body):
    subject: str = Field(
        max_length=32,
        description="identity number (wanted, missing) or plate (stolen_vehicle, vehicle_of_interest)",
    )
    label: str | None = Field(default=None, max_length=400, description="a name or a description (optional)")
    reason: str = Field(max_length=400, description="why the entry is listed (required)")
    expires_at: AwareDatetime | None = Field(
        default=None, description="until when; expired entries never hit"
    )


class CheckOut(BaseModel):
    check_id: str
    result: Literal["clear", "hit"]
    hits: list[dict[str, Any]]
    kind: str
    subject: str
    instruction: dict[str, str] | None
    backup: list[dict[str, Any]]
    station_id: str | None
    location: dict[str, float] | None
    checked_at: str


class EntryPageOut(BaseModel):
    entries: list[dict[str, Any]]
    total: int
    offset: int
    next_offset: int | None


def _limit_checks(request: Request, principal: Principal) -> None:
    buckets: TokenBuckets | None = getattr(request.app.state, "check_buckets", None)
    if buckets is None:
        buckets = TokenBuckets(per_minute=CHECKS_PER_MINUTE, burst=CHECK_BURST)
        request.app.state.check_buckets = buckets
    wait = buckets.take(principal.username)
    if wait > 0:
        seconds = max(1, int(wait + 0.999))
        raise TooManyAttempts(f"too many checks; try again in {seconds} s", retry_after_s=seconds)


def _point(location: LocationIn | None) -> GeoPoint | None:
    if location is None:
        return None
    if location.crs == "gcj02":
        return gcj02_point_to_wgs84(location.lat, location.lon)
    return GeoPoint(location.lat, location.lon)


def _out(outcome: CheckOutcome) -> CheckOut:
    return CheckOut(
        check_id=outcome.check_id,
        result="hit" if outcome.result == "hit" else "clear",
        hits=[h.as_dict() for h in outcome.hits],
        kind=str(outcome.kind),
        subject=outcome.subject,
        instruction=outcome.instruction.as_dict() if outcome.instruction else None,
        backup=[b.as_dict() for b in outcome.backup],
        station_id=outcome.station_id,
        location=None
        if outcome.location is None
        else {"lat": outcome.location.lat, "lon": outcome.location.lon},
        checked_at=outcome.checked_at.isoformat(),
    )


def _check(
    kind: SubjectKind,
    subject: str,
    reason: str,
    location: LocationIn | None,
    principal: Principal,
    request: Request,
    response: Response,
    services: Services,
) -> CheckOut:
    _limit_checks(request, principal)
    outcome = services.checks.check(
        kind,
        subject,
        reason=reason,
        location=_point(location),
        officer=principal.username,
        unit_id=principal.unit_id,
        full=principal.may(Permission.PERSONAL_DATA_FULL),
        source=client_address(request),
    )
    response.headers["Cache-Control"] = "no-store"
    return _out(outcome)


@router.post("/checks/person", response_model=CheckOut)
def check_person(
    body: PersonCheck, principal: Checker, request: Request, response: Response, services: ServicesDep
) -> CheckOut:
    """Check a person by identity number against the wanted and missing lists. ``result`` is
    ``hit`` with the entries hit, what to do (``instruction``) and the nearest free units by road
    (``backup``); a hit alerts the command room (``check.hit``). 422 ``bad_id_number_format`` /
    ``bad_id_checksum`` / ``bad_id_birth_date`` / ``bad_id_region`` / ``reason_required``."""
    return _check(
        SubjectKind.PERSON, body.id_number, body.reason, body.location, principal, request, response, services
    )


@router.post("/checks/vehicle", response_model=CheckOut)
def check_vehicle(
    body: VehicleCheck, principal: Checker, request: Request, response: Response, services: ServicesDep
) -> CheckOut:
    """Check a vehicle by plate against the stolen-vehicle and vehicle-of-interest lists.
    422 ``bad_plate`` / ``reason_required``."""
    return _check(
        SubjectKind.VEHICLE, body.plate, body.reason, body.location, principal, request, response, services
    )


@router.get("/checks", response_model=list[dict[str, Any]])
def recent_checks(
    principal: Checker,
    request: Request,
    response: Response,
    services: ServicesDep,
    limit: int = Query(default=50, ge=1, le=200),
    before: Annotated[AwareDatetime | None, Query(description="older than this (paging)")] = None,
) -> list[dict[str, Any]]:
    """The latest checks made within the caller's jurisdiction, newest first (an officer: their
    own). Subjects masked unless the role may see people in full; the look is audited."""
    g = guard(principal, services)
    found = services.checks.recent_checks(
        actor=principal.username,
        full=principal.may(Permission.PERSONAL_DATA_FULL),
        station_ids=g.station_ids,
        officer=principal.username if g.own_only else None,
        limit=limit,
        before=before,
        source=client_address(request),
    )
    response.headers["Cache-Control"] = "no-store"
    return found


@router.get("/watchlists/{list_name}/entries", response_model=EntryPageOut)
def list_entries(
    list_name: str,
    principal: WatchlistAdmin,
    request: Request,
    response: Response,
    services: ServicesDep,
    limit: int = Query(default=50, ge=1, le=200),
    offset: int = Query(default=0, ge=0, le=10_000_000),
    all_entries: bool = Query(default=False, alias="all", description="also expired and removed entries"),
) -> EntryPageOut:
    """A page of a watch list, newest first. 404 ``unknown_watchlist`` for a list that does not
    exist. The lists are the city's: every station's officers check against all of them."""
    page = services.checks.list_entries(
        watch_list(list_name),
        actor=principal.username,
        full=principal.may(Permission.PERSONAL_DATA_FULL),
        limit=limit,
        offset=offset,
        include_inactive=all_entries,
        source=client_address(request),
    )
    response.headers["Cache-Control"] = "no-store"
    shown = len(page.entries)
    return EntryPageOut(
        entries=[e.as_dict() for e in page.entries],
        total=page.total,
        offset=offset,
        next_offset=offset + shown if offset + shown < page.total else None,
    )


@router.post("/watchlists/{list_name}/entries", status_code=201, response_model=dict[str, Any])
def add_entry(
    list_name: str, body: EntryIn, principal: WatchlistAdmin, request: Request, services: ServicesDep
) -> dict[str, Any]:
    """Add an entry: its subject (identity number for ``wanted`` / ``missing``, plate for
    ``stolen_vehicle`` / ``vehicle_of_interest``), why (required) and until when (optional).
    404 ``unknown_watchlist``; 422 ``bad_id_*`` / ``bad_plate`` / ``reason_required`` /
    ``expiry_in_past``."""
    which = watch_list(list_name)
    entry = services.checks.add_entry(
        which,
        subject=body.subject,
        reason=body.reason,
        label=body.label,
        expires_at=body.expires_at,
        actor=principal.username,
        station_id=principal.station_id,
        source=client_address(request),
        full=principal.may(Permission.PERSONAL_DATA_FULL),
    )
    return entry.as_dict()


@router.delete("/watchlists/{list_name}/entries/{entry_id}", status_code=204)
def remove_entry(
    list_name: str, entry_id: str, principal: WatchlistAdmin, request: Request, services: ServicesDep
) -> Response:
    """Take an entry off its list (it is kept, marked removed, and never hits again). 404
    ``watchlist_entry_not_found``; 403 ``out_of_jurisdiction`` for another station's entry."""
    services.checks.remove_entry(
        watch_list(list_name),
        entry_id,
        actor=principal.username,
        station_ids=guard(principal, services).station_ids,
        source=client_address(request),
    )
    return Response(status_code=204)


__all__ = ["router"]
