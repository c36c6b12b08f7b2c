"""Building footprints from an OSM file, for what a camera can see (capability 6).

Every closed way and multipolygon relation tagged ``building`` (not ``building=no``, not
``building=roof``: a canopy hides nothing at street level), outer rings only (a courtyard counts as
solid), read with pyosmium's area assembler. Kept as flat arrays of (lon, lat) vertices, cached
beside the road graph as ``<stem>.<sha256[:16]>.buildings.v<N>.npz`` (keyed by the file's content
and this format, as the graph and the address index are), and shared in the process.

In memory the footprints are shapely polygons in metres (an equirectangular projection about the
extract's centre, within 0.2 % over a city) under an STRtree, so that many sight lines are judged
in one vectorised query (:meth:`Buildings.blocks_many`) with the rules of
:mod:`jingwu.domain.camera_sight`: the camera's own building never blocks, a target blocks only
from deeper than ``TARGET_DEPTH_M`` inside.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from jingwu.domain.camera_sight import TARGET_DEPTH_M, WALL_TOLERANCE_M, LocalFrame, Obstacle
from jingwu.domain.geo import GeoPoint
from jingwu.geocode.npz_cache import read_arrays, write_arrays

#: Bump whenever what is read or the arrays change: old caches are then simply not found.
FORMAT_VERSION = 1

#: ``building=*`` values that are no obstacle to a camera at street level.
_NOT_OBSTACLES = frozenset({"no", "roof", "carport"})
#: A sight line ending exactly on a wall does not cross it: the line is shortened by this much.
_END_MARGIN_M = 0.25

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

_loaded: dict[str, Buildings] = {}  # by the file's SHA-256
_lock = threading.Lock()


class Buildings:
    """Footprints under a spatial index. Read-only once built: thread-safe.

    ``lon``/``lat`` hold every footprint's vertices one after the other (open rings: the first
    vertex is not repeated), footprint ``i`` being ``ptr[i]:ptr[i+1]``."""

    def __init__(self, lon: FloatArray, lat: FloatArray, ptr: NDArray[np.int64]) -> None:
        self.lon, self.lat, self.ptr = lon, lat, ptr
        self.count = len(ptr) - 1
        centre = GeoPoint(
            float((lat.min() + lat.max()) / 2) if len(lat) else 0.0,
            float((lon.min() + lon.max()) / 2) if len(lon) else 0.0,
        )
        self._frame = LocalFrame(centre)
        x, y = self._xy(lon, lat)
        ring_of = np.repeat(np.arange(self.count), np.diff(ptr))
        rings = shapely.linearrings(np.column_stack([x, y]), indices=ring_of)
        self._polygons = shapely.polygons(rings)
        self._tree = shapely.STRtree(self._polygons)

    @classmethod
    def from_rings(cls, rings: Sequence[Sequence[tuple[float, float]]]) -> Buildings:
        """Footprints given as (lon, lat) rings (tests, and callers with their own data)."""
        opened = [list(r[:-1]) if len(r) > 1 and r[0] == r[-1] else list(r) for r in rings]
        kept = [r for r in opened if len(r) >= 3]
        ptr = np.zeros(len(kept) + 1, np.int64)
        ptr[1:] = np.cumsum([len(r) for r in kept])
        flat = np.array([p for r in kept for p in r], np.float64).reshape(-1, 2)
        return cls(flat[:, 0].copy(), flat[:, 1].copy(), ptr)

    def _xy(self, lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
        f = self._frame
        return (lon - f.origin.lon) * f.kx, (lat - f.origin.lat) * f.ky

    def near(self, lat: float, lon: float, radius_m: float) -> list[Obstacle]:
        """The footprints within ``radius_m`` of the point, as rings in metres about it: the
        obstacles of ``jingwu.domain.camera_sight`` (pass ``buildings.near`` as its
        ``obstacles_for``)."""
        x, y = self._xy(np.array([lon]), np.array([lat]))
        found = self._tree.query(shapely.points(x[0], y[0]), predicate="dwithin", distance=radius_m)
        frame = LocalFrame(GeoPoint(lat, lon))
        out: list[Obstacle] = []
        for i in np.sort(found).tolist():
            a, b = int(self.ptr[i]), int(self.ptr[i + 1])
            xs = (self.lon[a:b] - lon) * frame.kx
            ys = (self.lat[a:b] - lat) * frame.ky
            out.append(tuple(zip(xs.tolist(), ys.tolist(), strict=True)))
        return out

    def inside(self, lat: float, lon: float) -> bool:
        x, y = self._xy(np.array([lon]), np.array([lat]))
        return bool(len(self._tree.query(shapely.points(x[0], y[0]), predicate="within")))

    def blocks(self, a: GeoPoint, b: GeoPoint) -> bool:
        """Whether a building stands between a camera at ``a`` and a target at ``b``."""
        one = self.blocks_many(np.array([a.lat]), np.array([a.lon]), np.array([b.lat]), np.array([b.lon]))
        return bool(one[0])

    def blocks_many(
        self, a_lat: FloatArray, a_lon: FloatArray, b_lat: FloatArray, b_lon: FloatArray
    ) -> BoolArray:
        """For each sight line from a camera at ``a`` to a target at ``b`` (degrees, arrays of one
        length), whether a building blocks it: one STRtree query for all of them."""
        ax, ay = self._xy(np.asarray(a_lon, np.float64), np.asarray(a_lat, np.float64))
        bx, by = self._xy(np.asarray(b_lon, np.float64), np.asarray(b_lat, np.float64))
        blocked = np.zeros(len(ax), np.bool_)
        if not len(ax) or not self.count:
            return blocked
        length = np.hypot(bx - ax, by - ay)
        with np.errstate(divide="ignore", invalid="ignore"):
            cut = np.where(length > 0, np.minimum(_END_MARGIN_M, length / 2) / length, 0.0)
        ex, ey = bx - (bx - ax) * cut, by - (by - ay) * cut  # stop short of a wall the target is on
        lines = shapely.linestrings(np.stack([np.column_stack([ax, ay]), np.column_stack([ex, ey])], axis=1))
        ray, hit = self._tree.query(lines, predicate="intersects")
        if not len(ray):
            return blocked
        polygons = self._polygons[hit]
        # The camera's own building (it hangs on a wall, its point falls a little inside) never blocks.
        own = shapely.dwithin(polygons, shapely.points(ax[ray], ay[ray]), WALL_TOLERANCE_M)
        keep = ~own
        # A building the target stands in blocks only from deep inside.
        holds = keep & shapely.contains_xy(polygons, bx[ray], by[ray])
        if holds.any():
            where = np.flatnonzero(holds)
            walls = shapely.get_exterior_ring(polygons[where])
            depth = shapely.distance(walls, shapely.points(bx[ray[where]], by[ray[where]]))
            keep[where[depth <= TARGET_DEPTH_M]] = False
        blocked[ray[keep]] = True
        return blocked


def load_buildings(osm_file: Path, cache_dir: Path | None = None) -> Buildings:
    """The footprints of ``osm_file``: from this process's memory, else from the cache in
    ``cache_dir`` (the road graph's), else read from the file (about a second for a city) and
    cached there. Without ``cache_dir`` nothing is written."""
    osm_file = Path(osm_file)
    digest = hashlib.sha256(osm_file.read_bytes()).hexdigest()
    with _lock:
        if digest in _loaded:
            return _loaded[digest]
        arrays = None
        cache_file = None
        if cache_dir is not None:
            cache_file = Path(cache_dir) / f"{osm_file.stem}.{digest[:16]}.buildings.v{FORMAT_VERSION}.npz"
            arrays = _read_cache(cache_file, digest)
        if arrays is None:
            arrays = read_footprints(osm_file)
            if cache_file is not None:
                _write_cache(cache_file, arrays, digest)
        buildings = Buildings(arrays["lon"], arrays["lat"], arrays["ptr"])
        _loaded[digest] = buildings
        return buildings


def read_footprints(osm_file: Path) -> dict[str, NDArray[Any]]:
    """``lon``, ``lat`` (every outer ring's vertices, open) and ``ptr`` (where each ring starts)."""
    import osmium  # only to build: a cached load never needs it

    lon: list[float] = []
    lat: list[float] = []
    ptr = [0]
    keys = osmium.filter.KeyFilter("building")
    processor = osmium.FileProcessor(str(osm_file)).with_locations().with_areas(keys).with_filter(keys)
    for obj in processor:
        if not isinstance(obj, osmium.osm.Area) or obj.tags.get("building", "no") in _NOT_OBSTACLES:
            continue
        for outer in obj.outer_rings():
            ring = [(n.lon, n.lat) for n in outer]
            if len(ring) > 1 and ring[0] == ring[-1]:
                ring.pop()
            if len(ring) < 3:
                continue
            for x, y in ring:
                lon.append(x)
                lat.append(y)
            ptr.append(len(lon))
    return {
        "lon": np.array(lon, np.float64),
        "lat": np.array(lat, np.float64),
        "ptr": np.array(ptr, np.int64),
    }


def _read_cache(path: Path, digest: str) -> dict[str, NDArray[Any]] | None:
    arrays = read_arrays(path, digest, FORMAT_VERSION)
    if arrays is None or any(name not in arrays for name in ("lon", "lat", "ptr")):
        return None
    return {name: arrays[name] for name in ("lon", "lat", "ptr")}


def _write_cache(path: Path, arrays: dict[str, NDArray[Any]], digest: str) -> None:
    write_arrays(path, arrays, digest, FORMAT_VERSION)


__all__ = ["FORMAT_VERSION", "Buildings", "load_buildings", "read_footprints"]
