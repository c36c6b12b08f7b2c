"""The local projection: exact round trips and true distances, so grid cells are real metres."""

from __future__ import annotations

import math

import numpy as np

from jingwu.analytics.hotspots import Projection
from tests.analytics.hotspots.synthetic import LAT0, LON0, R


def _haversine_m(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * R * np.arcsin(np.sqrt(h))


def _within_30_km(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    bearing = rng.uniform(0, 2 * math.pi, n)
    distance = 30_000.0 * np.sqrt(rng.uniform(0, 1, n))
    lat = LAT0 + np.degrees(distance * np.cos(bearing) / R)
    lon = LON0 + np.degrees(distance * np.sin(bearing) / (R * math.cos(math.radians(LAT0))))
    return lon, lat


def test_a_round_trip_through_the_projection_moves_a_point_less_than_a_centimetre() -> None:
    lon, lat = _within_30_km(np.random.default_rng(1), 5_000)
    projection = Projection(LON0, LAT0)
    back_lon, back_lat = projection.inverse(*projection.forward(lon, lat))
    assert np.max(_haversine_m(lon, lat, back_lon, back_lat)) < 0.01


def test_projected_distances_are_within_half_a_percent_of_great_circle_distances() -> None:
    rng = np.random.default_rng(2)
    lon, lat = _within_30_km(rng, 4_000)
    projection = Projection.about(lon, lat)
    x, y = projection.forward(lon, lat)
    a, b = rng.integers(0, lon.size, (2, 3_000))
    far = _haversine_m(lon[a], lat[a], lon[b], lat[b]) > 100.0
    a, b = a[far], b[far]
    projected = np.hypot(x[a] - x[b], y[a] - y[b])
    great_circle = _haversine_m(lon[a], lat[a], lon[b], lat[b])
    assert np.max(np.abs(projected / great_circle - 1)) < 0.005


def test_the_projection_is_centred_on_the_median_with_x_east_and_y_north() -> None:
    lon = np.array([126.5, 126.6, 126.7, 126.6, 140.0])  # one far-off record does not move the centre
    lat = np.array([45.75, 45.70, 45.75, 45.80, 10.0])
    projection = Projection.about(lon, lat)
    assert (projection.lon0, projection.lat0) == (126.6, 45.75)
    x, y = projection.forward(np.array([126.6, 126.61, 126.6]), np.array([45.75, 45.75, 45.76]))
    assert abs(x[0]) < 1e-6 and abs(y[0]) < 1e-6
    assert x[1] > 700 and abs(y[1]) < 1.0  # 0.01° of longitude east is about 778 m here
    assert y[2] > 1_000 and abs(x[2]) < 1e-6
