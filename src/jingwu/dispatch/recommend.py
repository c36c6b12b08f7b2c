"""Rank candidate units by road travel time, handed in as an ETA table; never by straight line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jingwu.domain.geo import GeoPoint, haversine_m
from jingwu.domain.model import Unit


@dataclass(frozen=True, slots=True)
class Recommendation:
    unit: Unit
    eta_s: float
    distance_m: float
    straight_line_m: float
    route: dict[str, Any] | None  # GeoJSON LineString geometry


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
    """Order by ETA (ties: shorter road distance, then call sign, so the order is stable)."""
    ordered = sorted(etas, key=lambda e: (e.eta_s, e.distance_m, candidates[e.index].callsign))
    result = []
    for entry in ordered[:limit]:
        unit = candidates[entry.index]
        assert unit.position is not None
        straight = haversine_m(GeoPoint(unit.position.lat, unit.position.lon), target)
        result.append(Recommendation(unit, entry.eta_s, entry.distance_m, straight, entry.route))
    return result


__all__ = ["EtaEntry", "Recommendation", "rank"]
