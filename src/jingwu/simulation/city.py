"""The demo city: Harbin's stations with their jurisdictions, their units and demo users.

The three south-bank stations are those named in the Harbin bureau's report; the fourth serves
Songbei, north of the Songhua, and the fifth Xiangfang. Each covers its district, whose real
boundary (OSM's admin_level 6, geocode.boundaries) is its jurisdiction; the rough polygons here
stand in only for an extract without those boundaries (and Xiangfang is then left out).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import numpy as np

from jingwu.domain.areas import Area, area_from_even_odd_rings
from jingwu.domain.geo import GeoPoint
from jingwu.domain.model import Position, Station, Unit
from jingwu.domain.status import UnitKind, UnitStatus
from jingwu.geocode import boundaries
from jingwu.routing import RoadNetwork

# The Songhua's course through the extract, west to east (lon, lat): the border of Songbei.
SONGHUA_COURSE: tuple[tuple[float, float], ...] = (
    (126.50, 45.758),
    (126.575, 45.768),
    (126.60, 45.780),
    (126.628, 45.7847),
    (126.66, 45.790),
    (126.70, 45.800),
    (126.73, 45.808),
    (126.78, 45.815),
)
_RIVER_WEST_OF_628 = tuple(p for p in SONGHUA_COURSE if p[0] <= 126.628)
_RIVER_EAST_OF_628 = tuple(p for p in SONGHUA_COURSE if p[0] >= 126.628)


@dataclass(frozen=True, slots=True)
class StationPlan:
    station: Station
    callsign_prefix: str
    home: tuple[float, float]  # (lat, lon) of the station building
    needs_boundary: bool = False  # no rough stand-in: left out where the district's boundary is


STATION_PLANS: tuple[StationPlan, ...] = (
    StationPlan(
        Station(
            id="nangang-baojianlu",
            name="南岗分局保健路派出所",
            district="南岗区",
            jurisdiction=Area.ring(
                (126.50, 45.65),
                (126.70, 45.65),
                (126.70, 45.765),
                (126.628, 45.765),
                (126.628, 45.70),
                (126.50, 45.70),
            ),
        ),
        "BJ",
        (45.7395, 126.6540),
    ),
    StationPlan(
        Station(
            id="daoli-xinfa",
            name="道里分局新发派出所",
            district="道里区",
            jurisdiction=Area.ring((126.50, 45.70), (126.628, 45.70), *reversed(_RIVER_WEST_OF_628)),
        ),
        "XF",
        (45.7625, 126.6010),
    ),
    StationPlan(
        Station(
            id="daowai-donglaijie",
            name="道外分局东莱街派出所",
            district="道外区",
            jurisdiction=Area.ring(
                (126.628, 45.765),
                (126.70, 45.765),
                (126.70, 45.65),
                (126.78, 45.65),
                *reversed(_RIVER_EAST_OF_628),
            ),
        ),
        "DL",
        (45.7790, 126.6500),
    ),
    StationPlan(
        Station(
            id="songbei-taiyangdao",
            name="松北分局太阳岛派出所",
            district="松北区",
            jurisdiction=Area.ring(*SONGHUA_COURSE, (126.78, 45.835), (126.50, 45.835)),
        ),
        "TY",
        (45.7925, 126.5850),
    ),
    StationPlan(
        Station(
            id="xiangfang-xiangfangdajie",
            name="香坊分局香坊大街派出所",
            district="香坊区",
            jurisdiction=Area.ring((126.64, 45.70), (126.70, 45.70), (126.70, 45.72), (126.64, 45.72)),
        ),
        "XD",
        (45.7088, 126.6790),
        needs_boundary=True,
    ),
)


def demo_station_plans(osm_file: Path, cache_dir: Path | None) -> tuple[StationPlan, ...]:
    """The demo's stations, each with its district's real boundary where the extract holds it."""
    districts = {name: rings for name, level, rings in boundaries(osm_file, cache_dir) if level == 6}
    plans = []
    for plan in STATION_PLANS:
        rings = districts.get(plan.station.district)
        if rings:
            area = area_from_even_odd_rings(rings)
            plans.append(replace(plan, station=replace(plan.station, jurisdiction=area)))
        elif not plan.needs_boundary:
            plans.append(plan)
    return tuple(plans)


# Per station, the share of each kind of unit; the rest are patrol cars.
_KIND_PLAN: tuple[tuple[UnitKind, frozenset[str]], ...] = (
    (UnitKind.PATROL_CAR, frozenset({"traffic", "armed"})),
    (UnitKind.PATROL_CAR, frozenset({"traffic"})),
    (UnitKind.PATROL_CAR, frozenset({"traffic"})),
    (UnitKind.PATROL_CAR, frozenset({"traffic", "armed"})),
    (UnitKind.MOTORCYCLE, frozenset({"traffic"})),
    (UnitKind.PATROL_CAR, frozenset({"traffic"})),
    (UnitKind.FOOT, frozenset()),
    (UnitKind.PATROL_CAR, frozenset({"traffic", "armed"})),
    (UnitKind.PATROL_CAR, frozenset({"traffic"})),
    (UnitKind.PATROL_CAR, frozenset({"traffic"})),
    (UnitKind.MOTORCYCLE, frozenset({"traffic"})),
    (UnitKind.PATROL_CAR, frozenset({"traffic", "armed"})),
    (UnitKind.DRONE, frozenset({"aerial"})),
    (UnitKind.PATROL_CAR, frozenset({"traffic"})),
    (UnitKind.FOOT, frozenset()),
)


def random_point_in(
    network: RoadNetwork, station: Station, rng: np.random.Generator, tries: int = 500
) -> tuple[float, float]:
    """A random road point inside a jurisdiction (rejection sampling over the whole road network)."""
    for _ in range(tries):
        p = network.random_road_point(rng)
        if station.jurisdiction.contains(GeoPoint(p.lat, p.lon)):
            return p.lat, p.lon
    raise RuntimeError(f"no road found inside the jurisdiction of {station.name}")


def plan_units(
    network: RoadNetwork,
    count: int,
    rng: np.random.Generator,
    now: datetime,
    plans: tuple[StationPlan, ...] = STATION_PLANS,
) -> list[Unit]:
    """``count`` units spread over the stations, each on a road inside its own jurisdiction."""
    units: list[Unit] = []
    for i in range(count):
        plan = plans[i % len(plans)]
        number = i // len(plans) + 1
        kind, capabilities = _KIND_PLAN[(number - 1) % len(_KIND_PLAN)]
        lat, lon = random_point_in(network, plan.station, rng)
        callsign = f"{plan.callsign_prefix}{number:02d}"
        units.append(
            Unit(
                id=f"unit-{callsign.lower()}",
                callsign=callsign,
                kind=kind,
                station_id=plan.station.id,
                status=UnitStatus.AVAILABLE,
                capabilities=capabilities,
                position=Position(lat=lat, lon=lon, ts=now, heading=0.0, speed=0.0),
                status_changed_at=now,
            )
        )
    return units


__all__ = [
    "SONGHUA_COURSE",
    "STATION_PLANS",
    "StationPlan",
    "demo_station_plans",
    "plan_units",
    "random_point_in",
]
