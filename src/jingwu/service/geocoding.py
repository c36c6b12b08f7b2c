"""Address search for the command room: the city's address index, loaded once per process on
first use (or in the background when a server starts), then shared by every request."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from jingwu.errors import ValidationFailed
from jingwu.geocode import Geocoder, Match, Place, load_geocoder

log = logging.getLogger(__name__)

#: The longest query worth reading: a full address with district and intersection is ~40 characters.
MAX_QUERY_CHARS = 100
MAX_RESULTS = 20


class GeocodingService:
    def __init__(self, osm_file: Path, cache_dir: Path | None) -> None:
        self._osm_file = osm_file
        self._cache_dir = cache_dir
        self._geocoder: Geocoder | None = None
        self._lock = threading.Lock()

    def geocoder(self) -> Geocoder:
        """The loaded index (built and cached on the first call after a new OSM file)."""
        if self._geocoder is None:
            with self._lock:
                if self._geocoder is None:
                    started = time.perf_counter()
                    self._geocoder = load_geocoder(self._osm_file, self._cache_dir)
                    log.info(
                        "address index ready: %d entries in %.2f s",
                        self._geocoder.data.size,
                        time.perf_counter() - started,
                    )
        return self._geocoder

    def warm_up(self) -> threading.Thread:
        """Load the index on a thread of its own, so that a starting server does not wait for it
        and the first call taker does not either."""
        thread = threading.Thread(target=self.geocoder, name="geocode-warm-up", daemon=True)
        thread.start()
        return thread

    def search(self, text: str, limit: int = 10) -> list[Match]:
        if not text.strip():
            raise ValidationFailed("type an address to search for", code="empty_query")
        if len(text) > MAX_QUERY_CHARS:
            raise ValidationFailed(
                f"an address query is at most {MAX_QUERY_CHARS} characters",
                code="query_too_long",
                max_chars=MAX_QUERY_CHARS,
            )
        if not 1 <= limit <= MAX_RESULTS:
            raise ValidationFailed(
                f"limit must be 1 to {MAX_RESULTS}", code="bad_limit", limit=limit, max=MAX_RESULTS
            )
        return self.geocoder().search(text, limit)

    def reverse(self, lat: float, lon: float) -> Place:
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            raise ValidationFailed(
                f"not a coordinate: ({lat}, {lon})", code="bad_coordinate", lat=lat, lon=lon
            )
        return self.geocoder().reverse(lat, lon)


__all__ = ["MAX_QUERY_CHARS", "MAX_RESULTS", "GeocodingService"]
