"""Rank candidate units by road travel time, handed in as an ETA table; never by straight line.

A foot patrol walks: the road search gives a car's time, so its ETA is the walk along the same
route when that is slower (``travel_time``); an officer on foot 3 km away is not a car 4 minutes
away.

One rule for "free": only an available unit is free. A conditionally available one (cleared from
a call but not yet back to 空闲, or busy) may be offered for urgent work, but always after every
free unit, and flagged ``conditional`` so that the list and the map show it apart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jingwu.domain.geo import GeoPoint, haversine_m
from jingwu.domain.model import Unit
from jingwu.domain.status import PRIMARY_OF, PrimaryUnitStatus, UnitKind

#: How fast a foot patrol covers a road route, in metres a second (a brisk walk: 5 km/h).
WALKING_SPEED_MS = 1.4

#: A police drone (the class of a DJI Matrice 30) cruises at about 15 m/s and is in the air
#: about a minute after the order; it flies the air line, not the roads.
DRONE_SPEED_MS = 15.0
DRONE_LAUNCH_S = 60.0
#: Its flight time on a battery, and what it must keep for the scene: a drone that could not fly
#: there, watch for that long and come back is not offered.
DRONE_FLIGHT_BUDGET_S = 30 * 60.0
DRONE_ON_SCENE_S = 10 * 60.0


@dataclass(frozen=True, slots=True)
class Recommendation:
    unit: Unit
    eta_s: float
    distance_m: float
    straight_line_m: float
    route: dict[str, Any] | None  # GeoJSON LineString geometry
    conditional: bool = False  # not free: cleared or busy, offered only because the call is urgent


def travel_time(unit: Unit, eta_s: float, distance_m: float) -> float:
    """The unit's time along a road route that a car drives in ``eta_s``: a car's, a
    motorcycle's, or a walk's. (A drone's row is its air line already: :func:`air_entry`.)"""
    if unit.kind is UnitKind.FOOT:
        return max(eta_s, distance_m / WALKING_SPEED_MS)
    return eta_s


def air_entry(index: int, unit: Unit, target: GeoPoint) -> EtaEntry | None:
    """A drone's row of the ETA table: the air line at cruise speed after launch, with the air
    line as its route; None when the flight there and back, with the time on scene, exceeds its
    battery."""
    assert unit.position is not None
    straight = haversine_m(GeoPoint(unit.position.lat, unit.position.lon), target)
    flight_s = straight / DRONE_SPEED_MS
    if 2 * flight_s + DRONE_ON_SCENE_S > DRONE_FLIGHT_BUDGET_S:
        return None
    line = {
        "type": "LineString",
        "coordinates": [[unit.position.lon, unit.position.lat], [target.lon, target.lat]],
    }
    return EtaEntry(index, DRONE_LAUNCH_S + flight_s, straight, line)


def is_free(unit: Unit) -> bool:
    return PRIMARY_OF[unit.status] is PrimaryUnitStatus.AVAILABLE


@dataclass(frozen=True, slots=True)
class EtaEntry:
    """One row of the ETA table: candidate index → road travel time and distance (and route)."""

    index: int
    eta_s: float
    distance_m: float
    route: dict[str, Any] | None


def rank(
    candidates: Sequence[Unit], etas: Sequence[EtaEntry], target: GeoPoint, limit: int
) -> list[Recommendation]:
    """Free units first, then by ETA (ties: shorter road distance, then call sign, so the order
    is stable). A foot patrol's ETA is its walk (``travel_time``): a caller that wants the top
    ``limit`` exactly hands in ``limit`` plus as many rows as there are foot patrols."""
    etas = [
        EtaEntry(e.index, travel_time(candidates[e.index], e.eta_s, e.distance_m), e.distance_m, e.route)
        for e in etas
    ]
    ordered = sorted(
        etas,
        key=lambda e: (
            not is_free(candidates[e.index]),
            e.eta_s,
            e.distance_m,
            candidates[e.index].callsign,
        ),
    )
    result = []
    for entry in ordered[:limit]:
        unit = candidates[entry.index]
        assert unit.position is not None
        straight = haversine_m(GeoPoint(unit.position.lat, unit.position.lon), target)
        result.append(
            Recommendation(
                unit, entry.eta_s, entry.distance_m, straight, entry.route, conditional=not is_free(unit)
            )
        )
    return result


__all__ = [
    "DRONE_FLIGHT_BUDGET_S",
    "DRONE_LAUNCH_S",
    "DRONE_ON_SCENE_S",
    "DRONE_SPEED_MS",
    "WALKING_SPEED_MS",
    "EtaEntry",
    "Recommendation",
    "air_entry",
    "is_free",
    "rank",
    "travel_time",
]
