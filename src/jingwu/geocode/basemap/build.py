"""From what the OSM file holds to the base map's layers: water and green areas, rivers, and the
labels (street names along their streets, rivers along their course, landmarks, communities and
quarters at a point), each with the zoom it shows from and its importance. Where labels collide
the client keeps the more important one, so importance orders the whole map: big water and main
roads first, then the landmarks a dispatcher steers by, then side streets and communities.
Pure: no I/O."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely.geometry import LineString, Polygon
from shapely.ops import polylabel

from jingwu.geocode.basemap.read import RawLabel, RawLine, RawMap
from jingwu.geocode.boundaries import Ring, chain

#: ~1.1 m of latitude, as the road layer: finer than a pixel at street zoom.
DECIMALS = 5
#: Outlines are simplified to this many metres (a pixel at zoom 16 is ~1.7 m here).
AREA_TOLERANCE_M = 2.5
LINE_TOLERANCE_M = 2.0
#: Areas smaller than these are not drawn: a fountain's basin, a lawn between two buildings.
MIN_WATER_M2 = 150.0
MIN_GREEN_M2 = 1_500.0
#: A street stretch shorter than this cannot carry its name even at the closest zoom.
MIN_STREET_M = 25.0
#: Two labels of one name and kind this close are one place (a node and its polygon).
SAME_PLACE_M = 300.0

_EARTH_M = 6_371_008.8

#: Street labels by road class: (zoom they show from, importance).
STREET_RULES: dict[str, tuple[int, float]] = {
    "motorway": (12, 70),
    "trunk": (12, 70),
    "primary": (13, 66),
    "secondary": (14, 60),
    "tertiary": (15, 52),
    "unclassified": (16, 40),
    "residential": (16, 40),
    "living_street": (16, 38),
    "pedestrian": (16, 40),
    "service": (17, 30),
}
#: Rivers along their course: (zoom, importance).
WATERWAY_RULES: dict[str, tuple[int, float]] = {
    "river": (11, 90),
    "canal": (13, 62),
    "stream": (14, 48),
    "drain": (15, 36),
    "ditch": (15, 34),
}
#: Point labels: (zoom from, zoom up to, importance) before their size is counted.
POINT_RULES: dict[str, tuple[int, int, float]] = {
    "quarter": (12, 15, 80),
    "water": (15, 20, 50),
    "hospital": (14, 20, 58),
    "police": (14, 20, 58),
    "station": (14, 20, 56),
    "government": (15, 20, 50),
    "fire": (15, 20, 50),
    "school": (15, 20, 44),
    "mall": (15, 20, 44),
    "park": (16, 20, 36),
    "village": (14, 20, 34),
    "community": (16, 20, 32),
}
#: An area this large shows its name from an earlier zoom: (area m², zoom) per kind, largest first.
SIZE_ZOOMS: dict[str, tuple[tuple[float, int], ...]] = {
    "water": ((1_000_000, 11), (100_000, 13), (10_000, 14)),
    "park": ((500_000, 12), (50_000, 14), (5_000, 15)),
    "community": ((200_000, 14), (20_000, 15)),
    "school": ((200_000, 13), (50_000, 14)),
    "hospital": ((50_000, 13),),
}


class Projection:
    """Local metres around the map's middle (equirectangular: good to ~0.1 % over a city)."""

    def __init__(self, lon0: float, lat0: float) -> None:
        self.lon0, self.lat0 = lon0, lat0
        self.kx = math.radians(1) * _EARTH_M * math.cos(math.radians(lat0))
        self.ky = math.radians(1) * _EARTH_M

    def to_xy(self, points: Sequence[tuple[float, float]] | np.ndarray) -> np.ndarray:
        ll = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        return np.column_stack(((ll[:, 0] - self.lon0) * self.kx, (ll[:, 1] - self.lat0) * self.ky))

    def to_lonlat(self, xy: np.ndarray) -> list[list[float]]:
        lon = np.round(xy[:, 0] / self.kx + self.lon0, DECIMALS)
        lat = np.round(xy[:, 1] / self.ky + self.lat0, DECIMALS)
        out = np.column_stack((lon, lat)).tolist()
        # Rounding may leave two equal vertices in a row; each costs bytes and draws nothing.
        return [p for i, p in enumerate(out) if i == 0 or p != out[i - 1]]


