"""Administrative areas from OSM boundary relations that a city extract has cut at its edge.

A relation's member ways are chained into rings by their shared end nodes. Where the extract cut
a ring, a chain is left open with both ends near the extract's box; such chains are closed along
the box. Walking round the box the open ends alternate between "entering" and "leaving" the area,
so exactly one of the two ways of pairing neighbouring ends is right: the one whose area holds the
relation's own label points and its complete sub-areas rather than its neighbours' (and, with no
such evidence, the smaller one). Rings are (lon, lat) lists under the even-odd rule. Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

Point = tuple[float, float]  # (lon, lat)
Ring = list[Point]
NodeRun = list[tuple[int, float, float]]  # (OSM node id, lon, lat) along a member way
Box = tuple[float, float, float, float]  # west, south, east, north


@dataclass
class AdminRelation:
    """One boundary relation as read from the file: the located runs of its member ways, and the
    points that tell where its inside is (its label and admin-centre nodes)."""

    osm_id: int
    name: str
    level: int
    runs: list[NodeRun]
    label_points: list[Point] = field(default_factory=list)
    subareas: list[int] = field(default_factory=list)  # relation ids of its subarea members


@dataclass(frozen=True)
class AdminArea:
    osm_id: int
    name: str
    level: int
    rings: list[Ring]


def chain(runs: Sequence[NodeRun]) -> list[NodeRun]:
    """Join runs that share an end node into as few chains as possible (closed or open)."""
    chains: list[NodeRun] = []
    open_ends: dict[int, int] = {}  # end node id → index into chains of an open chain ending there
    for run in runs:
        current = list(run)
        while True:
            if current[0][0] == current[-1][0] and len(current) > 2:
                break
            joined = False
            for end_node, at_start in ((current[-1][0], False), (current[0][0], True)):
                other = open_ends.pop(end_node, None)
                if other is None:
                    continue
                piece = chains[other]
                chains[other] = []
                open_ends.pop(piece[0][0], None)
                open_ends.pop(piece[-1][0], None)
                if at_start:  # piece … → current
                    piece = piece if piece[-1][0] == end_node else piece[::-1]
                    current = piece + current[1:]
                else:  # current → piece …
                    piece = piece if piece[0][0] == end_node else piece[::-1]
                    current = current + piece[1:]
                joined = True
                break
            if not joined:
                break
        chains.append(current)
        if current[0][0] != current[-1][0] or len(current) <= 2:
            open_ends[current[0][0]] = len(chains) - 1
            open_ends[current[-1][0]] = len(chains) - 1
    return [c for c in chains if len(c) >= 2]


def _perimeter(box: Box) -> tuple[float, float, float]:
    west, south, east, north = box
    return east - west, north - south, 2 * (east - west) + 2 * (north - south)


def _to_edge(point: Point, box: Box) -> tuple[float, Point]:
    """The nearest point of the box's edge (by distance in metres) and its place counter-clockwise
    round the box from the south-west corner, in degrees of perimeter."""
    west, south, east, north = box
    lon = min(max(point[0], west), east)
    lat = min(max(point[1], south), north)
    squash = math.cos(math.radians((south + north) / 2))
    width, height, _ = _perimeter(box)
    options = (
        ((lat - south), lon - west, (lon, south)),
        ((east - lon) * squash, width + (lat - south), (east, lat)),
        ((north - lat), width + height + (east - lon), (lon, north)),
        ((lon - west) * squash, 2 * width + height + (north - lat), (west, lat)),
    )
    _, where, snapped = min(options, key=lambda o: o[0])
    return where, snapped


def _arc(from_s: float, to_s: float, box: Box) -> Ring:
    """The box's corners passed going counter-clockwise from ``from_s`` to ``to_s``."""
    west, south, east, north = box
    width, height, total = _perimeter(box)
    corners: tuple[tuple[float, Point], ...] = (
        (0.0, (west, south)),
        (width, (east, south)),
        (width + height, (east, north)),
        (2 * width + height, (west, north)),
    )
    span = (to_s - from_s) % total
    passed = sorted(((s - from_s) % total, p) for s, p in corners if 0 < (s - from_s) % total < span)
    return [p for _, p in passed]


def _close(chains: Sequence[NodeRun], box: Box, shift: int) -> list[Ring]:
    """Rings from open chains joined along the box; ``shift`` 0 or 1 picks the pairing."""
    ends: list[tuple[float, Point, int, int]] = []  # (place round the box, point, chain, which end)
    for c, run in enumerate(chains):
        for side, (_, lon, lat) in ((0, run[0]), (1, run[-1])):
            where, snapped = _to_edge((lon, lat), box)
            ends.append((where, snapped, c, side))
    ends.sort(key=lambda e: (e[0], e[2], e[3]))
    n = len(ends)
    position = {(e[2], e[3]): i for i, e in enumerate(ends)}
    partner = {}
    for k in range(0, n, 2):
        i, j = (k + shift) % n, (k + shift + 1) % n
        partner[i], partner[j] = j, i
    rings: list[Ring] = []
    done: set[int] = set()
    for first in range(len(chains)):
        if first in done:
            continue
        ring: Ring = []
        c, side = first, 0
        while c not in done:
            done.add(c)
            run = chains[c] if side == 0 else chains[c][::-1]
            ring.extend((lon, lat) for _, lon, lat in run)
            here = position[(c, 1 - side)]
            there = partner[here]
            ring.append(ends[here][1])
            # Each pair runs counter-clockwise from its first end (even after the shift) to its
            # neighbour; the walk may arrive at either end.
            if (here - shift) % 2 == 0:
                ring.extend(_arc(ends[here][0], ends[there][0], box))
            else:
                ring.extend(_arc(ends[there][0], ends[here][0], box)[::-1])
            ring.append(ends[there][1])
            c, side = ends[there][2], ends[there][3]
        if len(ring) >= 3:
            rings.append(ring)
    return rings


