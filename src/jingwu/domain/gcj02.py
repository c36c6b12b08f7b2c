"""GCJ-02 ("Mars coordinates", 火星坐标) ⇄ WGS-84, for the API edge only.

Maps and phone SDKs licensed in China (AMap/Gaode, Tencent, Google's China tiles) give positions in
GCJ-02: WGS-84 shifted by a deliberate, non-linear offset of a few hundred metres. Jingwu stores,
routes and measures only in WGS-84 (:class:`jingwu.domain.geo.GeoPoint`). A client holding GCJ-02
says so, and the API converts once on the way in; nothing inside ever sees GCJ-02.

The forward transform is the widely reproduced public formula (Krasovsky 1940 ellipsoid
constants); it is the de-facto reference every open implementation agrees with to ~1e-9 degrees.
The inverse has no closed form: it is found by fixed-point iteration, to well under a centimetre.

Outside China the offset is not applied (GCJ-02 equals WGS-84 there). "China" is the usual
rectangle of the open implementations (lon 72.004–137.8347, lat 0.8293–55.8271); near the borders
it also covers parts of neighbouring countries, which is harmless for a city police bureau.
"""

from __future__ import annotations

import math

from jingwu.domain.geo import GeoPoint

_A = 6_378_245.0  # Krasovsky 1940 semi-major axis, metres
_EE = 0.006_693_421_622_965_943_23  # its first eccentricity squared

_MIN_LON, _MAX_LON = 72.004, 137.8347
_MIN_LAT, _MAX_LAT = 0.8293, 55.8271

#: Stop iterating once a step moves the estimate by less than this many degrees (~1 mm).
_INVERSE_TOLERANCE_DEG = 1e-8
_INVERSE_MAX_ITERATIONS = 30


def in_china(lat: float, lon: float) -> bool:
    """Whether the GCJ-02 offset applies at this point (the rectangle described above)."""
    return _MIN_LON <= lon <= _MAX_LON and _MIN_LAT <= lat <= _MAX_LAT


def _offset(lat: float, lon: float) -> tuple[float, float]:
    """The GCJ-02 offset (Δlat, Δlon) in degrees at a WGS-84 point inside China."""
    x, y = lon - 105.0, lat - 35.0
    pi = math.pi
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    common = (20.0 * math.sin(6.0 * x * pi) + 20.0 * math.sin(2.0 * x * pi)) * 2.0 / 3.0
    d_lat += common
    d_lon += common
    d_lat += (20.0 * math.sin(y * pi) + 40.0 * math.sin(y / 3.0 * pi)) * 2.0 / 3.0
    d_lon += (20.0 * math.sin(x * pi) + 40.0 * math.sin(x / 3.0 * pi)) * 2.0 / 3.0
    d_lat += (160.0 * math.sin(y / 12.0 * pi) + 320.0 * math.sin(y * pi / 30.0)) * 2.0 / 3.0
    d_lon += (150.0 * math.sin(x / 12.0 * pi) + 300.0 * math.sin(x / 30.0 * pi)) * 2.0 / 3.0

    rad_lat = math.radians(lat)
    magic = 1.0 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * pi)
    return d_lat, d_lon


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """WGS-84 (lat, lon) → GCJ-02 (lat, lon); unchanged outside China."""
    if not in_china(lat, lon):
        return lat, lon
    d_lat, d_lon = _offset(lat, lon)
    return lat + d_lat, lon + d_lon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """GCJ-02 (lat, lon) → WGS-84 (lat, lon), the inverse of :func:`wgs84_to_gcj02` to < 1 cm.

    Fixed-point iteration: guess w, move it by the difference between forward(w) and the target.
    The offset changes slowly (its derivative is far below 1), so this converges in a handful of
    steps. Unchanged outside China.
    """
    if not in_china(lat, lon):
        return lat, lon
    w_lat, w_lon = lat, lon
    for _ in range(_INVERSE_MAX_ITERATIONS):
        g_lat, g_lon = wgs84_to_gcj02(w_lat, w_lon)
        step_lat, step_lon = lat - g_lat, lon - g_lon
        w_lat, w_lon = w_lat + step_lat, w_lon + step_lon
        if abs(step_lat) < _INVERSE_TOLERANCE_DEG and abs(step_lon) < _INVERSE_TOLERANCE_DEG:
            break
    return w_lat, w_lon


def gcj02_point_to_wgs84(lat: float, lon: float) -> GeoPoint:
    """A GCJ-02 position as the WGS-84 :class:`GeoPoint` Jingwu stores (range-checked)."""
    GeoPoint(lat, lon)  # refuse out-of-range input with the usual codes before converting it
    w_lat, w_lon = gcj02_to_wgs84(lat, lon)
    return GeoPoint(w_lat, w_lon)


__all__ = ["gcj02_point_to_wgs84", "gcj02_to_wgs84", "in_china", "wgs84_to_gcj02"]
