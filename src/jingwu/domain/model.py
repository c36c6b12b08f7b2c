"""The domain's records: incidents, units, stations, assignments. Frozen: a change makes a new one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from jingwu.domain.areas import Area
from jingwu.domain.geo import GeoPoint
from jingwu.domain.status import IncidentStatus, SourceChannel, UnitKind, UnitStatus


@dataclass(frozen=True, slots=True)
class Reporter:
    name: str | None = None
    phone: str | None = None  # E.164
    id_number: str | None = None  # 18-character GB 11643 number, checked


@dataclass(frozen=True, slots=True)
class Incident:
    id: str
    type_code: str
    priority: int
    location: GeoPoint
    source: SourceChannel
    status: IncidentStatus
    created_at: datetime
    address: str | None = None
    description: str | None = None
    reporter: Reporter | None = None
    station_id: str | None = None
    created_by: str | None = None
    # When each stage was first reached; stages a unit skipped stay absent.
    stage_times: dict[IncidentStatus, datetime] = field(default_factory=dict)
    merged_into: str | None = None
    linked_ids: tuple[str, ...] = ()
    disposition: str | None = None
    version: int = 0

    @property
    def is_open(self) -> bool:
        return self.status not in (IncidentStatus.CLOSED, IncidentStatus.MERGED)


@dataclass(frozen=True, slots=True)
class Position:
    lat: float
    lon: float
    ts: datetime
    heading: float | None = None  # degrees clockwise from north
    speed: float | None = None  # metres per second


@dataclass(frozen=True, slots=True)
class Unit:
    id: str
    callsign: str
    kind: UnitKind
    station_id: str
    status: UnitStatus
    capabilities: frozenset[str] = frozenset()
    incident_id: str | None = None  # the incident this unit is working, if any
    position: Position | None = None
    status_changed_at: datetime | None = None
    version: int = 0
    # The radio and the terminal (phone, car box) it carries: what the command room calls and
    # which device's reports are this unit's.
    radio_id: str | None = None
    terminal_id: str | None = None
    retired_at: datetime | None = None  # taken out of the fleet: kept for the records, never sent


@dataclass(frozen=True, slots=True)
class Station:
    id: str
    name: str
    district: str
    jurisdiction: Area
    address: str | None = None
    retired_at: datetime | None = None  # closed or merged: its records stay, it covers nothing
    version: int = 0


def station_containing(point: GeoPoint, stations: Sequence[Station]) -> Station | None:
    """The station whose jurisdiction holds the point (the first, where jurisdictions overlap;
    retired stations cover nothing)."""
    for station in stations:
        if station.retired_at is None and station.jurisdiction.contains(point):
            return station
    return None


@dataclass(frozen=True, slots=True)
class Assignment:
    """One unit sent to one incident; the acknowledgment deadline drives escalation."""

    incident_id: str
    unit_id: str
    dispatched_at: datetime
    ack_deadline: datetime
    dispatched_by: str | None = None
    acknowledged_at: datetime | None = None
    released_at: datetime | None = None  # recalled, cleared, or the incident closed
    escalated: bool = False

    @property
    def is_active(self) -> bool:
        return self.released_at is None


__all__ = ["Assignment", "Incident", "Position", "Reporter", "Station", "Unit", "station_containing"]
