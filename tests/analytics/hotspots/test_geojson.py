"""The forecast as a map: closed counter-clockwise (lon, lat) squares whose area on the ground is
the share of the study area asked for."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from jingwu.analytics.hotspots import forecast, forecast_geojson
from tests.analytics.hotspots.synthetic import LAT0, LON0, R, make_city


def _spherical_area_m2(ring: list[list[float]]) -> float:
    """Signed area of a (lon, lat) ring on the sphere (Chamberlain & Duquette 2007): positive when
    counter-clockwise."""
    total = 0.0
    for (lon1, lat1), (lon2, lat2) in itertools.pairwise(ring):
        total += math.radians(lon2 - lon1) * (2 + math.sin(math.radians(lat1)) + math.sin(math.radians(lat2)))
    return -total * R * R / 2


@pytest.mark.parametrize("cell_m", [150.0, 250.0])
def test_the_hotspot_polygons_cover_the_share_of_the_study_area_asked_for(cell_m: float) -> None:
    city = make_city()
    collection = forecast_geojson(city.points, city.test_month, area_share=0.05, cell_m=cell_m)
    assert collection["type"] == "FeatureCollection"
    assert collection["study_area_m2"] == collection["n_cells"] * cell_m**2
    k = round(0.05 * collection["n_cells"])
    assert len(collection["features"]) == k
    areas = [_spherical_area_m2(f["geometry"]["coordinates"][0]) for f in collection["features"]]
    assert all(a > 0 for a in areas)  # counter-clockwise
    assert max(abs(a / cell_m**2 - 1) for a in areas) < 0.01
    assert sum(areas) == pytest.approx(0.05 * collection["study_area_m2"], rel=0.01)


def test_the_collection_says_its_method_month_and_share_and_ranks_its_cells() -> None:
    city = make_city()
    collection = json.loads(json.dumps(forecast_geojson(city.points, city.test_month, method="kde")))
    assert collection["method"] == "kde"
    assert collection["for"] == city.test_month
    assert collection["area_share"] == 0.05 and collection["cell_m"] == 150.0
    ranks = [f["properties"]["rank"] for f in collection["features"]]
    scores = [f["properties"]["score"] for f in collection["features"]]
    assert ranks == list(range(1, len(ranks) + 1))
    assert scores == sorted(scores, reverse=True)


def test_each_polygon_is_a_closed_ring_in_lon_lat_order() -> None:
    city = make_city()
    for feature in forecast(city.points, city.test_month).geojson()["features"]:
        assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Polygon"
        (ring,) = feature["geometry"]["coordinates"]
        assert len(ring) == 5 and ring[0] == ring[-1]
        lon, lat = np.array(ring).T
        assert np.all(np.abs(lon - LON0) < 0.1) and np.all(np.abs(lat - LAT0) < 0.1)


def test_the_hottest_polygon_lies_on_a_cluster() -> None:
    city = make_city()
    (ring,) = forecast(city.points, city.test_month).geojson()["features"][0]["geometry"]["coordinates"]
    lon, lat = np.mean(np.array(ring[:4]), axis=0)
    centres = np.column_stack(city.centres_lonlat(np.concatenate([city.steady, city.emerging])))
    east = (centres[:, 0] - lon) * 111_320 * math.cos(math.radians(LAT0))
    metres = np.hypot(east, (centres[:, 1] - lat) * 110_574)
    assert metres.min() < 300.0
