"""Value types handed out by the router: a point on the road, a route, a ranked unit."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

from jingwu.routing.geo import bearing_deg

#: The most roads one point may stand for (itself and ``others``): snapping keeps the nearest few.
MAX_PLACEMENTS = 4


@dataclass(frozen=True, slots=True)
class RoadPoint:
    """A location snapped onto the road graph.

    ``edge`` and ``fraction`` locate it on one directed edge (by length, 0 = the edge's start). On a
    two-way street the network also knows the opposite edge, so a RoadPoint can be left or reached
    in either direction; the point itself does not care which of the two edges it names, unless
    ``directed``: a unit seen moving along ``edge`` leaves that way, and going back costs a U-turn.

    ``others`` are the other roads within a few metres of the nearest one where the point may just
    as well be (the far carriageway of a dual road, the cross street at a corner): a unit leaves by
    whichever is fastest, and an incident is reached at whichever comes first (see ``snap``).
    """

    lat: float
    lon: float
    edge: int
    fraction: float
    offset_m: float
    road_name: str | None
    directed: bool = False
    others: tuple[RoadPoint, ...] = ()

    def placements(self) -> tuple[RoadPoint, ...]:
        """This point and its alternatives, nearest first."""
        return (self, *self.others)


@dataclass(frozen=True, slots=True)
class Route:
    """A drivable path from one RoadPoint to another.

    ``coordinates`` are (lon, lat) pairs, GeoJSON order, starting and ending at the snapped points;
    ``cum_time_s[i]`` is when the vehicle passes ``coordinates[i]`` (0 … ``eta_s``).
    """

    eta_s: float
    distance_m: float
    coordinates: tuple[tuple[float, float], ...]
    cum_time_s: tuple[float, ...]

    def to_geojson(self) -> dict[str, Any]:
        return {"type": "LineString", "coordinates": [list(c) for c in self.coordinates]}

    def position_at(self, t_s: float) -> tuple[float, float, float]:
        """(lat, lon, heading_deg) after driving ``t_s`` seconds; clamped to the route's ends.

        The heading is that of the segment being driven (of the nearest non-degenerate segment
        when standing on a vertex where two coincide), 0 for a route of zero length.
        """
        times, coords = self.cum_time_s, self.coordinates
        last = len(coords) - 1
        t = min(max(t_s, 0.0), times[-1])
        i = min(max(bisect_right(times, t) - 1, 0), last - 1)
        (lon0, lat0), (lon1, lat1) = coords[i], coords[i + 1]
        span = times[i + 1] - times[i]
        w = (t - times[i]) / span if span > 0 else 0.0
        lat, lon = lat0 + (lat1 - lat0) * w, lon0 + (lon1 - lon0) * w
        return lat, lon, self._heading(i)

    def _heading(self, i: int) -> float:
        coords = self.coordinates
        for j in (*range(i, len(coords) - 1), *range(i - 1, -1, -1)):
            (lon0, lat0), (lon1, lat1) = coords[j], coords[j + 1]
            if lon0 != lon1 or lat0 != lat1:
                return bearing_deg(lat0, lon0, lat1, lon1)
        return 0.0


@dataclass(frozen=True, slots=True)
class Reach:
    """One of the k units nearest to an incident by road: ``index`` into the sources passed in."""

    index: int
    eta_s: float
    distance_m: float
    route: Route | None
