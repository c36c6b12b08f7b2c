"""Unit positions: the JSON batch of gateways and terminals with per-fix verdicts, and a unit's
track read back as GeoJSON. (The OsmAnd protocol of phone apps is api.routers.osmand; the
terminal's original ``POST /api/units/positions`` is in api.routers.units.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from jingwu.api.deps import PositionReporter, ServicesDep, UnitReader, guard
from jingwu.api.idempotency import answer_with
from jingwu.api.schemas.positions import (
    BatchVerdictsOut,
    FixBatch,
    GeometryOut,
    OutcomeOut,
    RejectedFeatureOut,
    RejectedPropertiesOut,
    TrackFeatureOut,
    TrackOut,
    TrackPropertiesOut,
)
from jingwu.domain.access import Principal, Role
from jingwu.domain.gps import Fix, Verdict
from jingwu.errors import ValidationFailed
from jingwu.service.positions import MAX_TRACK_POINTS, IngestResult, Outcome, Source, Track

router = APIRouter(prefix="/api/units", tags=["units"])


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its nested models written in place (an ``openapi_extra``
    body cannot refer to models the document does not otherwise hold)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(value) for value in node]
        return node

    return cast(dict[str, Any], resolve(schema))


async def fix_batch(request: Request) -> FixBatch:
    """The batch, parsed and validated in one pass by pydantic's JSON parser: decoding thousands
    of fixes into Python dicts first and validating those took twice as long. Invalid bodies
    answer 422 as every other route's do."""
    try:
        return FixBatch.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        ) from None


def utc(ts: datetime, *, field: str = "ts") -> datetime:
    """A reported time as UTC. A time without zone is refused (422 ``naive_time``), as everywhere
    in the JSON API (docs/api.md): whether a gateway meant UTC or Beijing time is not guessed. A
    time that cannot be one (a year-1 date with a positive offset) is refused too."""
    if ts.tzinfo is None:
        raise ValidationFailed(
            f"{field} needs a time zone (e.g. +08:00 or Z): {ts.isoformat()}", code="naive_time", field=field
        )
    try:
        return ts.astimezone(UTC)
    except OverflowError:
        raise ValidationFailed(f"{field} is out of range", code="invalid_time", field=field) from None


#: ``utc`` for a batch's times, which often share their second (a gateway reports on GPS time).
_utc_cached = lru_cache(maxsize=16_384)(utc)


def source_of(principal: Principal) -> Source:
    """Who reports says what kind of fix it is: a device account is a gateway or AVL box, an
    officer is the terminal, anyone else (a dispatcher) places a unit by hand."""
    if principal.role is Role.DEVICE:
        return Source.GATEWAY
    if principal.role is Role.OFFICER:
        return Source.TERMINAL
    return Source.MANUAL


def _outcomes(outcomes: list[Outcome]) -> list[OutcomeOut]:
    return [OutcomeOut(index=o.place, unit_id=o.unit_id, reason=str(o.reason)) for o in outcomes]


def verdicts_out(result: IngestResult) -> BatchVerdictsOut:
    return BatchVerdictsOut(
        accepted=result.accepted, rejected=_outcomes(result.rejected), flagged=_outcomes(result.flagged)
    )


@router.post(
    "/positions/batch",
    response_model=BatchVerdictsOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": inline_schema(FixBatch)}},
        }
    },
)
async def report_batch(
    # The caller first: dependencies run in this order, and an anonymous body is not parsed.
    principal: PositionReporter,
    services: ServicesDep,
    body: Annotated[FixBatch, Depends(fix_batch)],
) -> BatchVerdictsOut:
    """Fixes of any units from a gateway, an AVL box or the terminal, each judged by the GPS
    filter: 200 once stored, with what became of each. Rejected fixes are listed with their
    reason and never move a unit; accepted ones late or older than 12 hours are kept in the
    track without moving the unit (``flagged``). A caller acts for units as for the unit routes:
    devices and officers for their own unit only. An unknown unit refuses the whole batch (404)."""
    await run_in_threadpool(guard(principal, services).own_units, {p.unit_id for p in body.positions})
    now = services.positions.clock()
    reports = [
        (
            p.unit_id,
            Fix(
                now if p.ts is None else _utc_cached(p.ts),
                p.lat,
                p.lon,
                p.speed,
                p.heading,
                p.altitude,
                p.accuracy,
                p.battery,
                p.valid,
            ),
        )
        for p in body.positions
    ]
    judged: list[IngestResult] = []
    answer_with(200, lambda _d: verdicts_out(judged[-1]))  # the attempt that commits
    result = await run_in_threadpool(
        lambda: services.positions.ingest(reports, source=source_of(principal), on_judged=judged.append)
    )
    return verdicts_out(result)