def ring_area(ring: Ring) -> float:
    """Absolute area in square degrees (for comparing two candidates only)."""
    xy = np.asarray(ring, dtype=np.float64)
    x, y = xy[:, 0], xy[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def contains(rings: Sequence[Ring], lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Even-odd point-in-polygon for many points at once (edges × points in blocks, each ring
    tested only on the points inside its bounding box)."""
    inside = np.zeros(lon.shape, dtype=bool)
    for ring in rings:
        xy = np.asarray(ring, dtype=np.float64)
        near = np.flatnonzero(
            (lon >= xy[:, 0].min())
            & (lon <= xy[:, 0].max())
            & (lat >= xy[:, 1].min())
            & (lat <= xy[:, 1].max())
        )
        if not len(near):
            continue
        px, py = lon[near][None, :], lat[near][None, :]
        ax, ay = xy[:, 0], xy[:, 1]
        bx, by = np.roll(ax, -1), np.roll(ay, -1)
        keep = ay != by
        ax, ay, bx, by = ax[keep], ay[keep], bx[keep], by[keep]
        flips = np.zeros(len(near), dtype=np.int64)
        block = max(1, 2_000_000 // len(near))
        for start in range(0, len(ax), block):
            a_x, a_y = ax[start : start + block, None], ay[start : start + block, None]
            b_x, b_y = bx[start : start + block, None], by[start : start + block, None]
            crosses = (a_y > py) != (b_y > py)
            x_at = a_x + (py - a_y) * (b_x - a_x) / (b_y - a_y)
            flips += (crosses & (px < x_at)).sum(axis=0)
        inside[near] ^= (flips % 2).astype(bool)
    return inside


def point_inside(rings: Sequence[Ring]) -> Point | None:
    """A point surely inside the area: the middle of the widest span across its middle latitude."""
    if not rings:
        return None
    lats = np.concatenate([np.asarray(r)[:, 1] for r in rings])
    lat = float((lats.min() + lats.max()) / 2) + 1e-9
    xs: list[float] = []
    for ring in rings:
        for (ax, ay), (bx, by) in zip(ring, ring[1:] + ring[:1], strict=True):
            if (ay > lat) != (by > lat):
                xs.append(ax + (lat - ay) * (bx - ax) / (by - ay))
    xs.sort()
    spans = [(xs[i + 1] - xs[i], (xs[i] + xs[i + 1]) / 2) for i in range(0, len(xs) - 1, 2)]
    return (max(spans)[1], lat) if spans else None


def assemble(
    relation: AdminRelation, box: Box, inside: Sequence[Point] = (), outside: Sequence[Point] = ()
) -> list[Ring]:
    """The relation's rings, cut rings closed along ``box``; ``inside`` and ``outside`` are points
    known to be in it or not (its label points are added to ``inside``)."""
    chains = chain(relation.runs)
    closed: list[Ring] = [[(lon, lat) for _, lon, lat in c] for c in chains if c[0][0] == c[-1][0]]
    cut = [c for c in chains if c[0][0] != c[-1][0]]
    if not cut:
        return closed
    candidates = [closed + _close(cut, box, shift) for shift in (0, 1)]
    ins = list(relation.label_points) + list(inside)

    def evidence(rings: list[Ring]) -> tuple[int, float]:
        score = 0
        for points, sign in ((ins, 1), (outside, -1)):
            if points:
                lon = np.array([p[0] for p in points])
                lat = np.array([p[1] for p in points])
                score += sign * int(contains(rings, lon, lat).sum())
        return score, -sum(ring_area(r) for r in rings)

    return max(candidates, key=evidence)


def assemble_all(relations: Sequence[AdminRelation], box: Box) -> list[AdminArea]:
    """Every relation's area, the deepest level first, so that a district is told its inside by
    its complete sub-areas (街道) as well as by its label, and its outside by its neighbours'."""
    areas: dict[int, AdminArea] = {}
    known: dict[int, list[Point]] = {r.osm_id: list(r.label_points) for r in relations}
    for relation in sorted(relations, key=lambda r: -r.level):
        own = [p for sub in relation.subareas for p in known.get(sub, [])]
        others = [
            p
            for r in relations
            if r.level == relation.level and r.osm_id != relation.osm_id
            for p in known.get(r.osm_id, []) + [q for s in r.subareas for q in known.get(s, [])]
        ]
        rings = assemble(relation, box, own, others)
        if rings:
            areas[relation.osm_id] = AdminArea(relation.osm_id, relation.name, relation.level, rings)
            if all(c[0][0] == c[-1][0] for c in chain(relation.runs)):
                middle = point_inside(rings)
                if middle is not None:
                    known[relation.osm_id] = [*known[relation.osm_id], middle]
    return [areas[r.osm_id] for r in relations if r.osm_id in areas]


__all__ = [
    "AdminArea",
    "AdminRelation",
    "Box",
    "Ring",
    "assemble",
    "assemble_all",
    "chain",
    "contains",
    "point_inside",
    "ring_area",
]
