"""The community registry: houses, households, residents, businesses; field collections and review.

Collections come from the officer's terminal (POST, with a client-made id: a retry changes
nothing) and are approved or returned at the station; conflicts (one identity number at two actual
addresses) wait for a reviewer. Every read that shows a person states a reason, is audited before
it answers, is cut to the caller's jurisdiction and is masked unless the role holds
``personal_data.full``. Searches travel in a POST body: URLs end up in access logs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from jingwu.api.deps import (
    RecordsCollector,
    RecordsReader,
    RecordsReviewer,
    ServicesDep,
    client_address,
    guard,
)
from jingwu.api.lookups import MAX_REASON_CHARS, LookupReason, limit_lookups
from jingwu.api.routers.attachments import _read_limited
from jingwu.api.schemas.responses import ErrorOut
from jingwu.composition import Services
from jingwu.domain.access import Permission, Principal
from jingwu.domain.attachments import ACCEPTED_IMAGE_TYPES, accepted_media_type
from jingwu.service.records import NewCollection

router = APIRouter(prefix="/api/records", tags=["records"])


class PhotoIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content_type: str = Field(description="image/jpeg, image/png or image/webp (the bytes must agree)")
    data: str = Field(description="the image, base64")


class CollectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(
        min_length=1,
        max_length=64,
        description="made by the client (8-64 of A-Z a-z 0-9 - _): sending it again changes nothing",
    )
    kind: str = Field(description="house, household, resident or business")
    record: dict[str, Any] = Field(description="the fields of the kind (see docs/records.md)")
    target_id: str | None = Field(default=None, description="the record this changes; absent: a new one")
    house_id: str | None = Field(
        default=None, description="the house a household, resident or business is in"
    )
    house: dict[str, Any] | None = Field(default=None, description="a new house, when house_id is not known")
    household_id: str | None = None
    note: str = ""
    channel: Literal["terminal", "station"] = "terminal"
    photos: list[PhotoIn] = Field(default_factory=list, max_length=6)


class PhotoOut(BaseModel):
    id: str
    content_type: str
    size: int


class CollectionOut(BaseModel):
    id: str
    kind: str
    target_id: str | None
    status: Literal["pending", "approved", "returned", "conflict"]
    station_id: str | None
    label: str
    note: str
    channel: str
    collected_by: str
    submitted_at: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None
    return_reason: str | None
    record_id: str | None
    conflict_id: str | None
    record: dict[str, Any]
    house_id: str | None
    house: dict[str, Any] | None
    household_id: str | None
    photos: list[PhotoOut]
    masked: bool


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(max_length=500, description="what the collector must fix (they see it)")


class SettleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resolution: Literal["keep_existing", "move_to_new"]
    note: str = Field(max_length=500, description="how it was settled (kept in the history and audit log)")


class HouseRef(BaseModel):
    id: str
    label: str
    station_id: str | None


class ConflictOut(BaseModel):
    id: str
    status: Literal["open", "settled"]
    collection_id: str
    resident_id: str
    name: str | None
    id_number: str | None
    existing_house: HouseRef
    claimed_house: HouseRef
    opened_at: datetime
    settled_by: str | None
    settled_at: datetime | None
    resolution: str | None
    note: str | None
    masked: bool


class SearchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: Literal["address", "name", "id_number", "phone", "plate"]
    value: str = Field(min_length=1, max_length=120)
    reason: str = Field(
        max_length=MAX_REASON_CHARS, description="why you look (e.g. 入户走访核查), kept in the audit log"
    )


class SearchOut(BaseModel):
    by: str
    houses: list[dict[str, Any]]
    residents: list[dict[str, Any]]
    businesses: list[dict[str, Any]]
    masked: bool


_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorOut, "description": "out_of_jurisdiction"},
    404: {"model": ErrorOut, "description": "not found"},
    409: {"model": ErrorOut, "description": "collection_not_pending, collection_id_taken"},
}


def _full(principal: Principal) -> bool:
    return principal.may(Permission.PERSONAL_DATA_FULL)


def _collect_check(principal: Principal, services: Services) -> Any:
    """A collector works in their jurisdiction, and an officer at their own station too."""
    g = guard(principal, services)

    def check(station_id: str | None) -> None:
        if station_id is not None and station_id == principal.station_id:
            return
        g.station(station_id)

    return check


@router.post(
    "/collections",
    status_code=201,
    response_model=CollectionOut,
    responses={200: {"model": CollectionOut, "description": "the same submission, sent again"}, **_ERRORS},
)
def submit_collection(
    body: CollectionIn,
    principal: RecordsCollector,
    request: Request,
    response: Response,
    services: ServicesDep,
) -> CollectionOut:
    """Submit a new or changed house, household, resident or business from the field, with photos.
    It waits for review; nothing in the registry changes until a reviewer approves it. Sending the
    same ``id`` and content again answers 200 with what is stored; other content with the same
    ``id`` is 409 ``collection_id_taken``."""
    new = NewCollection(
        id=body.id,
        kind=body.kind,
        record=body.record,
        target_id=body.target_id,
        house_id=body.house_id,
        house=body.house,
        household_id=body.household_id,
        note=body.note,
        channel=body.channel,
        photos=[p.model_dump() for p in body.photos],
    )
    view, created = services.records.submit(
        new,
        actor=principal.username,
        source=client_address(request),
        check_station=_collect_check(principal, services),
    )
    response.status_code = 201 if created else 200
    response.headers["Cache-Control"] = "no-store"
    return CollectionOut.model_validate(view)


@router.get("/collections", response_model=list[CollectionOut])
def list_collections(
    principal: RecordsCollector,
    request: Request,
    response: Response,
    services: ServicesDep,
    status: Literal["pending", "approved", "returned", "conflict"] | None = None,
    mine: bool = Query(default=False, description="only my own (always so for a role that does not review)"),
    limit: int = Query(default=100, ge=1, le=500),
) -> list[CollectionOut]:
    """Collections, newest first: a reviewer's are those of their jurisdiction; a collector's
    (or ``mine``) are their own, with the reason of any that came back."""
    reviewer = principal.may(Permission.RECORDS_REVIEW) and not mine
    found = services.records.collections(
        actor=principal.username,
        source=client_address(request),
        station_ids=guard(principal, services).station_ids if reviewer else None,
        collected_by=None if reviewer else principal.username,
        status=status,
        full=_full(principal),
        limit=limit,
    )
    response.headers["Cache-Control"] = "no-store"
    return [CollectionOut.model_validate(c) for c in found]


@router.post("/collections/{collection_id}/approve", response_model=CollectionOut, responses=_ERRORS)
def approve_collection(
    collection_id: str, principal: RecordsReviewer, request: Request, services: ServicesDep
) -> CollectionOut:
    """Apply a pending collection to the registry, with a history entry per changed field. If it
    puts a person already living at another address on record here, it becomes ``conflict`` and
    waits for a reviewer (GET /api/records/conflicts): nothing is overwritten."""
    view = services.records.approve(
        collection_id,
        actor=principal.username,
        source=client_address(request),
        check_station=guard(principal, services).station,
    )
    return CollectionOut.model_validate(view)


@router.post("/collections/{collection_id}/return", response_model=CollectionOut, responses=_ERRORS)
def return_collection(
    collection_id: str, body: ReturnIn, principal: RecordsReviewer, request: Request, services: ServicesDep
) -> CollectionOut:
    """Send a pending collection back to its collector with the reason (422 ``reason_required``)."""
    view = services.records.return_collection(
        collection_id,
        body.reason,
        actor=principal.username,
        source=client_address(request),
        check_station=guard(principal, services).station,
    )
    return CollectionOut.model_validate(view)


@router.post(
    "/collections/{collection_id}/photos",
    status_code=201,
    response_model=PhotoOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                t: {"schema": {"type": "string", "format": "binary"}} for t in sorted(ACCEPTED_IMAGE_TYPES)
            },
        }
    },
    responses={
        413: {"model": ErrorOut, "description": "upload_too_large"},
        415: {"model": ErrorOut, "description": "unsupported_media_type"},
        **_ERRORS,
    },
)
async def add_photo(
    collection_id: str, request: Request, principal: RecordsCollector, services: ServicesDep
) -> PhotoOut:
    """Add a photo (the raw image as the body) to one's own pending collection."""
    declared = accepted_media_type(request.headers.get("content-type"))
    data = await _read_limited(request, services.settings.max_upload_bytes)
    info = await run_in_threadpool(
        services.records.add_photo,
        collection_id,
        declared,
        data,
        actor=principal.username,
        source=client_address(request),
    )
    return PhotoOut.model_validate(info)


