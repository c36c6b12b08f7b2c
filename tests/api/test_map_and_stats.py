"""The console's map, and compressed answers."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import login

MAP_CLASSES = {"motorway", "trunk", "primary", "secondary", "tertiary", "minor"}
# The map and compression read no table: one database is enough for them.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@sqlite_only
def test_map_config_frames_the_road_network(client: TestClient) -> None:
    config = client.get("/api/map/config", headers=login(client, "u0")).json()
    assert config["tile_url"] is None and config["tile_attribution"] is None
    assert config["attribution"] == "© OpenStreetMap contributors"
    (south, west), (north, east) = config["bounds"]
    assert south < config["center"]["lat"] < north and west < config["center"]["lon"] < east
    # The Harbin extract: both banks of the Songhua.
    assert 45.6 < south < 45.7 and 45.8 < north < 45.9 and 126.4 < west < 126.6 and 126.7 < east < 126.8


@sqlite_only
def test_road_layer_is_a_few_class_features_gzipped_once_and_revalidated_by_etag(
    client: TestClient,
) -> None:
    headers = login(client, "dispatcher")
    plain = client.get("/api/map/roads", headers=headers | {"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert plain.headers["content-type"] == "application/geo+json"
    assert plain.headers["cache-control"] == "private, max-age=3600"
    assert "content-encoding" not in plain.headers
    collection = plain.json()
    assert collection["type"] == "FeatureCollection"
    classes = [f["properties"]["class"] for f in collection["features"]]
    assert len(classes) == len(set(classes)) and set(classes) <= MAP_CLASSES
    assert classes[0] == "minor"  # drawn first, under the main roads
    for feature in collection["features"]:
        assert feature["geometry"]["type"] == "MultiLineString"
        for line in feature["geometry"]["coordinates"][:50]:
            assert len(line) >= 2
            for lon, lat in line:
                assert round(lon, 5) == lon and round(lat, 5) == lat
                assert 126 < lon < 127 and 45 < lat < 46  # [lon, lat], GeoJSON order

    zipped = client.get("/api/map/roads", headers=headers | {"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.num_bytes_downloaded < len(plain.content) / 3
    assert zipped.content == plain.content  # the same document, decompressed
    assert zipped.headers["etag"] != plain.headers["etag"]

    for etag in (plain.headers["etag"], zipped.headers["etag"]):
        again = client.get("/api/map/roads", headers=headers | {"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
    assert client.get("/api/map/roads", headers=headers | {"If-None-Match": '"stale"'}).status_code == 200


@sqlite_only
def test_ordinary_json_answers_are_gzipped_when_large_enough(client: TestClient) -> None:
    headers = login(client, "dispatcher") | {"Accept-Encoding": "gzip"}
    units = client.get("/api/units", headers=headers)
    assert len(units.content) >= 1024 and units.headers["content-encoding"] == "gzip"
    small = client.get("/api/auth/me", headers=headers)
    assert "content-encoding" not in small.headers
