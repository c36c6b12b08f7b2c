"""WGS-84 points and the few geometric facts the domain needs (no projections, no I/O)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from jingwu.errors import ValidationFailed

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, slots=True)
class GeoPoint:
    """A WGS-84 coordinate. Construction refuses anything outside the valid ranges."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (isinstance(self.lat, int | float) and math.isfinite(self.lat) and -90.0 <= self.lat <= 90.0):
            raise ValidationFailed(
                f"latitude {self.lat!r} is outside -90..90", code="invalid_latitude", lat=self.lat
            )
        if not (
            isinstance(self.lon, int | float) and math.isfinite(self.lon) and -180.0 <= self.lon <= 180.0
        ):
            raise ValidationFailed(
                f"longitude {self.lon!r} is outside -180..180", code="invalid_longitude", lon=self.lon
            )


def haversine_m(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance in metres — for display beside road distance, never for ranking."""
    return haversine_deg_m(a.lat, a.lon, b.lat, b.lon)


def haversine_deg_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """``haversine_m`` on bare degrees, for coordinates already checked (the GPS filter judges
    thousands of fixes a second and need not wrap each in a GeoPoint)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def haversine_deg_m_many(
    lat1: NDArray[np.float64], lon1: NDArray[np.float64], lat2: NDArray[np.float64], lon2: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``haversine_deg_m`` element by element over arrays (the GPS filter's batch check): the
    same formula, equal to it but for the last digits of floating point."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h))), dtype=np.float64)


def point_in_polygon(point: GeoPoint, ring: tuple[tuple[float, float], ...]) -> bool:
    """Even-odd rule on a (lon, lat) ring; adequate for station jurisdictions a few km across."""
    x, y = point.lon, point.lat
    inside = False
    n = len(ring)
    for i in range(n):
        x1, y1 = ring[i]
        x2, y2 = ring[(i + 1) % n]
        if (y1 > y) != (y2 > y):
            x_cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if x < x_cross:
                inside = not inside
    return inside


__all__ = ["GeoPoint", "haversine_deg_m", "haversine_m", "point_in_polygon"]
