"""Which OSM ways a patrol car may drive, how fast, and in which direction.

Speeds are *typical urban travel speeds* in Harbin traffic, not posted limits: a dispatcher compares
units against each other, so what matters is that an arterial beats a back street by a realistic
margin. The values follow the usual defaults of car routers (OSRM / GraphHopper urban profiles)
lowered for a dense city with signals every few hundred metres.
"""

from __future__ import annotations

import re
from typing import Protocol

#: km/h per ``highway=*`` class. The order is also the class id stored in the compiled graph, so only
#: append to it (and bump the cache format version in ``graph.py`` if you reorder).
SPEED_KMH: dict[str, float] = {
    "motorway": 80.0,
    "motorway_link": 50.0,
    "trunk": 60.0,  # Harbin's trunks are mostly grade-separated ring roads / expressways
    "trunk_link": 40.0,
    "primary": 45.0,
    "primary_link": 35.0,
    "secondary": 40.0,
    "secondary_link": 30.0,
    "tertiary": 35.0,
    "tertiary_link": 25.0,
    "unclassified": 30.0,
    "residential": 25.0,
    "living_street": 10.0,
    "service": 15.0,
    "road": 25.0,  # unknown classification: assume a residential-grade street
}

ROAD_CLASSES: tuple[str, ...] = tuple(SPEED_KMH)

#: A posted ``maxspeed`` replaces the class default, but never above this: nothing inside the city
#: sustains more than 80 km/h door to door, even where an expressway is signed 100 or 120.
URBAN_CAP_KMH = 80.0
#: ... and never below a walking-pace floor, so a bogus "maxspeed=1" cannot make a street a wall.
MIN_SPEED_KMH = 5.0

#: ``service=*`` values left out. Parking aisles and driveways are dead-end stubs inside lots and
#: compounds: keeping them would (a) place simulated units in car parks, and (b) let an incident
#: snap to a driveway stub behind a building instead of the street a unit would actually stop on.
EXCLUDED_SERVICE = frozenset({"parking_aisle", "driveway", "drive-through"})
#: ``access``-like tags whose value closes a way to a police car on routine response.
_CLOSED_ACCESS = frozenset({"no", "private"})
_ACCESS_KEYS = ("access", "vehicle", "motor_vehicle", "motorcar")

_MAXSPEED_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(km/h|kmh|kph|mph|knots)?\s*$")
_UNIT_FACTOR = {None: 1.0, "km/h": 1.0, "kmh": 1.0, "kph": 1.0, "mph": 1.609344, "knots": 1.852}


class Tags(Protocol):
    """What the rules read from a way's tags: a ``dict`` in tests, pyosmium's TagList on import."""

    def get(self, key: str, /) -> str | None: ...


#: Motorways (and their links) are one-way by OSM convention even without an ``oneway`` tag.
_IMPLIED_ONEWAY = frozenset({"motorway", "motorway_link"})


def road_class(tags: Tags) -> str | None:
    """The ``highway`` class if a patrol car may drive this way, else None."""
    highway = tags.get("highway")
    if highway not in SPEED_KMH:
        return None
    if tags.get("area") == "yes":
        return None  # a paved square drawn as a polygon, not a road
    if highway == "service" and tags.get("service") in EXCLUDED_SERVICE:
        return None
    # The most specific access tag wins (motorcar > motor_vehicle > vehicle > access).
    for key in reversed(_ACCESS_KEYS):
        value = tags.get(key)
        if value is not None:
            return None if value in _CLOSED_ACCESS else highway
    return highway


def parse_maxspeed(value: str | None) -> float | None:
    """``maxspeed`` in km/h, or None when absent or not a number ("none", "signals", "CN:urban" …).

    Several values ("60;40") mean different lanes or times; the first is the main carriageway's.
    """
    if not value:
        return None
    match = _MAXSPEED_RE.match(value.split(";")[0])
    if match is None:
        return None
    kmh = float(match.group(1)) * _UNIT_FACTOR[match.group(2)]
    return kmh if kmh > 0 else None


def speed_kmh(highway: str, maxspeed: str | None) -> float:
    """Travel speed for a way: the posted limit when it parses, else the class default, capped."""
    posted = parse_maxspeed(maxspeed)
    kmh = SPEED_KMH[highway] if posted is None else posted
    return min(max(kmh, MIN_SPEED_KMH), URBAN_CAP_KMH)


def oneway_direction(tags: Tags, highway: str) -> int:
    """+1: only along the way's node order; -1: only against it; 0: both directions."""
    oneway = tags.get("oneway")
    if oneway in ("yes", "1", "true"):
        return 1
    if oneway in ("-1", "reverse"):
        return -1
    if oneway in ("no", "0", "false"):
        return 0
    if tags.get("junction") in ("roundabout", "circular") or highway in _IMPLIED_ONEWAY:
        return 1
    return 0


#: ``tunnel=*`` values that are no tunnel for a driver: a passage through a building is at street level.
_GROUND_TUNNELS = frozenset({"no", "building_passage"})


def road_level(tags: Tags) -> int:
    """Which level a road is on: its ``layer`` when tagged, else 1 for a bridge, -1 for a tunnel,
    0 (the ground) otherwise. Snapping keeps a point at street level off a viaduct above it."""
    layer = tags.get("layer")
    if layer is not None:
        try:
            return max(-5, min(5, int(float(layer.split(";")[0]))))
        except (ValueError, OverflowError):  # "yes", "nan", "inf": as if untagged
            pass
    if tags.get("bridge") not in (None, "no"):
        return 1
    if tags.get("tunnel") not in (None, *_GROUND_TUNNELS):
        return -1
    return 0
