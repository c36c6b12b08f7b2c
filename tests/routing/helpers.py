"""Independent checks for the routing tests: brute-force geometry and a forward Dijkstra."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from jingwu.routing import RoadNetwork, RoadPoint
from jingwu.routing.search import WALK_SPEED_MS
from jingwu.routing.turns import U_TURN_MIN_DEG, U_TURN_S, turn_cost_s

R = 6_371_008.8


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * R * math.asin(math.sqrt(a))


def segments(network: RoadNetwork) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All road segments (lon0, lat0, lon1, lat1) from the public GeoJSON export."""
    starts, ends = [], []
    for feature in network.road_geojson()["features"]:
        line = feature["geometry"]["coordinates"]
        starts.extend(line[:-1])
        ends.extend(line[1:])
    a, b = np.array(starts), np.array(ends)
    return a[:, 0], a[:, 1], b[:, 0], b[:, 1]


def brute_force_distance(segs: tuple[np.ndarray, ...], lat: float, lon: float) -> float:
    """Distance (m) from a point to the nearest of all segments, in a projection about the point."""
    lon0, lat0, lon1, lat1 = segs
    kx = math.radians(1) * R * math.cos(math.radians(lat))
    ky = math.radians(1) * R
    ax, ay = (lon0 - lon) * kx, (lat0 - lat) * ky
    bx, by = (lon1 - lon) * kx, (lat1 - lat) * ky
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    t = np.clip(np.where(len2 > 0, -(ax * dx + ay * dy) / np.where(len2 > 0, len2, 1), 0), 0, 1)
    return float(np.hypot(ax + t * dx, ay + t * dy).min())


class ForwardOracle:
    """Travel time source → target by a *forward* full Dijkstra over directed edges, from each of
    the source's departures: independent of the reverse search, its virtual state, its bounded
    limit and its matrix. It reads which turns are allowed from the compiled turn graph (those are
    checked against hand-made OSM in test_turns.py) and prices them itself."""

    def __init__(self, network: RoadNetwork) -> None:
        g: Any = network._g  # white-box: the compiled arrays
        self.g = g
        n = len(g.state_edge)
        a, b = g.state_edge[g.trans_from], g.state_edge[g.trans_to]
        degree = np.bincount(g.piece_u, minlength=g.node_count) + np.bincount(
            g.piece_v, minlength=g.node_count
        )
        turn_in, turn_out = g.edge_bearing_in[a], g.edge_bearing_out[b]
        dev = (turn_out - turn_in + 180.0) % 360.0 - 180.0
        dev = np.where(dev == -180.0, 180.0, dev)
        u_turn = (g.edge_twin[a] == b) | (np.abs(dev) >= U_TURN_MIN_DEG)
        self.turn = turn_cost_s(dev, u_turn, degree[g.edge_v[a]] > 2)
        self.matrix = csr_matrix((self.turn + g.edge_time[b], (g.trans_from, g.trans_to)), shape=(n, n))
        self.into: dict[int, list[tuple[int, float]]] = {}
        for x, y, cost in zip(g.trans_from.tolist(), g.trans_to.tolist(), self.turn.tolist(), strict=True):
            self.into.setdefault(int(g.state_edge[y]), []).append((x, cost))

    def departures(self, point: RoadPoint) -> list[tuple[int, float, float]]:
        g = self.g
        out = []
        for p in point.placements():
            out.append((p.edge, p.fraction, 0.0))
            twin = int(g.edge_twin[p.edge])
            if twin >= 0:
                out.append((twin, 1.0 - p.fraction, U_TURN_S if p.directed else 0.0))
        return out

    def arrivals(self, target: RoadPoint) -> list[tuple[int, float, float]]:
        g = self.g
        out = []
        for p in target.placements():
            walk = (p.offset_m - target.offset_m) / WALK_SPEED_MS
            out.append((p.edge, p.fraction, walk))
            twin = int(g.edge_twin[p.edge])
            if twin >= 0:
                out.append((twin, 1.0 - p.fraction, walk))
        return out

    def eta(self, source: RoadPoint, target: RoadPoint) -> float:
        g = self.g
        best = math.inf
        for se, sf, extra in self.departures(source):
            dist = dijkstra(self.matrix, indices=se)
            to_end = extra + (1 - sf) * g.edge_time[se]
            for te, tf, walk in self.arrivals(target):
                for state, turn in self.into.get(te, []):
                    best = min(best, float(to_end + dist[state] + turn + tf * g.edge_time[te] + walk))
                if se == te and tf >= sf:
                    best = min(best, float(extra + (tf - sf) * g.edge_time[se] + walk))
        return best
