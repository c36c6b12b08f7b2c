"""Exports: files that leave the system, each recorded in the audit log first."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from jingwu.api.deps import Exporter, ServicesDep, client_address, guard

router = APIRouter(prefix="/api/exports", tags=["exports"])


@router.get(
    "/incidents.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 CSV with a byte-order mark"}},
)
def incidents_csv(
    principal: Exporter,
    request: Request,
    services: ServicesDep,
    first: Annotated[date, Query(alias="from", description="first local day (YYYY-MM-DD, bureau time zone)")],
    last: Annotated[
        date, Query(alias="to", description="last local day, inclusive; at most 366 days in all")
    ],
) -> StreamingResponse:
    """Incidents opened in the period within the caller's jurisdiction: type, priority, channel,
    status, station, place and response times — no reporter, description or address. The
    export (period, rows, who, from where) is in the audit log before the first byte is sent."""
    g = guard(principal, services)
    export = services.exports.incidents_csv(
        first,
        last,
        actor=principal.username,
        source=client_address(request),
        station_ids=g.station_ids,
        jurisdiction=str(principal.jurisdiction),
    )
    name = f"jingwu-incidents-{first.isoformat()}-{last.isoformat()}.csv"
    return StreamingResponse(
        export.lines,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Row-Count": str(export.rows),
        },
    )
