"""Small geodesy helpers: a local equirectangular projection, lengths, bearings.

A city extract spans ~20 km, where an equirectangular projection about its centre is within 0.2 % of
the true distance; it turns snapping into plain 2-D geometry in metres, and it is affine in
(lon, lat), so a point's position *along* a straight segment is the same in both spaces.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from jingwu.domain.geo import EARTH_RADIUS_M

_DEG = math.pi / 180.0

FloatArray = NDArray[np.float64]


class LocalProjection:
    """Equirectangular projection in metres about (lon0, lat0)."""

    __slots__ = ("kx", "ky", "lat0", "lon0")

    def __init__(self, lon0: float, lat0: float) -> None:
        self.lon0 = lon0
        self.lat0 = lat0
        self.kx = EARTH_RADIUS_M * _DEG * math.cos(lat0 * _DEG)
        self.ky = EARTH_RADIUS_M * _DEG

    def to_xy(self, lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
        return (lon - self.lon0) * self.kx, (lat - self.lat0) * self.ky

    def to_lonlat(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        return x / self.kx + self.lon0, y / self.ky + self.lat0

    def point_to_xy(self, lon: float, lat: float) -> tuple[float, float]:
        return (lon - self.lon0) * self.kx, (lat - self.lat0) * self.ky

    def point_to_lonlat(self, x: float, y: float) -> tuple[float, float]:
        return x / self.kx + self.lon0, y / self.ky + self.lat0


def segment_lengths_m(lon: FloatArray, lat: FloatArray) -> FloatArray:
    """Length of each segment of a polyline (n points → n-1 lengths), equirectangular at each
    segment's own mid-latitude, which is exact to millimetres for street-sized segments."""
    mid_lat = (lat[1:] + lat[:-1]) * (0.5 * _DEG)
    dx = np.diff(lon) * (_DEG * EARTH_RADIUS_M) * np.cos(mid_lat)
    dy = np.diff(lat) * (_DEG * EARTH_RADIUS_M)
    return np.hypot(dx, dy)


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Compass heading from point 1 to point 2: 0 = north, 90 = east, in [0, 360)."""
    dx = (lon2 - lon1) * math.cos((lat1 + lat2) * 0.5 * _DEG)
    dy = lat2 - lat1
    return math.degrees(math.atan2(dx, dy)) % 360.0
