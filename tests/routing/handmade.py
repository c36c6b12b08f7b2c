"""A hand-made town in OSM XML, and a turn-aware oracle that reads the same description directly.

The town (rows 0-2 south to north, columns 0-3 west to east, about 100 m apart):

    D603 ←←←←←←←←←←←←←←←←←←←←←← D602        dual road, north carriageway westbound
     |                             |
    D600 →→→→→→→→→→→→→→→→→→→→→→ D601        south carriageway eastbound
     |                             |
    20 ←←← 21 ←←← 22 ──── 23                row 2: 20-21-22 one-way westbound
     |      |      ↑      |
    10 ─── 11 ─── 12 ──── 13                east column 02-12-22 one-way northbound
     |      |      ↑
    00 ─── 01 ─── 02        (a bridge, layer 1, from 00 to 21 over 10-11)
     |
    S (dead end)

Restrictions: no left turn 01→11 onto 11→10; only straight on 00→01 → 02; no U-turn at 21 for
11→21; and through via way 12→22: no left turn from 11→12 onto 22→21.

The oracle is a plain Dijkstra over (previous segment, segment) states built from these lists,
not from the compiled graph: it shares only the documented policies (speeds and the turn cost
of an angle) with the code under test.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import osmium

from jingwu.routing import RoadPoint
from jingwu.routing.search import WALK_SPEED_MS
from jingwu.routing.speeds import speed_kmh
from jingwu.routing.turns import U_TURN_MIN_DEG, U_TURN_S, turn_cost_s

from .helpers import metres

LON0, LAT0 = 126.600, 45.700
DLON, DLAT = 0.0013, 0.0009  # ≈ 101 m and 100 m


def grid(row: int, col: int) -> int:
    return 100 + 10 * row + col


NODES: dict[int, tuple[float, float]] = {
    grid(r, c): (LON0 + c * DLON, LAT0 + r * DLAT) for r in range(3) for c in range(4) if (r, c) != (0, 3)
}
NODES |= {
    300: (LON0, LAT0 - 0.6 * DLAT),  # S, the dead end
    600: (LON0, LAT0 + 2.8 * DLAT),
    601: (LON0 + 3 * DLON, LAT0 + 2.8 * DLAT),
    602: (LON0 + 3 * DLON, LAT0 + 3.0 * DLAT),
    603: (LON0, LAT0 + 3.0 * DLAT),
}

RES = {"highway": "residential"}
ONE_WAY = {"highway": "residential", "oneway": "yes"}


def _way(way_id: int, a: int, b: int, tags: dict[str, str]) -> tuple[int, list[int], dict[str, str]]:
    return (way_id, [a, b], tags)


WAYS: list[tuple[int, list[int], dict[str, str]]] = [
    _way(1, grid(0, 0), grid(0, 1), RES),
    _way(2, grid(0, 1), grid(0, 2), RES),
    _way(3, grid(1, 0), grid(1, 1), RES),
    _way(4, grid(1, 1), grid(1, 2), RES),
    _way(5, grid(1, 2), grid(1, 3), RES),
    _way(6, grid(2, 1), grid(2, 0), ONE_WAY),
    _way(7, grid(2, 2), grid(2, 1), ONE_WAY),
    _way(8, grid(2, 2), grid(2, 3), RES),
    _way(9, grid(0, 0), grid(1, 0), RES),
    _way(10, grid(1, 0), grid(2, 0), RES),
    _way(11, grid(0, 1), grid(1, 1), RES),
    _way(12, grid(1, 1), grid(2, 1), RES),
    _way(13, grid(0, 2), grid(1, 2), ONE_WAY),
    _way(14, grid(1, 2), grid(2, 2), ONE_WAY),
    _way(15, grid(1, 3), grid(2, 3), RES),
    _way(16, grid(0, 0), 300, RES),
    _way(17, grid(0, 0), grid(2, 1), {"highway": "tertiary", "bridge": "yes", "layer": "1"}),
    _way(20, 600, 601, {"highway": "secondary", "oneway": "yes"}),
    _way(21, 602, 603, {"highway": "secondary", "oneway": "yes"}),
    _way(22, grid(2, 0), 600, RES),
    _way(23, 600, 603, RES),
    _way(24, grid(2, 3), 601, RES),
    _way(25, 601, 602, RES),
]

# (relation id, restriction, [(member type, ref, role)])
RELATIONS: list[tuple[int, str, list[tuple[str, int, str]]]] = [
    (901, "no_left_turn", [("w", 11, "from"), ("n", grid(1, 1), "via"), ("w", 3, "to")]),
    (902, "only_straight_on", [("w", 1, "from"), ("n", grid(0, 1), "via"), ("w", 2, "to")]),
    (903, "no_u_turn", [("w", 12, "from"), ("n", grid(2, 1), "via"), ("w", 12, "to")]),
    (904, "no_left_turn", [("w", 4, "from"), ("w", 14, "via"), ("w", 7, "to")]),
]


def write_town(path: Path, relations: bool = True) -> Path:
    with osmium.SimpleWriter(str(path)) as writer:
        for node_id, (lon, lat) in NODES.items():
            writer.add_node(osmium.osm.mutable.Node(id=node_id, location=(lon, lat)))
        for way_id, refs, tags in WAYS:
            writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=refs, tags=tags))
        for rel_id, kind, members in RELATIONS if relations else []:
            writer.add_relation(
                osmium.osm.mutable.Relation(
                    id=rel_id, members=members, tags={"type": "restriction", "restriction": kind}
                )
            )
    return path


def _bearing(a: int, b: int) -> float:
    (lon1, lat1), (lon2, lat2) = NODES[a], NODES[b]
    dx = (lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    return math.degrees(math.atan2(dx, lat2 - lat1)) % 360.0


Seg = tuple[int, int]


class TownOracle:
    """Fastest times over the town's segments, turns priced by the documented policy."""

    def __init__(
        self,
        way_of_edge: Callable[[int], int],
        relations: bool = True,
        speed_factor: Callable[[str], float] = lambda _highway: 1.0,
    ) -> None:
        self.way_of_edge = way_of_edge  # which OSM way a placement's edge is on
        self.time: dict[Seg, float] = {}
        self.way_of: dict[Seg, int] = {}
        neighbours: dict[int, set[int]] = {}
        for way_id, (a, b), tags in WAYS:
            (lon1, lat1), (lon2, lat2) = NODES[a], NODES[b]
            kmh = speed_kmh(tags["highway"], None) * speed_factor(tags["highway"])
            seconds = metres(lat1, lon1, lat2, lon2) / (kmh / 3.6)
            directions = [(a, b)] if tags.get("oneway") == "yes" else [(a, b), (b, a)]
            for seg in directions:
                self.time[seg] = seconds
                self.way_of[seg] = way_id
            neighbours.setdefault(a, set()).add(b)
            neighbours.setdefault(b, set()).add(a)
        self.junction = {node for node, near in neighbours.items() if len(near) > 2}
        self.leaving: dict[int, list[Seg]] = {}
        for seg in self.time:
            self.leaving.setdefault(seg[0], []).append(seg)
        self.banned: set[tuple[Seg, Seg]] = set()
        self.only: dict[Seg, set[Seg]] = {}
        self.banned_chains: set[tuple[Seg, Seg, Seg]] = set()
        for _, kind, members in RELATIONS if relations else []:
            self._restrict(kind, members)

    def _segs(self, way: int) -> list[Seg]:
        return [s for s, w in self.way_of.items() if w == way]

    def _restrict(self, kind: str, members: list[tuple[str, int, str]]) -> None:
        role = {r: ref for _, ref, r in members}
        if "from" in role and any(t == "n" for t, _, _ in members):
            via = role["via"]
            froms = [s for s in self._segs(role["from"]) if s[1] == via]
            tos = [s for s in self._segs(role["to"]) if s[0] == via]
            for f in froms:
                if kind.startswith("only_"):
                    self.only[f] = set(tos)
                else:
                    self.banned |= {(f, t) for t in tos}
        else:  # one via way of one segment
            (via,) = self._segs(role["via"])
            froms = [s for s in self._segs(role["from"]) if s[1] == via[0]]
            tos = [s for s in self._segs(role["to"]) if s[0] == via[1]]
            self.banned_chains |= {(f, via, t) for f in froms for t in tos}

    def turn(self, prev: Seg | None, seg: Seg, nxt: Seg) -> float | None:
        """Seconds to turn from seg onto nxt (None: not allowed), having come along prev."""
        if (seg, nxt) in self.banned or (seg in self.only and nxt not in self.only[seg]):
            return None
        if prev is not None and (prev, seg, nxt) in self.banned_chains:
            return None
        dev = (_bearing(*nxt) - _bearing(*seg) + 180.0) % 360.0 - 180.0
        dev = 180.0 if dev == -180.0 else dev
        u_turn = nxt == (seg[1], seg[0]) or abs(dev) >= U_TURN_MIN_DEG
        cost = turn_cost_s(np.array([dev]), np.array([u_turn]), np.array([seg[1] in self.junction]))
        return float(cost[0])

    def locate(self, point: RoadPoint, way: int) -> tuple[Seg, float]:
        """The drawn segment of ``way`` under a placement and how far along it (0..1). (A point at
        a junction lies on several ways: the placement says which it stands for.)"""
        ((a, b),) = [refs for way_id, refs, _ in WAYS if way_id == way]
        (lon1, lat1), (lon2, lat2) = NODES[a], NODES[b]
        length = metres(lat1, lon1, lat2, lon2)
        f = metres(lat1, lon1, point.lat, point.lon) / length
        off = metres(lat1, lon1, point.lat, point.lon) + metres(point.lat, point.lon, lat2, lon2) - length
        assert off < 0.05, "placement not on its road"
        return (a, b), min(max(f, 0.0), 1.0)

    def ends(self, point: RoadPoint, heading: float | None, arriving: bool) -> list[tuple[Seg, float, float]]:
        """(segment, fraction, extra s) ways of leaving (or reaching) a RoadPoint's placements."""
        out = []
        for place in point.placements():
            (a, b), f = self.locate(place, self.way_of_edge(place.edge))
            extra = (place.offset_m - point.offset_m) / WALK_SPEED_MS if arriving else 0.0
            for seg, frac in (((a, b), f), ((b, a), 1.0 - f)):
                if seg not in self.time:
                    continue
                cost = extra
                if not arriving and place.directed:
                    assert heading is not None
                    off = abs((_bearing(*seg) - heading + 180.0) % 360.0 - 180.0)
                    cost += 0.0 if off <= 90.0 else U_TURN_S
                out.append((seg, frac, cost))
        return out

    def eta(self, source: RoadPoint, target: RoadPoint, heading: float | None = None) -> float:
        arrivals = self.ends(target, None, arriving=True)
        best = math.inf
        queue: list[tuple[float, Any, Seg]] = []
        for seg, f, extra in self.ends(source, heading, arriving=False):
            heapq.heappush(queue, (extra + (1.0 - f) * self.time[seg], None, seg))
            for t_seg, tf, walk in arrivals:
                if t_seg == seg and tf >= f:
                    best = min(best, extra + (tf - f) * self.time[seg] + walk)
        done: set[tuple[Any, Seg]] = set()
        while queue:
            d, prev, seg = heapq.heappop(queue)
            if (prev, seg) in done or d >= best:
                continue
            done.add((prev, seg))
            for t_seg, tf, walk in arrivals:
                if t_seg[0] == seg[1]:
                    cost = self.turn(prev, seg, t_seg)
                    if cost is not None:
                        best = min(best, d + cost + tf * self.time[t_seg] + walk)
            for nxt in self.leaving.get(seg[1], []):
                cost = self.turn(prev, seg, nxt)
                if cost is not None:
                    heapq.heappush(queue, (d + cost + self.time[nxt], seg, nxt))
        return best


def along(a: int, b: int, f: float) -> tuple[float, float]:
    """(lat, lon) of the point a fraction f from node a to node b."""
    (lon1, lat1), (lon2, lat2) = NODES[a], NODES[b]
    return lat1 + (lat2 - lat1) * f, lon1 + (lon2 - lon1) * f
