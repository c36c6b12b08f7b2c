"""RoadNetwork: the loaded graph with snapping, nearest-by-time search and routes; and its disk cache."""

from __future__ import annotations

import copy
import hashlib
import math
import os
import tempfile
from collections.abc import Callable, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from jingwu.domain.geo import haversine_deg_m
from jingwu.errors import OffRoadError, ValidationFailed
from jingwu.routing.geo import LocalProjection
from jingwu.routing.model import Reach, RoadPoint, Route
from jingwu.routing.osm_import import CompiledGraph, compile_graph
from jingwu.routing.placement import Placer
from jingwu.routing.profiles import SpeedProfile
from jingwu.routing.search import ReverseSearch, Speeds
from jingwu.routing.snap import SegmentIndex, Snap
from jingwu.routing.speeds import ROAD_CLASSES

#: A first search limit for a single route, per metre as the crow flies: about the 80th percentile
#: of road time over straight-line distance for random pairs in Harbin (the river and one-way
#: streets make the tail long), so most single routes need one bounded search, not a full one.
ROUTE_SECONDS_PER_CROW_METRE = 0.15

#: Bump whenever the import rules (classes, speeds, one-way, component filter) or the array layout
#: change: the cache key includes it, so old caches are simply not found.
FORMAT_VERSION = 3

Progress = Callable[[str, float], None]

#: Classes of the drawn base map, most important first. A ``*_link`` ramp draws as its road; every
#: street below tertiary (residential, service, unclassified …) draws as "minor".
MAP_CLASSES: tuple[str, ...] = ("motorway", "trunk", "primary", "secondary", "tertiary", "minor")


def map_class(highway: str) -> str:
    """The base-map class of an OSM ``highway`` class (one of ``ROAD_CLASSES``)."""
    main = highway.removesuffix("_link")
    return main if main in MAP_CLASSES else "minor"


def load_network(
    pbf_path: Path, cache_dir: Path | None = None, progress: Progress | None = None
) -> RoadNetwork:
    """Load a drivable road network from an OSM PBF.

    With ``cache_dir`` the compiled arrays are kept there as ``<stem>.<sha256[:16]>.v<N>.npz`` and
    reused while the PBF's content and the format version match; without it nothing is written.
    ``progress(stage, fraction)`` is called with stages "reading OSM", "building graph" (cold
    import only) and "indexing", fraction 0..1 within the stage.
    """
    pbf_path = Path(pbf_path)
    cache_file = None
    graph = None
    if cache_dir is not None:
        digest = hashlib.sha256(pbf_path.read_bytes()).hexdigest()
        cache_file = Path(cache_dir) / f"{pbf_path.stem}.{digest[:16]}.v{FORMAT_VERSION}.npz"
        graph = _read_cache(cache_file, digest)
        if graph is None:
            graph = compile_graph(pbf_path, progress)
            _write_cache(cache_file, graph, digest)
    else:
        graph = compile_graph(pbf_path, progress)
    return RoadNetwork(graph, progress)


def _read_cache(path: Path, digest: str) -> CompiledGraph | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        if str(arrays.pop("pbf_sha256")) != digest or int(arrays.pop("format_version")) != FORMAT_VERSION:
            return None
        return CompiledGraph.from_arrays(arrays)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a truncated or foreign file: rebuild (and overwrite) rather than fail