@router.get(
    "/photos/{photo_id}",
    response_class=Response,
    responses={200: {"content": {t: {} for t in sorted(ACCEPTED_IMAGE_TYPES)}, "description": "the image"}},
)
def download_photo(photo_id: str, principal: RecordsReader, services: ServicesDep) -> Response:
    """A collection's photo: for its collector and for the jurisdiction its house lies in."""
    info, data = services.records.photo(photo_id)
    if info["collected_by"] != principal.username:
        guard(principal, services).station(info["station_id"])
    return Response(
        data,
        media_type=info["content_type"],
        headers={
            "Cache-Control": "private, no-store",
            "ETag": f'"{info["sha256"]}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/conflicts", response_model=list[ConflictOut])
def list_conflicts(
    principal: RecordsReviewer,
    request: Request,
    response: Response,
    services: ServicesDep,
    status: Literal["open", "settled"] | None = "open",
) -> list[ConflictOut]:
    """Conflicts (one identity number at two actual addresses) where either address is in the
    caller's jurisdiction; open ones by default."""
    found = services.records.conflicts(
        actor=principal.username,
        source=client_address(request),
        station_ids=guard(principal, services).station_ids,
        status=status,
        full=_full(principal),
    )
    response.headers["Cache-Control"] = "no-store"
    return [ConflictOut.model_validate(c) for c in found]


@router.post("/conflicts/{conflict_id}/settle", response_model=ConflictOut, responses=_ERRORS)
def settle_conflict(
    conflict_id: str, body: SettleIn, principal: RecordsReviewer, request: Request, services: ServicesDep
) -> ConflictOut:
    """``move_to_new``: the person's record moves to the claimed house (the history shows it);
    ``keep_existing``: the record stays and the collection goes back to its collector."""
    found = services.records.settle(
        conflict_id,
        body.resolution,
        body.note,
        actor=principal.username,
        source=client_address(request),
        station_ids=guard(principal, services).station_ids,
    )
    return ConflictOut.model_validate(found)


@router.post("/search", response_model=SearchOut)
def search(
    body: SearchIn, principal: RecordsReader, request: Request, response: Response, services: ServicesDep
) -> SearchOut:
    """Search the registry by ``address`` (words of the standard address), ``name`` (exact, a
    person's; a business's name contains it), ``id_number``, ``phone`` or ``plate``, within the
    caller's jurisdiction. The reason is required and audited before the answer; names and
    numbers are masked unless the role holds personal_data.full."""
    limit_lookups(request, principal)
    found = services.records.search(
        body.by,
        body.value,
        body.reason,
        actor=principal.username,
        source=client_address(request),
        station_ids=guard(principal, services).station_ids,
        full=_full(principal),
    )
    response.headers["Cache-Control"] = "no-store"
    return SearchOut.model_validate(found)


def _detail(
    kind: str, record_id: str, reason: str, principal: Principal, request: Request, services: Services
) -> Any:
    read = getattr(services.records, kind)
    return read(
        record_id,
        reason,
        actor=principal.username,
        source=client_address(request),
        station_ids=guard(principal, services).station_ids,
        full=_full(principal),
    )


@router.get("/houses/{house_id}", responses=_ERRORS)
def get_house(
    house_id: str,
    reason: LookupReason,
    principal: RecordsReader,
    request: Request,
    response: Response,
    services: ServicesDep,
) -> dict[str, Any]:
    """A house with its households, residents (moved-out ones marked), businesses, photos and the
    history of its address (who changed what, when, from the terminal or the station)."""
    response.headers["Cache-Control"] = "no-store"
    found: dict[str, Any] = _detail("house", house_id, reason, principal, request, services)
    return found


@router.get("/residents/{resident_id}", responses=_ERRORS)
def get_resident(
    resident_id: str,
    reason: LookupReason,
    principal: RecordsReader,
    request: Request,
    response: Response,
    services: ServicesDep,
) -> dict[str, Any]:
    """A resident with their house, photos and full history (moves included)."""
    response.headers["Cache-Control"] = "no-store"
    found: dict[str, Any] = _detail("resident", resident_id, reason, principal, request, services)
    return found


@router.get("/businesses/{business_id}", responses=_ERRORS)
def get_business(
    business_id: str,
    reason: LookupReason,
    principal: RecordsReader,
    request: Request,
    response: Response,
    services: ServicesDep,
) -> dict[str, Any]:
    """A business with the people in charge, photos and history."""
    response.headers["Cache-Control"] = "no-store"
    found: dict[str, Any] = _detail("business", business_id, reason, principal, request, services)
    return found


__all__ = ["router"]
