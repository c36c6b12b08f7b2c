from __future__ import annotations

import itertools

import pytest

from jingwu.domain.gcj02 import gcj02_point_to_wgs84, gcj02_to_wgs84, in_china, wgs84_to_gcj02
from jingwu.domain.geo import GeoPoint, haversine_m
from jingwu.errors import ValidationFailed

# Published sample pairs (WGS-84 lat, lon → GCJ-02 lat, lon) from the test suite of the open
# eviltransform implementations; they agree with every other open implementation of the formula.
SAMPLES = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]
HARBIN = (45.7560, 126.6420)


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return haversine_m(GeoPoint(*a), GeoPoint(*b))


@pytest.mark.parametrize(("w_lat", "w_lon", "g_lat", "g_lon"), SAMPLES)
def test_forward_transform_matches_published_pairs(
    w_lat: float, w_lon: float, g_lat: float, g_lon: float
) -> None:
    lat, lon = wgs84_to_gcj02(w_lat, w_lon)
    assert lat == pytest.approx(g_lat, abs=1e-9)
    assert lon == pytest.approx(g_lon, abs=1e-9)


@pytest.mark.parametrize(("w_lat", "w_lon", "g_lat", "g_lon"), SAMPLES)
def test_inverse_recovers_the_published_wgs84_to_a_centimetre(
    w_lat: float, w_lon: float, g_lat: float, g_lon: float
) -> None:
    assert _metres(gcj02_to_wgs84(g_lat, g_lon), (w_lat, w_lon)) < 0.01


def test_the_offset_in_harbin_is_a_few_hundred_metres() -> None:
    shifted = wgs84_to_gcj02(*HARBIN)
    assert 300 < _metres(shifted, HARBIN) < 700
    # GCJ-02 lies north-east of WGS-84 in Harbin (both offsets positive there).
    assert shifted[0] > HARBIN[0] and shifted[1] > HARBIN[1]


def test_round_trip_is_within_a_centimetre_across_china() -> None:
    lats = [18.3, 25.0, 31.2, 39.9, 45.756, 53.3]
    lons = [75.9, 87.6, 103.8, 116.4, 126.642, 134.2]
    worst = 0.0
    for lat, lon in itertools.product(lats, lons):
        back = gcj02_to_wgs84(*wgs84_to_gcj02(lat, lon))
        worst = max(worst, _metres(back, (lat, lon)))
    assert worst < 0.01


def test_the_inverse_is_not_the_naive_one_step_subtraction() -> None:
    # Subtracting the offset evaluated at the GCJ-02 point is off by decimetres-to-metres;
    # the iteration must do better than that (this fails if the loop runs only once).
    gcj = wgs84_to_gcj02(*HARBIN)
    fwd = wgs84_to_gcj02(*gcj)
    naive = (2 * gcj[0] - fwd[0], 2 * gcj[1] - fwd[1])
    assert _metres(naive, HARBIN) > 0.05
    assert _metres(gcj02_to_wgs84(*gcj), HARBIN) < 0.01


@pytest.mark.parametrize(
    ("lat", "lon"), [(51.5074, -0.1278), (40.7128, -74.0060), (-33.87, 151.21), (60.0, 100.0)]
)
def test_outside_china_is_passed_through(lat: float, lon: float) -> None:
    assert not in_china(lat, lon)
    assert wgs84_to_gcj02(lat, lon) == (lat, lon)
    assert gcj02_to_wgs84(lat, lon) == (lat, lon)


def test_in_china_is_the_documented_rectangle() -> None:
    assert in_china(*HARBIN)
    assert in_china(0.8293, 72.004) and in_china(55.8271, 137.8347)
    assert not in_china(55.83, 126.0) and not in_china(45.0, 137.9) and not in_china(45.0, 72.0)


def test_point_conversion_returns_a_checked_wgs84_point() -> None:
    gcj = wgs84_to_gcj02(*HARBIN)
    point = gcj02_point_to_wgs84(*gcj)
    assert _metres((point.lat, point.lon), HARBIN) < 0.01
    with pytest.raises(ValidationFailed) as exc:
        gcj02_point_to_wgs84(95.0, 126.0)
    assert exc.value.code == "invalid_latitude"
