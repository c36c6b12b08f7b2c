"""Today's figures for the command room: the queue, the fleet and response times against target.

Pure: the service reads the rows and hands in ``now`` and the bureau's time zone.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from jingwu.domain.model import Incident
from jingwu.domain.status import OPEN_INCIDENT_STATUSES, IncidentStatus, UnitStatus

#: The arrival target: a unit on scene within five minutes of being dispatched. A dispatch whose
#: road ETA is above it is already at risk when it is made.
ARRIVAL_TARGET_S = 300


@dataclass(frozen=True, slots=True)
class LocalDay:
    """One calendar day in the bureau's time zone, as the UTC instants it spans (end exclusive)."""

    day: date
    start: datetime
    end: datetime


def local_day(now: datetime, zone: tzinfo) -> LocalDay:
    """The local day ``now`` falls in. Days are cut at local midnight, so a day with a daylight-
    saving change is 23 or 25 hours long (not an issue in China, which keeps none)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    day = now.astimezone(zone).date()
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return LocalDay(day=day, start=start, end=end)


@dataclass(frozen=True, slots=True)
class ResponseTimes:
    median_call_to_dispatch_s: float | None
    median_dispatch_to_arrival_s: float | None
    arrivals: int
    arrivals_within_target: int
    arrivals_flagged: int = 0


@dataclass(frozen=True, slots=True)
class ArrivalReport:
    """A unit reported on scene at ``at``; ``flagged``: the report was doubtful (far from the
    scene, no current position, sooner than the road allows: domain.arrivals)."""

    at: datetime
    flagged: bool


def response_times(
    incidents: Iterable[Incident],
    *,
    target_s: float = ARRIVAL_TARGET_S,
    arrivals: Mapping[str, Sequence[ArrivalReport]] | None = None,
) -> ResponseTimes:
    """Medians of call → first dispatch and first dispatch → first unit on scene, over the given
    incidents (those opened today). An incident counts only for the stages it has reached;
    ``arrivals`` are the incidents a unit has reached, and those reached within ``target_s`` of
    their dispatch are ``arrivals_within_target``.

    ``arrivals`` (incident id → its units' arrival reports): an incident's arrival is its first
    report that was not flagged; one whose every report was flagged is counted apart
    (``arrivals_flagged``), in neither the median nor the share within target. An incident with
    no reports given falls back to its on-scene stage time."""
    to_dispatch: list[float] = []
    to_arrival: list[float] = []
    flagged = 0
    for incident in incidents:
        dispatched = incident.stage_times.get(IncidentStatus.DISPATCHED)
        if dispatched is None:
            continue
        to_dispatch.append((dispatched - incident.created_at).total_seconds())
        on_scene = incident.stage_times.get(IncidentStatus.ON_SCENE)
        if on_scene is None:
            continue
        reports = [r for r in (arrivals or {}).get(incident.id, ()) if r.at >= dispatched]
        if reports:
            honest = [r.at for r in reports if not r.flagged]
            if not honest:
                flagged += 1
                continue
            on_scene = min(honest)
        to_arrival.append((on_scene - dispatched).total_seconds())
    return ResponseTimes(
        median_call_to_dispatch_s=_median(to_dispatch),
        median_dispatch_to_arrival_s=_median(to_arrival),
        arrivals=len(to_arrival),
        arrivals_within_target=sum(1 for s in to_arrival if s <= target_s),
        arrivals_flagged=flagged,
    )


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


@dataclass(frozen=True, slots=True)
class TodayStats:
    day: LocalDay
    open_incidents: int
    pending_incidents: int
    units_total: int
    units_available: int
    incidents_today: int
    times: ResponseTimes


def today_stats(
    *,
    now: datetime,
    zone: tzinfo,
    incidents_by_status: Mapping[IncidentStatus, int],
    units_by_status: Mapping[UnitStatus, int],
    incidents_opened_today: Iterable[Incident],
    arrivals: Mapping[str, Sequence[ArrivalReport]] | None = None,
) -> TodayStats:
    """The day's figures. The queue and the fleet are counted whatever day they date from;
    ``incidents_opened_today`` may hold extra incidents (they are filtered to the local day);
    ``arrivals``: their units' arrival reports (see response_times)."""
    day = local_day(now, zone)
    today = [i for i in incidents_opened_today if day.start <= i.created_at < day.end]
    return TodayStats(
        day=day,
        open_incidents=sum(n for s, n in incidents_by_status.items() if s in OPEN_INCIDENT_STATUSES),
        pending_incidents=incidents_by_status.get(IncidentStatus.PENDING, 0),
        units_total=sum(units_by_status.values()),
        units_available=units_by_status.get(UnitStatus.AVAILABLE, 0),
        incidents_today=len(today),
        times=response_times(today, arrivals=arrivals),
    )


__all__ = [
    "ARRIVAL_TARGET_S",
    "ArrivalReport",
    "LocalDay",
    "ResponseTimes",
    "TodayStats",
    "local_day",
    "response_times",
    "today_stats",
]