def _write_cache(path: Path, graph: CompiledGraph, digest: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write to a temporary file and rename, so a concurrent reader never sees half a file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        arrays: dict[str, Any] = {
            **graph.to_arrays(),
            "pbf_sha256": np.str_(digest),
            "format_version": np.int64(FORMAT_VERSION),
        }
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class RoadNetwork:
    """A drivable road graph (largest strongly connected component of the extract).

    Thread-safe: snapping and road-point sampling are read-only; searches serialise on a lock
    because they rewrite the virtual target node (see ``search.py``).
    """

    def __init__(self, graph: CompiledGraph, progress: Progress | None = None) -> None:
        report = progress or (lambda _stage, _fraction: None)
        report("indexing", 0.0)
        self._g = graph
        self.bbox: tuple[float, float, float, float] = (
            float(graph.pts_lon.min()),
            float(graph.pts_lat.min()),
            float(graph.pts_lon.max()),
            float(graph.pts_lat.max()),
        )
        self.node_count = graph.node_count
        self.edge_count = graph.edge_count
        self._projection = LocalProjection(
            (self.bbox[0] + self.bbox[2]) / 2, (self.bbox[1] + self.bbox[3]) / 2
        )
        self._index = SegmentIndex(graph, self._projection)
        self._placer = Placer(graph, self._projection, self._index)
        report("indexing", 0.5)
        self._search = ReverseSearch(graph)
        self._names: list[str] = graph.names.tolist()
        self._profile: SpeedProfile | None = None
        self._local_hour: Callable[[], int] | None = None
        self.restrictions: tuple[int, ...] = tuple(graph.restrictions.tolist())
        report("indexing", 1.0)

    # ------------------------------------------------------------------ points

    def snap(
        self,
        lat: float,
        lon: float,
        max_distance_m: float = 250.0,
        heading: float | None = None,
        speed: float | None = None,
    ) -> RoadPoint:
        """Where a point stands on the roads (``placement.py``): the nearest drivable road at
        street level, with the others within a few metres as ``others``, and for a unit moving
        with a ``heading`` (degrees from north; ``speed`` m/s) the roads running its way only.
        OffRoadError beyond ``max_distance_m`` of every road."""
        valid = math.isfinite(lat) and math.isfinite(lon) and -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0
        if not valid:
            raise ValidationFailed(
                f"not a coordinate: ({lat}, {lon})", code="bad_coordinate", lat=lat, lon=lon
            )
        motions = None if heading is None else [(heading, speed)]
        (point,), foot_lon, foot_lat = self._placer.place(
            np.array([lon]), np.array([lat]), max_distance_m, motions
        )
        if point is None:
            # Far from the city the local projection overstates distance; report the true one.
            true_m = haversine_deg_m(lat, lon, float(foot_lat[0]), float(foot_lon[0]))
            raise OffRoadError(lat, lon, max(true_m, max_distance_m + 1e-6), max_distance_m)
        return point

    def snap_many(
        self,
        points: Sequence[tuple[float, float]],
        max_distance_m: float = 250.0,
        motions: Sequence[tuple[float | None, float | None]] | None = None,
    ) -> list[RoadPoint | None]:
        """``snap`` for many (lat, lon) points at once, with the same answers; ``motions`` gives
        each point's (heading, speed) when known. None where a point is not a coordinate or lies
        beyond ``max_distance_m`` of every road (the batch never fails for one of them)."""
        lat = np.array([p[0] for p in points], np.float64).reshape(-1)
        lon = np.array([p[1] for p in points], np.float64).reshape(-1)
        valid = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90.0) & (np.abs(lon) <= 180.0)
        where = np.flatnonzero(valid)
        found: list[RoadPoint | None] = [None] * len(points)
        if not len(where):
            return found
        moving = None if motions is None else [motions[i] for i in where.tolist()]
        placed, _, _ = self._placer.place(lon[where], lat[where], max_distance_m, moving)
        for i, point in zip(where.tolist(), placed, strict=True):
            found[i] = point
        return found

    def random_road_point(self, rng: np.random.Generator) -> RoadPoint:
        """A point drawn uniformly over the length of drivable road (for the simulator)."""
        segment, t = self._index.sample_uniform(float(rng.random()))
        x0, y0 = self._index.pts_x[segment], self._index.pts_y[segment]
        x1, y1 = self._index.pts_x[segment + 1], self._index.pts_y[segment + 1]
        x, y = float(x0 + (x1 - x0) * t), float(y0 + (y1 - y0) * t)
        return self._road_point(Snap(segment, t, 0.0, x, y))

    def _road_point(self, hit: Snap) -> RoadPoint:
        g = self._g
        piece = int(self._placer.point_piece[hit.segment])
        length = float(g.pts_cum[int(g.piece_ptr[piece + 1]) - 1])
        along = float(g.pts_cum[hit.segment] + (g.pts_cum[hit.segment + 1] - g.pts_cum[hit.segment]) * hit.t)
        frac = min(max(along / length, 0.0), 1.0) if length > 0 else 0.0
        # Name the forward edge when the piece has one; on a two-way street the search also knows
        # the twin (fraction 1 - f), so the point can be left or reached in both directions.
        edge = int(g.piece_fwd[piece])
        if edge < 0:
            edge, frac = int(g.piece_bwd[piece]), 1.0 - frac
        lon, lat = self._projection.point_to_lonlat(hit.x, hit.y)
        name_id = int(g.piece_name[piece])
        return RoadPoint(
            lat=lat,
            lon=lon,
            edge=edge,
            fraction=frac,
            offset_m=hit.distance_m,
            road_name=self._names[name_id] if name_id >= 0 else None,
        )

    # ------------------------------------------------------------------ search

    def with_speed_profile(self, profile: SpeedProfile, local_hour: Callable[[], int]) -> RoadNetwork:
        """This network driving at ``profile``'s speeds for the hour ``local_hour()`` says (the
        caller's clock, in the city's time zone). A view: the graph, its index and its search are
        shared, and this network itself is unchanged."""
        view = copy.copy(self)
        view._profile = profile
        view._local_hour = local_hour
        return view

    @property
    def speed_profile(self) -> SpeedProfile | None:
        return self._profile

    def _speeds(self, hour: int | None) -> Speeds:
        if self._profile is None:
            return None
        if hour is None:
            assert self._local_hour is not None
            hour = self._local_hour()
        return (self._profile, hour)

    def nearest_by_time(
        self,
        target: RoadPoint,
        sources: Sequence[RoadPoint],
        k: int,
        with_routes: bool = True,
        allowed: NDArray[np.bool_] | None = None,
        hour: int | None = None,
    ) -> list[Reach]:
        """The k sources with the shortest road travel time *to* ``target``, best first (exact),
        turns, their costs and the turn restrictions included (``turns.py``).

        Ties are broken by the lower source index. Sources that cannot reach the target are left
        out. Pass the same roster object between queries where possible: its per-source arrays
        are cached (see ``search.py``), and filter it per query with ``allowed`` (one flag per
        source) rather than building a new one. With a speed profile, ``hour`` (0-23, local)
        overrides the network's clock.
        """
        return self._search.nearest(
            target, sources, k, with_routes, bounded=True, allowed=allowed, speeds=self._speeds(hour)
        )

    def baseline_nearest_by_time(
        self,
        target: RoadPoint,
        sources: Sequence[RoadPoint],
        k: int,
        with_routes: bool = True,
        allowed: NDArray[np.bool_] | None = None,
        hour: int | None = None,
    ) -> list[Reach]:
        """Same answer as :meth:`nearest_by_time` from one unbounded one-to-all Dijkstra per query:
        the reference for tests and benchmarks."""
        return self._search.nearest(
            target, sources, k, with_routes, bounded=False, allowed=allowed, speeds=self._speeds(hour)
        )

    def route(self, source: RoadPoint, target: RoadPoint, hour: int | None = None) -> Route | None:
        """Fastest route from ``source`` to ``target``; None when there is none."""
        crow_m = haversine_deg_m(source.lat, source.lon, target.lat, target.lon)
        found = self._search.nearest(
            target,
            (source,),
            1,
            with_routes=True,
            bounded=True,
            first_limit=crow_m * ROUTE_SECONDS_PER_CROW_METRE,
            speeds=self._speeds(hour),
        )
        return found[0].route if found else None

    # ------------------------------------------------------------------ drawing

    def road_geojson(self) -> dict[str, Any]:
        """Every road piece as a LineString with its class and name, coordinates rounded to ~1 m
        (6 decimals) — for drawing a base map, not for routing."""
        g = self._g
        lon = np.round(g.pts_lon, 6).tolist()
        lat = np.round(g.pts_lat, 6).tolist()
        ptr = g.piece_ptr.tolist()
        features = []
        classes, names = g.piece_class.tolist(), g.piece_name.tolist()
        for piece, (klass, name_id) in enumerate(zip(classes, names, strict=True)):
            a, b = ptr[piece], ptr[piece + 1]
            line = [[x, y] for x, y in zip(lon[a:b], lat[a:b], strict=True)]
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": line},
                    "properties": {
                        "class": ROAD_CLASSES[klass],
                        "name": self._names[name_id] if name_id >= 0 else None,
                    },
                }
            )
        return {"type": "FeatureCollection", "features": features}

    def road_lines_by_class(self, decimals: int = 5) -> dict[str, list[list[list[float]]]]:
        """The drivable roads as a few long polylines per base-map class (see ``MAP_CLASSES``):
        [lon, lat] rounded to ``decimals``, for drawing only.

        Pieces of the same class that meet at a graph node are chained into one line (greedily,
        starting from chain ends), so a city of ~20k pieces draws as a few thousand lines and the
        shared junction coordinates are written once, which is what keeps the payload small.
        """
        g = self._g
        group_of = np.array([MAP_CLASSES.index(map_class(c)) for c in ROAD_CLASSES], dtype=np.int64)
        piece_group = group_of[g.piece_class].tolist()
        lon = np.round(g.pts_lon, decimals).tolist()
        lat = np.round(g.pts_lat, decimals).tolist()
        ptr = g.piece_ptr.tolist()
        piece_u, piece_v = g.piece_u.tolist(), g.piece_v.tolist()
        by_group: list[list[int]] = [[] for _ in MAP_CLASSES]
        for piece, group in enumerate(piece_group):
            by_group[group].append(piece)

        def points(piece: int, from_node: int) -> list[list[float]]:
            a, b = ptr[piece], ptr[piece + 1]
            line = [[x, y] for x, y in zip(lon[a:b], lat[a:b], strict=True)]
            return line if piece_u[piece] == from_node else line[::-1]

        out: dict[str, list[list[list[float]]]] = {}
        for group, pieces in enumerate(by_group):
            at_node: dict[int, list[int]] = {}
            for piece in pieces:
                at_node.setdefault(piece_u[piece], []).append(piece)
                at_node.setdefault(piece_v[piece], []).append(piece)
            # Chains started at an odd-degree node (a dead end, a T) cover the class in fewer lines.
            odd = {node for node, touching in at_node.items() if len(touching) % 2}
            starts = sorted(pieces, key=lambda p: piece_u[p] not in odd and piece_v[p] not in odd)
            used: set[int] = set()
            lines: list[list[list[float]]] = []
            for first in starts:
                if first in used:
                    continue
                used.add(first)
                ends = []
                for end in (piece_v[first], piece_u[first]):
                    tail: list[list[float]] = []
                    while True:
                        following = next((p for p in at_node[end] if p not in used), None)
                        if following is None:
                            break
                        used.add(following)
                        tail.extend(points(following, end)[1:])
                        end = piece_v[following] if piece_u[following] == end else piece_u[following]
                    ends.append(tail)
                forward, backward = ends
                line = backward[::-1] + points(first, piece_u[first]) + forward
                # Rounding can make neighbouring vertices equal; a repeated vertex only adds bytes.
                merged = [line[0]] + [q for p, q in pairwise(line) if q != p]
                if len(merged) >= 2:
                    lines.append(merged)
            out[MAP_CLASSES[group]] = lines
        return out
