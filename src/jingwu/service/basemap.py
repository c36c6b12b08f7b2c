"""The console's base map: where the city is, its roads drawn from our own road graph, and its
water, parks, rivers and names (streets, landmarks, communities) from the same OSM extract.

None of it needs a tile server or the internet: the roads are the router's own graph, so the map
shows exactly the streets units are routed along. An optional raster tile layer
(``JINGWU_TILE_URL``) can be drawn underneath.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from jingwu.geocode.basemap import load_basemap
from jingwu.routing import RoadNetwork
from jingwu.routing.graph import MAP_CLASSES
from jingwu.settings import Settings

#: The road data is © OpenStreetMap contributors (ODbL); the licence asks for this on every map.
OSM_ATTRIBUTION = "© OpenStreetMap contributors"
#: ~1.1 m of latitude: finer than a screen pixel at street zoom, and every digit costs bytes.
ROAD_DECIMALS = 5

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RoadLayer:
    """A serialized FeatureCollection (the roads, or the features), and the same bytes gzipped
    (built once)."""

    body: bytes
    gzipped: bytes
    etag: str


class MapService:
    def __init__(self, network: RoadNetwork, settings: Settings) -> None:
        self.network = network
        self.settings = settings
        self._roads: RoadLayer | None = None
        self._features: RoadLayer | None = None
        self._lock = threading.Lock()
        self._features_lock = threading.Lock()

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

    def features(self) -> RoadLayer:
        """Water, green areas, rivers and the labels: from the cache beside the road graph (a
        fraction of a second), or built from the OSM file on first use after a new file (a few
        seconds), then served from memory."""
        with self._features_lock:
            if self._features is None:
                started = time.perf_counter()
                collection = load_basemap(self.settings.osm_file, self.settings.graph_cache_dir)
                self._features = _layer(collection, "features")
                log.info(
                    "base map features ready: %d features, %d bytes gzipped, in %.2f s",
                    len(collection["features"]),
                    len(self._features.gzipped),
                    time.perf_counter() - started,
                )
            return self._features

    def warm_up(self) -> threading.Thread:
        """Load the features on a thread of their own, so that a starting server does not wait
        for them and the first console does not either."""
        thread = threading.Thread(target=self.features, name="basemap-warm-up", daemon=True)
        thread.start()
        return thread

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
        return _layer({"type": "FeatureCollection", "features": features}, "roads")


def _layer(collection: dict[str, Any], name: str) -> RoadLayer:
    body = json.dumps(collection, separators=(",", ":"), allow_nan=False, ensure_ascii=False).encode()
    # Compressed once here rather than by the middleware on every request (~1 MB at level 9).
    gzipped = gzip.compress(body, compresslevel=9, mtime=0)
    etag = f'"{name}-' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return RoadLayer(body=body, gzipped=gzipped, etag=etag)


__all__ = ["OSM_ATTRIBUTION", "ROAD_DECIMALS", "MapService", "RoadLayer"]
