"""Likely duplicates: other open reports of the same kind of incident, close in place and time.

Several callers often report one fight or one crash. The dispatcher decides whether to merge;
this only lists the candidates, nearest first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from jingwu.domain.geo import haversine_m
from jingwu.domain.model import Incident

#: Callers place the same event by different landmarks, house numbers or the corner they stand
#: on; half a kilometre covers one city block each way in Harbin without reaching the next scene.
DUPLICATE_RADIUS_M = 500.0
#: Repeat calls about one event cluster within minutes of the first; after half an hour a new call
#: of the same kind at the same place is more likely a new event (or a follow-up worth its own look).
DUPLICATE_WINDOW = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class DuplicateCandidate:
    incident: Incident
    distance_m: float


def likely_duplicates(
    incident: Incident,
    others: Iterable[Incident],
    *,
    radius_m: float = DUPLICATE_RADIUS_M,
    window: timedelta = DUPLICATE_WINDOW,
) -> list[DuplicateCandidate]:
    """Open incidents other than ``incident`` with its type code, within ``radius_m`` (great-circle)
    and opened within ``window`` of it (before or after); nearest first, then earliest, then id."""
    found = []
    for other in others:
        if other.id == incident.id or not other.is_open or other.type_code != incident.type_code:
            continue
        if abs(other.created_at - incident.created_at) > window:
            continue
        distance = haversine_m(incident.location, other.location)
        if distance <= radius_m:
            found.append(DuplicateCandidate(other, distance))
    found.sort(key=lambda c: (c.distance_m, c.incident.created_at, c.incident.id))
    return found


__all__ = ["DUPLICATE_RADIUS_M", "DUPLICATE_WINDOW", "DuplicateCandidate", "likely_duplicates"]
