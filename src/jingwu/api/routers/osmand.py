"""``/api/osmand``: positions from phones running Traccar Client (or any OsmAnd-protocol tracker),
with no code of ours on the phone.

Point the app at ``https://HOST/api/osmand`` and enter the device key (from ``jingwu device-add
NAME --unit ID``) as its *device identifier*: the app cannot send headers, so the key travels as
the ``id`` parameter (``device_id`` in the JSON form), and ``jingwu serve`` keeps it out of the
access log. Only device accounts may report this way, each for the unit it is bound to; a key
may also come as ``Authorization: Bearer`` for clients that can send one.

Answers: 200 (empty) once the request is decoded, judged and stored — including when the GPS
filter rejected the fix: it was received, and a retry would be rejected again, while a non-200
makes the app keep the fix and resend it forever. What became of each fix is in the
``Jingwu-Verdict`` header (``current``, ``history; reason=late``, ``rejected;
reason=impossible_jump``, comma-separated for a JSON batch; ``none`` for a report without a
fix). A missing or wrong key is 401, a person's token or an unbound device 403, a malformed
request 422 ``bad_osmand_request``: those are worth the app's retry only once fixed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from jingwu.api.deps import Needs, ServicesDep, guard
from jingwu.avl.osmand import OsmAndReport, decode
from jingwu.composition import Services
from jingwu.domain.access import Permission, Principal, Role
from jingwu.errors import Forbidden, Unauthenticated
from jingwu.service.positions import IngestResult, Source

router = APIRouter(tags=["avl"])
_bearer = HTTPBearer(auto_error=False)

VERDICT_HEADER = "Jingwu-Verdict"


class DeviceKeyInRequest(Needs):
    """The OsmAnd protocol's log-in: the device key named in the request itself (``id`` or
    ``deviceid``; ``device_id`` in JSON), else a bearer header. Declares position.report like
    any position route (so the route walks and the OpenAPI document see it), then admits device
    accounts only. The decoded report is kept on the request for the route."""

    def __init__(self) -> None:
        super().__init__(Permission.POSITION_REPORT)

    async def __call__(  # type: ignore[override]
        self,
        request: Request,
        services: ServicesDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        body = await request.body()
        report = decode(
            query=request.url.query,
            content_type=request.headers.get("content-type"),
            body=body,
            received_at=services.positions.clock(),
            local_zone=services.settings.zone,
        )
        request.state.osmand_report = report
        key = report.key
        if key is None and credentials is not None and credentials.scheme.lower() == "bearer":
            key = credentials.credentials
        if key is None:
            raise Unauthenticated(
                "name the device: its key as the id parameter (the app's device identifier)",
                code="no_token",
            )
        principal = await run_in_threadpool(services.auth.sessions.authenticate, key, touch=True)
        request.state.principal = principal
        principal = Needs.__call__(self, principal)
        if principal.role is not Role.DEVICE:
            raise Forbidden(
                "only a device account reports over the OsmAnd protocol; people use the terminal",
                code="device_only",
                role=str(principal.role),
            )
        if principal.unit_id is None:
            raise Forbidden(
                "this device is bound to no unit: bind it with `jingwu device-add NAME --unit ID`",
                code="device_not_bound",
            )
        return principal


OsmAndDevice = Annotated[Principal, Depends(DeviceKeyInRequest())]

_PARAMETERS: list[dict[str, Any]] = [
    {"name": name, "in": "query", "required": False, "schema": schema, "description": text}
    for name, schema, text in (
        ("id", {"type": "string"}, "the device key (the app's device identifier); or deviceid"),
        ("timestamp", {"type": "string"}, "Unix seconds or milliseconds, or ISO 8601; omitted: now"),
        ("lat", {"type": "number"}, "WGS-84 latitude"),
        ("lon", {"type": "number"}, "WGS-84 longitude"),
        ("location", {"type": "string"}, "'lat,lon', instead of lat and lon"),
        ("speed", {"type": "number"}, "knots"),
        ("bearing", {"type": "number"}, "degrees from north; or heading"),
        ("altitude", {"type": "number"}, "metres"),
        ("accuracy", {"type": "number"}, "metres"),
        ("batt", {"type": "number"}, "battery, percent"),
        ("valid", {"type": "string"}, "false: the device calls the fix invalid"),
        ("mock", {"type": "string"}, "true: the phone's location is faked (rejected)"),
    )
]
_OK = {
    200: {
        "description": "received and judged (the verdict is in the Jingwu-Verdict header)",
        "content": {},
        "headers": {VERDICT_HEADER: {"schema": {"type": "string"}}},
    }
}
_JSON_BODY = {
    "requestBody": {
        "required": False,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "device_id": {"type": "string"},
                        "location": {
                            "type": "object",
                            "properties": {
                                "timestamp": {"type": "string", "format": "date-time"},
                                "coords": {
                                    "type": "object",
                                    "properties": {
                                        "latitude": {"type": "number"},
                                        "longitude": {"type": "number"},
                                        "accuracy": {"type": "number"},
                                        "speed": {"type": "number", "description": "m/s"},
                                        "heading": {"type": "number"},
                                        "altitude": {"type": "number"},
                                    },
                                },
                                "battery": {
                                    "type": "object",
                                    "properties": {"level": {"type": "number", "description": "0..1"}},
                                },
                            },
                        },
                    },
                }
            },
            "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
        },
    }
}


async def _receive(request: Request, principal: Principal, services: Services) -> Response:
    report: OsmAndReport = request.state.osmand_report
    unit_id = principal.unit_id
    assert unit_id is not None  # DeviceKeyInRequest admits bound devices only
    await run_in_threadpool(guard(principal, services).own_unit, unit_id)
    result = await run_in_threadpool(
        lambda: services.positions.ingest([(unit_id, f) for f in report.fixes], source=Source.OSMAND)
    )
    return Response(status_code=200, headers={VERDICT_HEADER: verdict_header(result)})


def verdict_header(result: IngestResult) -> str:
    if not result.outcomes:
        return "none"
    return ", ".join(
        str(o.verdict) if o.reason is None else f"{o.verdict}; reason={o.reason}" for o in result.outcomes
    )


@router.get(
    "/api/osmand",
    response_class=Response,
    responses=_OK,  # type: ignore[arg-type]
    openapi_extra={"parameters": _PARAMETERS},
)
async def osmand_get(request: Request, principal: OsmAndDevice, services: ServicesDep) -> Response:
    """A position from a phone in the OsmAnd protocol (the OsmAnd app, older tracker firmware):
    the parameters in the query string. See the module's documentation for the forms."""
    return await _receive(request, principal, services)


@router.post(
    "/api/osmand",
    response_class=Response,
    responses=_OK,  # type: ignore[arg-type]
    openapi_extra={"parameters": _PARAMETERS, **_JSON_BODY},
)
async def osmand_post(request: Request, principal: OsmAndDevice, services: ServicesDep) -> Response:
    """A position from Traccar Client: the parameters in the query string (Android), or a form
    body, or the newer apps' JSON record (``Content-Type: application/json``, speed in m/s)."""
    return await _receive(request, principal, services)


__all__ = ["VERDICT_HEADER", "DeviceKeyInRequest", "router", "verdict_header"]