def build_map(raw: RawMap) -> dict[str, Any]:
    """The base map as one GeoJSON FeatureCollection (see ``service.basemap`` for its layers)."""
    projection = Projection((raw.box[0] + raw.box[2]) / 2, (raw.box[1] + raw.box[3]) / 2)
    features: list[dict[str, Any]] = []
    # Green under water: an island's park is a hole in the river, a pond lies in a park.
    for layer, kind in (("green", "grass"), ("green", "wood"), ("green", "park"), ("water", None)):
        members = [a for a in raw.areas if a.layer == layer and (kind is None or a.kind == kind)]
        polygons = _areas(
            [a.rings for a in members], projection, MIN_WATER_M2 if layer == "water" else MIN_GREEN_M2
        )
        if polygons:
            properties = {"layer": layer} | ({"kind": kind} if kind else {})
            features.append(_feature(properties, "MultiPolygon", polygons))
    for kind in WATERWAY_RULES:
        lines = [
            projection.to_lonlat(xy)
            for line in raw.waterways
            if line.kind == kind
            for xy in [_simplified_line(line, projection)]
            if len(xy) >= 2
        ]
        if lines:
            features.append(_feature({"layer": "waterway", "kind": kind}, "MultiLineString", lines))
    labels = [
        *_line_labels(raw.waterways, WATERWAY_RULES, projection, "waterway"),
        *_line_labels(raw.streets, STREET_RULES, projection, "street"),
        *_point_labels(raw.labels, projection),
    ]
    # Most important first: the order a client places them in.
    features.extend(sorted(labels, key=lambda f: -f["properties"]["p"]))
    return {"type": "FeatureCollection", "features": features}


def label_zoom(kind: str, area_m2: float) -> tuple[int, int, float]:
    """(zoom from, zoom up to, importance) of a point label of ``kind`` naming an area of
    ``area_m2`` (0 for a node): a bigger place shows earlier and wins more collisions."""
    start, end, importance = POINT_RULES[kind]
    for threshold, zoom in SIZE_ZOOMS.get(kind, ()):
        if area_m2 >= threshold:
            start = min(start, zoom)
            break
    return start, end, importance + (math.log10(area_m2) if area_m2 > 1 else 0.0)


def _feature(properties: dict[str, Any], kind: str, coordinates: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": {"type": kind, "coordinates": coordinates},
    }


def _shape(rings: Sequence[Ring], projection: Projection) -> shapely.Geometry:
    """Rings under the even-odd rule as one valid shape in metres."""
    shape: shapely.Geometry = Polygon()
    for ring in rings:
        if len(ring) < 4:
            continue
        part = shapely.make_valid(Polygon(projection.to_xy(ring)))
        shape = shapely.symmetric_difference(shape, part)
    return shape


def _polygons(shape: shapely.Geometry) -> Iterable[Polygon]:
    if isinstance(shape, Polygon):
        yield shape
    elif hasattr(shape, "geoms"):
        for part in shape.geoms:
            yield from _polygons(part)


def _areas(shapes: Sequence[Sequence[Ring]], projection: Projection, min_m2: float) -> list[Any]:
    out: list[Any] = []
    for rings in shapes:
        shape = _shape(rings, projection).simplify(AREA_TOLERANCE_M, preserve_topology=True)
        for polygon in _polygons(shape):
            if polygon.area < min_m2:
                continue
            parts = [polygon.exterior, *(r for r in polygon.interiors if Polygon(r).area >= min_m2)]
            coordinates = [projection.to_lonlat(np.asarray(r.coords)) for r in parts]
            if all(len(c) >= 4 for c in coordinates[:1]):
                out.append([c for c in coordinates if len(c) >= 4])
    return out