@router.get("/{unit_id}/track", response_model=TrackOut, response_model_by_alias=True)
def track(
    unit_id: str,
    principal: UnitReader,
    services: ServicesDep,
    start: Annotated[datetime, Query(alias="from", description="start of the range, ISO 8601 with zone")],
    end: Annotated[
        datetime, Query(alias="to", description="end of the range (exclusive), at most 24 h after from")
    ],
    include_rejected: Annotated[
        bool, Query(description="also the rejected fixes kept for diagnosis, as Point features")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=MAX_TRACK_POINTS)] = MAX_TRACK_POINTS,
) -> TrackOut:
    """Where the unit was between ``from`` and ``to``: a GeoJSON FeatureCollection whose first
    feature is the track (accepted fixes in time order, with each point's time, speed, heading
    and accuracy in the properties); with ``include_rejected``, the rejected fixes follow as
    points with their reason. At most 24 hours and ``limit`` points at once (``truncated`` and
    ``next_from`` say how to read on)."""
    guard(principal, services).unit(unit_id)
    found = services.positions.track(
        unit_id,
        utc(start, field="from"),
        utc(end, field="to"),
        include_rejected=include_rejected,
        limit=limit,
    )
    return track_out(found)


def track_out(found: Track) -> TrackOut:
    accepted = [p for p in found.points if p.verdict is not Verdict.REJECTED]
    rejected = [p for p in found.points if p.verdict is Verdict.REJECTED]
    coordinates = [[round(p.lon, 7), round(p.lat, 7)] for p in accepted]
    geometry = None
    if len(coordinates) >= 2:
        geometry = GeometryOut(type="LineString", coordinates=coordinates)
    elif coordinates:
        geometry = GeometryOut(type="Point", coordinates=coordinates[0])
    line = TrackFeatureOut(
        geometry=geometry,
        properties=TrackPropertiesOut(
            times=[p.ts.isoformat() for p in accepted],
            speeds=[p.speed for p in accepted],
            headings=[p.heading for p in accepted],
            accuracies=[p.accuracy for p in accepted],
            altitudes=[p.altitude for p in accepted],
            batteries=[p.battery for p in accepted],
            sources=[p.source for p in accepted],
            remarks=[None if p.reason is None else str(p.reason) for p in accepted],
        ),
    )
    points: list[TrackFeatureOut | RejectedFeatureOut] = [line]
    points += [
        RejectedFeatureOut(
            geometry=GeometryOut(type="Point", coordinates=[round(p.lon, 7), round(p.lat, 7)]),
            properties=RejectedPropertiesOut(
                time=p.ts.isoformat(),
                reason=str(p.reason),
                accuracy=p.accuracy,
                speed=p.speed,
                source=p.source,
            ),
        )
        for p in rejected
    ]
    last = found.points[-1].ts if found.points else None
    return TrackOut.model_validate(
        {
            "unit_id": found.unit_id,
            "from": found.start.isoformat(),
            "to": found.end.isoformat(),
            "count": len(accepted),
            "truncated": found.truncated,
            # Read on from just after the last point returned (the range's start is inclusive).
            "next_from": (last + timedelta(microseconds=1)).isoformat()
            if found.truncated and last is not None
            else None,
            "features": points,
        }
    )


__all__ = ["router", "source_of", "track_out", "utc", "verdicts_out"]
