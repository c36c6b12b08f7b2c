"""Backup for an officer whose check hit: the nearest free units by ROAD travel time to where the
check is, found by the same recommendation engine as a 110 call's (service.unit_board), treated as
an "officer needs assistance" call (民警请求支援) at the check's place."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jingwu.domain.geo import GeoPoint
from jingwu.domain.model import Incident
from jingwu.domain.status import IncidentStatus, SourceChannel
from jingwu.errors import OffRoadError
from jingwu.service.unit_board import UnitBoard

BACKUP_TYPE = "other.officer_assist"
BACKUP_LIMIT = 3


@dataclass(frozen=True, slots=True)
class Backup:
    unit_id: str
    callsign: str
    station_id: str
    eta_s: float
    distance_m: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "unit_id": self.unit_id,
            "callsign": self.callsign,
            "station_id": self.station_id,
            "eta_s": round(self.eta_s, 1),
            "distance_m": round(self.distance_m, 1),
        }


def suggest_backup(
    board: UnitBoard,
    *,
    check_id: str,
    at: GeoPoint,
    now: datetime,
    exclude: Collection[str] = (),
    limit: int = BACKUP_LIMIT,
) -> list[Backup]:
    """Up to ``limit`` free units (never the checking officer's own), fastest by road first; none
    when the place is off every road. Units of every station: backup crosses boundaries."""
    call = Incident(
        id=f"check:{check_id}",
        type_code=BACKUP_TYPE,
        priority=1,
        location=at,
        source=SourceChannel.OFFICER,
        status=IncidentStatus.PENDING,
        created_at=now,
    )
    try:
        found = board.recommend(call, limit=limit, exclude=tuple(exclude))
    except OffRoadError:
        return []
    return [
        Backup(r.unit.id, r.unit.callsign, r.unit.station_id, r.eta_s, r.distance_m)
        for r in found
        if not r.conditional  # a busy unit stays on its own call
    ]


__all__ = ["BACKUP_LIMIT", "BACKUP_TYPE", "Backup", "suggest_backup"]
