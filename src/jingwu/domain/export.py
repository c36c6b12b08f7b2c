"""Incidents as rows for analysts' exports (pure): what happened where and how fast, and no one's
personal data. The reporter, the free-text description and the address are left out: a file
that leaves the system is beyond the audit log's reach, so it carries only what statistics need.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

from jingwu.domain.model import Incident
from jingwu.domain.status import IncidentStatus
from jingwu.errors import ValidationFailed

EXPORT_COLUMNS = (
    "id",
    "created_local",
    "type_code",
    "priority",
    "source",
    "status",
    "station_id",
    "lat",
    "lon",
    "call_to_dispatch_s",
    "dispatch_to_arrival_s",
    "closed_local",
    "merged_into",
)
MAX_EXPORT_DAYS = 366
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(9000, 12, 31)


def export_range(first: date, last: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The UTC-aware instants of local days ``first`` … ``last`` (inclusive), end exclusive."""
    if first < EARLIEST_DAY or last > LATEST_DAY:
        # Beyond these the conversion to UTC instants overflows; no record lies there anyway.
        raise ValidationFailed(
            f"export days lie between {EARLIEST_DAY.isoformat()} and {LATEST_DAY.isoformat()}",
            code="bad_export_range",
        )
    if last < first:
        raise ValidationFailed("the export's last day is before its first", code="bad_export_range")
    if (last - first).days + 1 > MAX_EXPORT_DAYS:
        raise ValidationFailed(
            f"an export spans at most {MAX_EXPORT_DAYS} days; split it",
            code="bad_export_range",
            max_days=MAX_EXPORT_DAYS,
        )
    start = datetime.combine(first, time(0), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
    return start, end


def _seconds(a: datetime | None, b: datetime | None) -> str:
    return "" if a is None or b is None else f"{(b - a).total_seconds():.0f}"


def export_row(incident: Incident, zone: tzinfo) -> list[str]:
    """One incident as the cells of EXPORT_COLUMNS (times in the bureau's zone, ISO 8601)."""
    stages = incident.stage_times
    dispatched = stages.get(IncidentStatus.DISPATCHED)
    closed = stages.get(IncidentStatus.CLOSED)
    return [
        incident.id,
        incident.created_at.astimezone(zone).isoformat(timespec="seconds"),
        incident.type_code,
        str(incident.priority),
        str(incident.source),
        str(incident.status),
        incident.station_id or "",
        f"{incident.location.lat:.6f}",
        f"{incident.location.lon:.6f}",
        _seconds(incident.created_at, dispatched),
        _seconds(dispatched, stages.get(IncidentStatus.ON_SCENE)),
        closed.astimezone(zone).isoformat(timespec="seconds") if closed else "",
        incident.merged_into or "",
    ]


__all__ = ["EXPORT_COLUMNS", "MAX_EXPORT_DAYS", "export_range", "export_row"]
