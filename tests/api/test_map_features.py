"""GET /api/map/features: water, green areas, rivers and names for the console's map, gzipped
once and revalidated by ETag like the road layer."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import login

# The map reads no table: one database is enough.
sqlite_only = pytest.mark.parametrize("migrated_database_url", ["sqlite"], indirect=True)


@sqlite_only
def test_features_are_areas_then_named_labels_gzipped_once_and_revalidated_by_etag(
    client: TestClient,
) -> None:
    headers = login(client, "dispatcher")
    plain = client.get("/api/map/features", headers=headers | {"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert plain.headers["content-type"] == "application/geo+json"
    assert "content-encoding" not in plain.headers
    features = plain.json()["features"]
    layers = [f["properties"]["layer"] for f in features]
    assert {"water", "green", "waterway", "label"} <= set(layers)
    assert layers.index("label") > max(i for i, layer in enumerate(layers) if layer != "label")
    for feature in features:
        p = feature["properties"]
        if p["layer"] == "label":
            assert p["name"] and isinstance(p["z"], int) and isinstance(p["p"], float | int)
            point = feature["geometry"]["coordinates"]
            lon, lat = point if feature["geometry"]["type"] == "Point" else point[0]
            assert 126 < lon < 127 and 45 < lat < 46  # [lon, lat], GeoJSON order

    zipped = client.get("/api/map/features", headers=headers | {"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.num_bytes_downloaded < len(plain.content) / 4
    assert zipped.content == plain.content
    again = client.get("/api/map/features", headers=headers | {"If-None-Match": zipped.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


@sqlite_only
def test_features_need_a_log_in(client: TestClient) -> None:
    assert client.get("/api/map/features").status_code == 401
