"""Where a point stands on the roads: the nearest road, the others near it, its level and heading.

The nearest road is not always the one a car is on. A GPS fix between the carriageways of a dual
road is as likely on the far one; a fix under a viaduct is on the street below, not on the viaduct
that passes a metre closer. So a point is placed on *every* road within ``CANDIDATE_MARGIN_M`` of
its nearest one (``RoadPoint.others``), the search takes whichever gives the best time, and:

* **levels**: a bridge or tunnel (``speeds.road_level`` other than 0) is among them only when it
  is ``LAYER_MARGIN_M`` closer than every road at street level: a point under a viaduct is on the
  street below, a point on a river bridge on the bridge, and one on a bridge that crosses a street
  a little way off may be on either;
* **heading**: a unit seen moving (heading known, speed unknown or at least ``MOVING_SPEED_MS``)
  is placed only on roads running its way, within ``HEADING_TOLERANCE_DEG``, and leaves in that
  direction (``directed``): turning round on a two-way street costs a U-turn, and a one-way
  carriageway the other way is not where it is. When no road near runs its way (it is turning at
  a corner), the heading says nothing and it is placed as a stationary unit is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from jingwu.routing.geo import LocalProjection
from jingwu.routing.model import MAX_PLACEMENTS, RoadPoint
from jingwu.routing.osm_import import CompiledGraph
from jingwu.routing.snap import Candidates, SegmentIndex

#: Roads this much farther than the nearest one are still where the point may be: a GPS fix is
#: good to a few metres, and a dual road's carriageways are drawn 10-30 m apart.
CANDIDATE_MARGIN_M = 10.0
#: A bridge or tunnel is where a point may be only if it is this much closer than any road at
#: street level: a viaduct passes right over the street below it.
LAYER_MARGIN_M = 5.0
#: Below this speed (m/s, ≈ 7 km/h) a heading is noise: the unit is taken as standing.
MOVING_SPEED_MS = 2.0
#: How far a road's direction may differ from a moving unit's heading for it to be on that road.
HEADING_TOLERANCE_DEG = 60.0

Motion = tuple[float | None, float | None]  # (heading degrees from north, speed m/s)


class Placer:
    """Turns candidate segments into RoadPoints (see the module docstring)."""

    def __init__(self, graph: CompiledGraph, projection: LocalProjection, index: SegmentIndex) -> None:
        self._g = graph
        self._projection = projection
        self._index = index
        self.point_piece = np.repeat(np.arange(graph.piece_u.shape[0]), np.diff(graph.piece_ptr))
        self._names: list[str] = graph.names.tolist()

    def place(
        self,
        lon: NDArray[np.float64],
        lat: NDArray[np.float64],
        max_distance_m: float,
        motions: Sequence[Motion] | None = None,
    ) -> tuple[list[RoadPoint | None], NDArray[np.float64], NDArray[np.float64]]:
        """RoadPoints for the points, None beyond ``max_distance_m`` of every road; and the foot
        of each point's nearest road (any level) as (lon, lat) arrays, NaN when there is none."""
        n = lon.shape[0]
        found: list[RoadPoint | None] = [None] * n
        nearest = np.full(n, math.inf)
        foot_lon, foot_lat = np.full(n, math.nan), np.full(n, math.nan)
        if n == 0:
            return found, foot_lon, foot_lat
        c = self._index.candidates(lon, lat, exact_within_m=max_distance_m, margin_m=CANDIDATE_MARGIN_M)
        g = self._g
        # Only rows within the margin of their point's nearest can matter: drop the rest first.
        np.minimum.at(nearest, c.query, c.dist)
        near = c.dist <= nearest[c.query] + CANDIDATE_MARGIN_M
        c = Candidates(c.query[near], c.segment[near], c.t[near], c.dist[near], c.px[near], c.py[near])
        piece = self.point_piece[c.segment]
        # One row per (point, road piece): the piece's nearest segment (ties → lowest segment).
        order = np.lexsort((c.segment, c.dist, piece, c.query))
        q, p = c.query[order], piece[order]
        first = np.ones(len(order), bool)
        first[1:] = (q[1:] != q[:-1]) | (p[1:] != p[:-1])
        rows = order[first]
        query, piece = c.query[rows], piece[rows]
        dist = c.dist[rows]
        by_distance = np.lexsort((dist, query))
        closest = by_distance[np.searchsorted(query[by_distance], np.unique(query))]
        nearest[query[closest]] = dist[closest]
        foot = self._projection.to_lonlat(c.px[rows[closest]], c.py[rows[closest]])
        foot_lon[query[closest]], foot_lat[query[closest]] = foot
        keep = (dist <= nearest[query] + CANDIDATE_MARGIN_M) & (nearest[query] <= max_distance_m)
        ground = g.piece_level[piece] == 0
        nearest_ground = np.full(n, math.inf)
        np.minimum.at(nearest_ground, query[keep & ground], dist[keep & ground])
        keep &= ground | (dist + LAYER_MARGIN_M <= nearest_ground[query])
        rows, query, piece = rows[keep], query[keep], piece[keep]

        # Which way each candidate road runs at the foot, against the unit's heading.
        directed = np.zeros(len(rows), bool)
        backward = g.piece_fwd[piece] < 0  # undirected: name the forward edge when there is one
        if motions is not None:
            heading = np.array([_heading(m) for m in motions], np.float64)[query]
            seg = c.segment[rows]
            dx = self._index.pts_x[seg + 1] - self._index.pts_x[seg]
            dy = self._index.pts_y[seg + 1] - self._index.pts_y[seg]
            bearing = np.degrees(np.arctan2(dx, dy))
            with np.errstate(invalid="ignore"):
                off_fwd = np.abs((heading - bearing + 180.0) % 360.0 - 180.0)
            fwd_ok = (off_fwd <= HEADING_TOLERANCE_DEG) & (g.piece_fwd[piece] >= 0)
            bwd_ok = (off_fwd >= 180.0 - HEADING_TOLERANCE_DEG) & (g.piece_bwd[piece] >= 0)
            matched = fwd_ok | bwd_ok
            any_match = np.zeros(n, bool)
            any_match[query[matched]] = True
            use = matched | ~any_match[query]
            rows, query, piece = rows[use], query[use], piece[use]
            directed = matched[use]
            backward = np.where(directed, bwd_ok[use], backward[use])

        # Nearest first; at most MAX_PLACEMENTS per point.
        order = np.lexsort((c.segment[rows], c.dist[rows], query))
        rows, query, piece = rows[order], query[order], piece[order]
        directed, backward = directed[order], backward[order]
        rank = np.arange(len(rows)) - np.searchsorted(query, query, side="left")
        cap = rank < MAX_PLACEMENTS
        rows, query, piece = rows[cap], query[cap], piece[cap]
        directed, backward = directed[cap], backward[cap]

        seg, t = c.segment[rows], c.t[rows]
        length = g.pts_cum[g.piece_ptr[piece + 1] - 1]
        along = g.pts_cum[seg] + (g.pts_cum[seg + 1] - g.pts_cum[seg]) * t
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(length > 0, np.clip(along / length, 0.0, 1.0), 0.0)
        edge = np.where(backward, g.piece_bwd[piece], g.piece_fwd[piece])
        frac = np.where(backward, 1.0 - frac, frac)
        snapped_lon, snapped_lat = self._projection.to_lonlat(c.px[rows], c.py[rows])
        names = [*self._names, None]  # index -1: unnamed
        name = [names[i] for i in g.piece_name[piece].tolist()]
        columns = (
            snapped_lat.tolist(),
            snapped_lon.tolist(),
            edge.tolist(),
            frac.tolist(),
            c.dist[rows].tolist(),
            name,
            directed.tolist(),
        )
        placed = list(map(RoadPoint, *columns))
        # Rows are grouped by point, nearest first: the first is the point, the rest its others.
        if not placed:
            return found, foot_lon, foot_lat
        starts = np.flatnonzero(np.r_[True, query[1:] != query[:-1]]).tolist()
        owner = query.tolist()
        for a, b in zip(starts, [*starts[1:], len(placed)], strict=True):
            if b - a == 1:
                found[owner[a]] = placed[a]
            else:
                head = placed[a]
                found[owner[a]] = RoadPoint(
                    head.lat,
                    head.lon,
                    head.edge,
                    head.fraction,
                    head.offset_m,
                    head.road_name,
                    head.directed,
                    tuple(placed[a + 1 : b]),
                )
        return found, foot_lon, foot_lat


def _heading(motion: Motion) -> float:
    """The heading of a moving unit, NaN (matches no road) for a standing or heading-less one."""
    heading, speed = motion
    if heading is None or not math.isfinite(heading) or (speed is not None and speed < MOVING_SPEED_MS):
        return math.nan
    return heading % 360.0
