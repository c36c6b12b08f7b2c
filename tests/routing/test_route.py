"""Route geometry, timing, GeoJSON and interpolation of a position along it."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from jingwu.routing import RoadNetwork, RoadPoint, Route
from jingwu.routing.geo import bearing_deg

from .helpers import metres

Trips = list[tuple[RoadPoint, RoadPoint, Route]]


@pytest.fixture(scope="module")
def routes(network: RoadNetwork) -> list[tuple[RoadPoint, RoadPoint, Route]]:
    rng = np.random.default_rng(31)
    out = []
    for _ in range(40):
        source, target = network.random_road_point(rng), network.random_road_point(rng)
        route = network.route(source, target)
        assert route is not None
        out.append((source, target, route))
    return out


def test_route_geometry_starts_and_ends_at_snapped_points(routes: Trips) -> None:
    for source, target, route in routes:
        assert route.coordinates[0] == pytest.approx((source.lon, source.lat), abs=1e-9)
        assert route.coordinates[-1] == pytest.approx((target.lon, target.lat), abs=1e-9)


def test_route_cum_time_monotonic_from_zero_to_eta(routes: Trips) -> None:
    for _, _, route in routes:
        times = route.cum_time_s
        assert len(times) == len(route.coordinates) >= 2
        assert times[0] == 0.0
        assert times[-1] == route.eta_s
        assert all(b >= a for a, b in pairwise(times))


def test_route_distance_equals_polyline_length(routes: Trips) -> None:
    for _, _, route in routes:
        coords = route.coordinates
        length = sum(metres(a[1], a[0], b[1], b[0]) for a, b in pairwise(coords))
        assert length == pytest.approx(route.distance_m, rel=2e-3, abs=0.5)


def test_route_to_geojson_is_a_linestring(routes: Trips) -> None:
    _, _, route = routes[0]
    geometry = route.to_geojson()
    assert geometry["type"] == "LineString"
    assert geometry["coordinates"][0] == list(route.coordinates[0])
    assert len(geometry["coordinates"]) == len(route.coordinates)


def test_position_at_ends_and_beyond_clamped(routes: Trips) -> None:
    for source, target, route in routes[:10]:
        assert route.position_at(0.0)[:2] == pytest.approx((source.lat, source.lon), abs=1e-9)
        assert route.position_at(-10.0)[:2] == pytest.approx((source.lat, source.lon), abs=1e-9)
        assert route.position_at(route.eta_s)[:2] == pytest.approx((target.lat, target.lon), abs=1e-9)
        assert route.position_at(route.eta_s + 99)[:2] == pytest.approx((target.lat, target.lon), abs=1e-9)


def test_position_at_mid_segment_interpolates_and_heads_along_it(routes: Trips) -> None:
    for _, _, route in routes:
        times, coords = route.cum_time_s, route.coordinates
        for i in range(len(coords) - 1):
            if times[i + 1] - times[i] > 0.5 and coords[i] != coords[i + 1]:
                lat, lon, heading = route.position_at((times[i] + times[i + 1]) / 2)
                (lon0, lat0), (lon1, lat1) = coords[i], coords[i + 1]
                assert (lat, lon) == pytest.approx(((lat0 + lat1) / 2, (lon0 + lon1) / 2), abs=1e-9)
                assert heading == pytest.approx(bearing_deg(lat0, lon0, lat1, lon1), abs=1e-6)
                assert 0.0 <= heading < 360.0


def test_position_at_hand_made_route_east_then_north() -> None:
    route = Route(20.0, 200.0, ((126.0, 45.0), (126.001, 45.0), (126.001, 45.001)), (0.0, 10.0, 20.0))
    lat, lon, heading = route.position_at(5.0)
    assert (lat, lon) == pytest.approx((45.0, 126.0005))
    assert heading == pytest.approx(90.0, abs=1e-6)
    lat, lon, heading = route.position_at(15.0)
    assert (lat, lon) == pytest.approx((45.0005, 126.001))
    assert heading == pytest.approx(0.0, abs=1e-6)


def test_position_at_zero_length_route_stays_put() -> None:
    route = Route(0.0, 0.0, ((126.0, 45.0), (126.0, 45.0)), (0.0, 0.0))
    assert route.position_at(3.0) == (45.0, 126.0, 0.0)


def test_road_geojson_lines_with_class_and_name(network: RoadNetwork) -> None:
    collection = network.road_geojson()
    assert collection["type"] == "FeatureCollection"
    features = collection["features"]
    assert len(features) > 10_000
    classes = {f["properties"]["class"] for f in features}
    assert {"primary", "residential", "trunk"} <= classes
    assert any(f["properties"]["name"] == "友谊路" for f in features)
    for feature in features:
        assert feature["geometry"]["type"] == "LineString"
        assert len(feature["geometry"]["coordinates"]) >= 2
