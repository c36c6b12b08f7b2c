"""Areas on the map: a station's jurisdiction as one or more polygons (with holes), read from and
written as GeoJSON, checked before it is stored. Real boundaries (OSM's districts and 街道) are
multipolygons with islands and enclaves, so a single ring is the special case, not the rule."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.validation import explain_validity

from jingwu.domain.geo import GeoPoint, point_in_polygon
from jingwu.errors import ValidationFailed

Ring = tuple[tuple[float, float], ...]  # (lon, lat) points; closed or not
PolygonRings = tuple[Ring, ...]  # the outer ring first, then its holes

#: More vertices than any real jurisdiction needs (Harbin's largest district has ~3,000): a bound
#: on what one request may make the server check.
MAX_VERTICES = 50_000

#: Two stations' jurisdictions may share their border; an overlap below this (in square degrees,
#: about 10 m²) is the noise of two drawings of one line, not two stations claiming one street.
OVERLAP_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class Area:
    """One or more polygons, each an outer (lon, lat) ring and its holes."""

    polygons: tuple[PolygonRings, ...]

    @classmethod
    def ring(cls, *points: tuple[float, float]) -> Area:
        """The simplest area: one ring of (lon, lat) points, no holes, closed here if it is not."""
        ring = tuple((float(x), float(y)) for x, y in points)
        if ring and ring[0] != ring[-1]:
            ring = (*ring, ring[0])
        return cls(((ring,),))

    def contains(self, point: GeoPoint) -> bool:
        for rings in self.polygons:
            if point_in_polygon(point, rings[0]) and not any(point_in_polygon(point, h) for h in rings[1:]):
                return True
        return False

    def to_geojson(self) -> dict[str, Any]:
        return {
            "type": "MultiPolygon",
            "coordinates": [[[list(p) for p in ring] for ring in rings] for rings in self.polygons],
        }

    def shape(self) -> MultiPolygon:
        return MultiPolygon([Polygon(rings[0], rings[1:]) for rings in self.polygons])

    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north)."""
        xs = [x for rings in self.polygons for x, _ in rings[0]]
        ys = [y for rings in self.polygons for _, y in rings[0]]
        return min(xs), min(ys), max(xs), max(ys)


def _bad(message: str, **details: Any) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_jurisdiction", **details)


def _ring(value: Any, where: str) -> Ring:
    if not isinstance(value, list | tuple) or len(value) < 4:
        raise _bad(f"{where}: a ring needs at least 4 positions (3 corners and the first again)")
    points: list[tuple[float, float]] = []
    for i, position in enumerate(value):
        if (
            not isinstance(position, list | tuple)
            or len(position) < 2
            or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in position[:2])
        ):
            raise _bad(f"{where}, position {i}: expected [longitude, latitude]")
        lon, lat = float(position[0]), float(position[1])
        if not (math.isfinite(lon) and -180 <= lon <= 180 and math.isfinite(lat) and -90 <= lat <= 90):
            raise _bad(f"{where}, position {i}: [{lon}, {lat}] is not a longitude and latitude")
        points.append((lon, lat))
    if points[0] != points[-1]:
        raise _bad(f"{where}: the ring is not closed (its last position must repeat its first)")
    return tuple(points)


def area_from_geojson(geometry: Any) -> Area:
    """A GeoJSON Polygon or MultiPolygon geometry (or a Feature holding one), checked: closed rings,
    coordinates in range, no self-intersection, an area of more than nothing."""
    if isinstance(geometry, Mapping) and geometry.get("type") == "Feature":
        geometry = geometry.get("geometry")
    if not isinstance(geometry, Mapping):
        raise _bad("the jurisdiction must be a GeoJSON Polygon or MultiPolygon")
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        parts = [coordinates]
    elif kind == "MultiPolygon" and isinstance(coordinates, list | tuple):
        parts = list(coordinates)
    else:
        raise _bad(f"the jurisdiction must be a GeoJSON Polygon or MultiPolygon, not {kind!r}")
    if not parts:
        raise _bad("the jurisdiction has no polygon")
    polygons: list[PolygonRings] = []
    for p, rings in enumerate(parts):
        if not isinstance(rings, list | tuple) or not rings:
            raise _bad(f"polygon {p}: expected a list of rings (the outer ring first)")
        polygons.append(tuple(_ring(r, f"polygon {p}, ring {i}") for i, r in enumerate(rings)))
    vertices = sum(len(r) for rings in polygons for r in rings)
    if vertices > MAX_VERTICES:
        raise _bad(f"the jurisdiction has {vertices} vertices; at most {MAX_VERTICES}")
    area = Area(tuple(polygons))
    check_area(area)
    return area


def check_area(area: Area) -> None:
    """Refuse a geometry that would make "which station is this?" ambiguous or empty."""
    geometry = area.shape()
    if not geometry.is_valid:
        raise _bad(f"the jurisdiction is not a valid polygon: {explain_validity(geometry)}")
    if geometry.area <= 0:
        raise _bad("the jurisdiction encloses no area")


def overlapping(area: Area, others: Mapping[str, Area]) -> list[str]:
    """The keys of ``others`` whose areas overlap this one by more than a shared border."""
    mine = area.shape()
    shapely.prepare(mine)
    return [
        key
        for key, other in others.items()
        if mine.intersects(theirs := other.shape()) and mine.intersection(theirs).area > OVERLAP_TOLERANCE
    ]


def area_from_even_odd_rings(rings: Sequence[Sequence[tuple[float, float]]]) -> Area:
    """Rings under the even-odd rule (a ring inside another is a hole, one inside that an island),
    as OSM's boundary relations give them once their ways are joined."""
    geometry = None
    for ring in rings:
        polygon = Polygon(ring)
        geometry = polygon if geometry is None else geometry.symmetric_difference(polygon)
    if geometry is None or geometry.is_empty:
        raise _bad("no rings")
    parts = geometry.geoms if hasattr(geometry, "geoms") else [geometry]
    return Area(
        tuple(
            (
                tuple((float(x), float(y)) for x, y, *_ in p.exterior.coords),
                *(tuple((float(x), float(y)) for x, y, *_ in h.coords) for h in p.interiors),
            )
            for p in parts
            if isinstance(p, Polygon) and p.area > 0
        )
    )


def area_from_stored(value: Any) -> Area:
    """What the store holds: a GeoJSON MultiPolygon, checked when it was written."""
    return Area(
        tuple(
            tuple(tuple((float(x), float(y)) for x, y, *_ in ring) for ring in rings)
            for rings in value["coordinates"]
        )
    )


__all__ = [
    "MAX_VERTICES",
    "OVERLAP_TOLERANCE",
    "Area",
    "PolygonRings",
    "Ring",
    "area_from_even_odd_rings",
    "area_from_geojson",
    "area_from_stored",
    "check_area",
    "overlapping",
]
