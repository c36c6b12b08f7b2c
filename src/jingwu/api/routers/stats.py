"""Today's figures for the command-room dashboard."""

from __future__ import annotations

from fastapi import APIRouter

from jingwu.api.deps import ServicesDep, StatsReader, guard
from jingwu.api.schemas.responses import StatsTodayOut
from jingwu.domain.stats import ARRIVAL_TARGET_S

router = APIRouter(prefix="/api/stats", tags=["stats"])


@router.get("/today", response_model=StatsTodayOut)
def today(principal: StatsReader, services: ServicesDep) -> StatsTodayOut:
    """The open queue and the fleet now, and response times over the incidents opened since
    local midnight (JINGWU_TIMEZONE), within the caller's jurisdiction."""
    # Figures of the caller's own jurisdiction: a station's commander sees their station's day.
    stats = services.stats.today(station_ids=guard(principal, services).station_ids)
    return StatsTodayOut(
        date=stats.day.day.isoformat(),
        timezone=services.settings.timezone,
        open_incidents=stats.open_incidents,
        pending_incidents=stats.pending_incidents,
        units_total=stats.units_total,
        units_available=stats.units_available,
        incidents_today=stats.incidents_today,
        median_call_to_dispatch_s=stats.times.median_call_to_dispatch_s,
        median_dispatch_to_arrival_s=stats.times.median_dispatch_to_arrival_s,
        arrival_target_s=ARRIVAL_TARGET_S,
        arrivals_today=stats.times.arrivals,
        arrivals_within_target=stats.times.arrivals_within_target,
        arrivals_flagged=stats.times.arrivals_flagged,
    )