def _simplified_line(line: RawLine, projection: Projection) -> np.ndarray:
    xy = projection.to_xy([(lon, lat) for _, lon, lat in line.nodes])
    return np.asarray(LineString(xy).simplify(LINE_TOLERANCE_M).coords)


def _line_labels(
    lines: Sequence[RawLine], rules: dict[str, tuple[int, float]], projection: Projection, layer: str
) -> list[dict[str, Any]]:
    """One label path per stretch of a name: the runs of one name that share end nodes joined
    (the client places the name along it, as often as it fits)."""
    by_name: dict[tuple[str, str], list[RawLine]] = defaultdict(list)
    for line in lines:
        klass = line.kind.removesuffix("_link")
        if line.name and klass in rules:
            by_name[(line.name, klass)].append(line)
    out = []
    for (name, klass), members in by_name.items():
        zoom, importance = rules[klass]
        for joined in chain([m.nodes for m in members]):
            xy = projection.to_xy([(lon, lat) for _, lon, lat in joined])
            path = LineString(xy)
            if path.length < MIN_STREET_M:
                continue
            coords = projection.to_lonlat(np.asarray(path.simplify(LINE_TOLERANCE_M).coords))
            if len(coords) < 2:
                continue
            properties = {
                "layer": "label",
                "kind": layer,
                "class": klass,
                "name": name,
                "z": zoom,
                "p": round(importance + math.log10(path.length), 2),
            }
            out.append(_feature(properties, "LineString", coords))
    return out


def _point_labels(labels: Sequence[RawLabel], projection: Projection) -> list[dict[str, Any]]:
    candidates: list[tuple[str, str, float, float, float]] = []  # kind, name, x, y, area m²
    for label in labels:
        if label.kind not in POINT_RULES:
            continue
        x, y, area = _anchor(label, projection)
        candidates.append((label.kind, label.name, x, y, area))
    # A node and the polygon of one place (or two buildings of one school) give one label, at the
    # biggest one's point.
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, (kind, name, *_rest) in enumerate(candidates):
        groups[(kind, name)].append(i)
    out = []
    for members in groups.values():
        xy = np.array([[candidates[i][2], candidates[i][3]] for i in members])
        for group in _clusters(xy, SAME_PLACE_M):
            best = max((members[g] for g in group), key=lambda i: candidates[i][4])
            kind, name, x, y, area = candidates[best]
            start, end, importance = label_zoom(kind, area)
            properties = {"layer": "label", "kind": kind, "name": name, "z": start, "p": round(importance, 2)}
            if end < 20:
                properties["zx"] = end
            [point] = projection.to_lonlat(np.array([[x, y]]))
            out.append(_feature(properties, "Point", point))
    return out


def _anchor(label: RawLabel, projection: Projection) -> tuple[float, float, float]:
    """Where a label goes: a node's own point, or the point of an area farthest from its edges
    (inside even a C-shaped or ring-shaped area), and the area's size."""
    if not label.rings:
        [[x, y]] = projection.to_xy([(label.lon, label.lat)])
        return float(x), float(y), 0.0
    polygons = list(_polygons(_shape(label.rings, projection)))
    if not polygons:
        [[x, y]] = projection.to_xy([label.rings[0][0]])
        return float(x), float(y), 0.0
    largest = max(polygons, key=lambda p: p.area)
    tolerance = max(1.0, math.sqrt(largest.area) / 50)
    point = polylabel(largest, tolerance=tolerance)
    return float(point.x), float(point.y), float(sum(p.area for p in polygons))


def _clusters(points: np.ndarray, within_m: float) -> list[list[int]]:
    """Groups of point indices joined by nearness (single linkage)."""
    parent = list(range(len(points)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    if len(points) > 1:
        for a, b in cKDTree(points).query_pairs(within_m, output_type="ndarray").tolist():
            ra, rb = root(a), root(b)
            if ra != rb:
                parent[ra] = rb
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(points)):
        groups[root(i)].append(i)
    return list(groups.values())


__all__ = [
    "DECIMALS",
    "POINT_RULES",
    "STREET_RULES",
    "WATERWAY_RULES",
    "Projection",
    "build_map",
    "label_zoom",
]
