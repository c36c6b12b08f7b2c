"""Is a reported arrival believable? A unit on scene is judged by its last known position and by
how soon after its dispatch it arrived, so that a tap made far away or too early does not count
as a response within target.

Pure: the service hands in what it knows (the scene, the unit's newest position, the dispatch
time and its road ETA) and the moment of the arrival.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from jingwu.domain.geo import GeoPoint, haversine_m
from jingwu.domain.model import Position
from jingwu.errors import Conflict

#: A position older than this at the moment of arrival says nothing about where the unit is now:
#: a terminal reports every few seconds while moving, a car's tracker at least every minute.
POSITION_MAX_AGE = timedelta(minutes=2)
#: Reaching the scene in less than this share of the road ETA worked out at the dispatch would
#: mean driving at more than twice the speeds the router assumes.
MIN_SHARE_OF_ROAD_ETA = 0.5


class ArrivalFlag(StrEnum):
    FAR = "far"  # the last known position is farther from the scene than the arrival radius
    NO_POSITION = "no_position"  # no position, or none recent enough to tell where the unit is
    TOO_SOON = "too_soon"  # sooner after the dispatch than the road allows


@dataclass(frozen=True, slots=True)
class ArrivalEvidence:
    """What the server knows when a unit reports itself on scene. ``scene``: the incident's
    location and where its road reaches it (a car stops on the road, which may be some way from
    a place in a courtyard); ``eta_s``: the road ETA worked out at the dispatch, if any."""

    scene: Sequence[GeoPoint]
    position: Position | None
    dispatched_at: datetime | None
    eta_s: float | None


@dataclass(frozen=True, slots=True)
class ArrivalCheck:
    flags: frozenset[ArrivalFlag]
    radius_m: float
    distance_m: float | None  # from the nearest scene point; None without a current position
    position_age_s: float | None
    since_dispatch_s: float | None
    eta_s: float | None

    @property
    def far(self) -> bool:
        return ArrivalFlag.FAR in self.flags

    def as_data(self, *, confirmed: bool) -> dict[str, Any]:
        """The JSON kept with the arrival's event (``confirmed``: the crew said they were there
        although the position said otherwise)."""
        data: dict[str, Any] = {
            "flags": sorted(str(f) for f in self.flags),
            "radius_m": round(self.radius_m),
            "distance_m": _rounded(self.distance_m, 0),
            "position_age_s": _rounded(self.position_age_s, 1),
            "since_dispatch_s": _rounded(self.since_dispatch_s, 1),
            "eta_s": _rounded(self.eta_s, 1),
        }
        if self.far:
            data["confirmed"] = confirmed
        return data


def _rounded(value: float | None, digits: int) -> float | None:
    if value is None:
        return None
    return float(round(value, digits))


def check_arrival(evidence: ArrivalEvidence, *, at: datetime, radius_m: float) -> ArrivalCheck:
    """Flag an arrival at ``at`` that the evidence does not bear out. A current position within
    ``radius_m`` of the scene settles it: the unit is there, however soon. Otherwise (far, or no
    current position) an arrival sooner than half the dispatch's road ETA is flagged too."""
    if radius_m <= 0:
        raise ValueError("the arrival radius must be positive")
    flags: set[ArrivalFlag] = set()
    distance_m: float | None = None
    age_s: float | None = None
    position = evidence.position
    if position is not None:
        age_s = max(0.0, (at - position.ts).total_seconds())
    if position is None or age_s is None or age_s > POSITION_MAX_AGE.total_seconds() or not evidence.scene:
        flags.add(ArrivalFlag.NO_POSITION)
    else:
        here = GeoPoint(position.lat, position.lon)
        distance_m = min(haversine_m(here, point) for point in evidence.scene)
        if distance_m > radius_m:
            flags.add(ArrivalFlag.FAR)
    since_s: float | None = None
    if evidence.dispatched_at is not None:
        since_s = max(0.0, (at - evidence.dispatched_at).total_seconds())
    eta_s = evidence.eta_s if evidence.eta_s is not None and evidence.eta_s > 0 else None
    if flags and since_s is not None and eta_s is not None and since_s < MIN_SHARE_OF_ROAD_ETA * eta_s:
        flags.add(ArrivalFlag.TOO_SOON)
    return ArrivalCheck(
        flags=frozenset(flags),
        radius_m=radius_m,
        distance_m=distance_m,
        position_age_s=age_s,
        since_dispatch_s=since_s,
        eta_s=eta_s,
    )


def refuse_unconfirmed(check: ArrivalCheck, *, unit_id: str, confirmed: bool) -> None:
    """A far arrival stands only once the crew confirms it: 409 ``far_from_scene`` otherwise,
    with the distance for the terminal to show."""
    if check.far and not confirmed:
        distance = round(check.distance_m or 0.0)
        raise Conflict(
            f"the unit's last position is about {distance} m from the scene; confirm the arrival",
            code="far_from_scene",
            unit_id=unit_id,
            distance_m=distance,
            radius_m=round(check.radius_m),
        )


def is_flagged(event_data: Mapping[str, Any]) -> bool:
    """Did this unit.status_changed event record an arrival that was flagged? (Events from
    before arrivals were checked carry no ``arrival`` and count as they always did.)"""
    arrival = event_data.get("arrival")
    return isinstance(arrival, Mapping) and bool(arrival.get("flags"))


__all__ = [
    "MIN_SHARE_OF_ROAD_ETA",
    "POSITION_MAX_AGE",
    "ArrivalCheck",
    "ArrivalEvidence",
    "ArrivalFlag",
    "check_arrival",
    "is_flagged",
    "refuse_unconfirmed",
]
