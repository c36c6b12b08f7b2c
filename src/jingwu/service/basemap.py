"""The console's base map: where the city is, and its roads drawn from our own road graph.

The roads need no tile server and no internet: they come from the same OSM extract the router
uses, so the map shows exactly the streets units are routed along. An optional raster tile layer
(``JINGWU_TILE_URL``) can be drawn underneath.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

from jingwu.routing import RoadNetwork
from jingwu.routing.graph import MAP_CLASSES
from jingwu.settings import Settings

#: The road data is © OpenStreetMap contributors (ODbL); the licence asks for this on every map.
OSM_ATTRIBUTION = "© OpenStreetMap contributors"
#: ~1.1 m of latitude: finer than a screen pixel at street zoom, and every digit costs bytes.
ROAD_DECIMALS = 5


@dataclass(frozen=True, slots=True)
class RoadLayer:
    """The serialized road FeatureCollection, and the same bytes gzipped (built once)."""

    body: bytes
    gzipped: bytes
    etag: str


class MapService:
    def __init__(self, network: RoadNetwork, settings: Settings) -> None:
        self.network = network
        self.settings = settings
        self._roads: RoadLayer | None = None
        self._lock = threading.Lock()

    def config(self) -> dict[str, Any]:
        west, south, east, north = self.network.bbox
        return {
            "tile_url": self.settings.tile_url,
            "tile_attribution": self.settings.tile_attribution,
            "attribution": OSM_ATTRIBUTION,
            "center": {"lat": round((south + north) / 2, 6), "lon": round((west + east) / 2, 6)},
            "bounds": [[round(south, 6), round(west, 6)], [round(north, 6), round(east, 6)]],
            # Every screen shows the bureau's clock, not the device's (a phone set to another zone).
            "timezone": self.settings.timezone,
        }

    def roads(self) -> RoadLayer:
        """Built on first use (about 0.2 s), then served from memory: the graph never changes
        while the process runs."""
        with self._lock:
            if self._roads is None:
                self._roads = self._build_roads()
            return self._roads

    def _build_roads(self) -> RoadLayer:
        lines = self.network.road_lines_by_class(ROAD_DECIMALS)
        # Minor streets first, so that a client adding the features in order draws the main
        # roads on top. Classes with no road in this city are left out.
        features = [
            {
                "type": "Feature",
                "properties": {"class": klass},
                "geometry": {"type": "MultiLineString", "coordinates": lines[klass]},
            }
            for klass in reversed(MAP_CLASSES)
            if lines.get(klass)
        ]
        body = json.dumps(
            {"type": "FeatureCollection", "features": features}, separators=(",", ":"), allow_nan=False
        ).encode()
        # Compressed once here rather than by the middleware on every request (~1 MB at level 9).
        gzipped = gzip.compress(body, compresslevel=9, mtime=0)
        etag = '"roads-' + hashlib.sha256(body).hexdigest()[:32] + '"'
        return RoadLayer(body=body, gzipped=gzipped, etag=etag)


__all__ = ["OSM_ATTRIBUTION", "ROAD_DECIMALS", "MapService", "RoadLayer"]
