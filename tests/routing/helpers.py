"""Independent checks for the routing tests: brute-force geometry and a forward Dijkstra."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from jingwu.routing import RoadNetwork, RoadPoint

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
    """Travel time source → target by a *forward* full Dijkstra from the source's edge ends:
    independent of the reverse search, its virtual node and its bounded limit."""

    def __init__(self, network: RoadNetwork) -> None:
        g: Any = network._g  # white-box: the compiled arrays
        self.g = g
        n = g.node_count
        order = np.lexsort((g.edge_time, g.edge_v, g.edge_u))
        u, v, w = g.edge_u[order], g.edge_v[order], g.edge_time[order]
        first = np.ones(len(u), bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        self.matrix = csr_matrix((w[first], (u[first], v[first])), shape=(n, n))

    def eta(self, source: RoadPoint, target: RoadPoint) -> float:
        g = self.g
        options = [(source.edge, source.fraction)]
        if g.edge_twin[source.edge] >= 0:
            options.append((int(g.edge_twin[source.edge]), 1.0 - source.fraction))
        targets = [(target.edge, target.fraction)]
        if g.edge_twin[target.edge] >= 0:
            targets.append((int(g.edge_twin[target.edge]), 1.0 - target.fraction))
        best = math.inf
        for se, sf in options:
            dist = dijkstra(self.matrix, indices=int(g.edge_v[se]))
            for te, tf in targets:
                via_graph = (1 - sf) * g.edge_time[se] + dist[g.edge_u[te]] + tf * g.edge_time[te]
                best = min(best, float(via_graph))
                if se == te and tf >= sf:
                    best = min(best, float((tf - sf) * g.edge_time[se]))
        return best
