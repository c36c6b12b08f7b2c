"""The address index of one OSM file: built once, cached on disk beside the road graph (keyed by
the file's content and the index format), loaded in a fraction of a second, and shared by every
user in the process (it is read-only)."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from jingwu.geocode.model import IndexData, Match, Place, Rings
from jingwu.geocode.npz_cache import read_arrays, write_arrays
from jingwu.geocode.reverse import Reverser
from jingwu.geocode.search import Searcher

#: Bump whenever the build rules or the columns change: old caches are then simply not found.
FORMAT_VERSION = 1

_loaded: dict[str, Geocoder] = {}  # by the file's SHA-256: the index depends on nothing else
_lock = threading.Lock()


class Geocoder:
    """Search by text and by point over one index (thread-safe: nothing in it changes)."""

    def __init__(self, data: IndexData) -> None:
        self.data = data
        self._searcher = Searcher(data)
        self._reverser = Reverser(data)

    def search(self, text: str, limit: int = 10) -> list[Match]:
        return self._searcher.search(text, limit)

    def reverse(self, lat: float, lon: float) -> Place:
        return self._reverser.reverse(lat, lon)

    def boundaries(self) -> list[tuple[str, int, Rings]]:
        d = self.data
        return [(str(d.area_name[a]), int(d.area_level[a]), d.area_rings(a)) for a in range(len(d.area_name))]


def load_geocoder(osm_file: Path, cache_dir: Path | None = None) -> Geocoder:
    """The geocoder of ``osm_file``: from this process's memory, else from the cache in
    ``cache_dir`` (``<stem>.<sha256[:16]>.geocode.v<N>.npz``), else built from the file (a few
    seconds for a city) and cached there. Without ``cache_dir`` nothing is written."""
    osm_file = Path(osm_file)
    digest = hashlib.sha256(osm_file.read_bytes()).hexdigest()
    with _lock:
        if digest in _loaded:
            return _loaded[digest]
        data = None
        cache_file = None
        if cache_dir is not None:
            cache_file = Path(cache_dir) / f"{osm_file.stem}.{digest[:16]}.geocode.v{FORMAT_VERSION}.npz"
            data = _read_cache(cache_file, digest)
        if data is None:
            from jingwu.geocode.build import build_index  # osmium, pypinyin: only to build
            from jingwu.geocode.osm_read import read_osm

            data = build_index(read_osm(osm_file))
            if cache_file is not None:
                _write_cache(cache_file, data, digest)
        geocoder = Geocoder(data)
        _loaded[digest] = geocoder
        return geocoder


def boundaries(osm_file: Path, cache_dir: Path | None = None) -> list[tuple[str, int, Rings]]:
    """The administrative areas of ``osm_file``: (name, admin_level, rings), each ring a list of
    (lon, lat) under the even-odd rule (a hole is a ring inside another). Levels 6 (district, 区)
    and 8 (street office, 街道); areas the extract cuts are closed along its edge. Cached as the
    index is (see ``load_geocoder``)."""
    return load_geocoder(osm_file, cache_dir).boundaries()


def _read_cache(path: Path, digest: str) -> IndexData | None:
    arrays = read_arrays(path, digest, FORMAT_VERSION)
    if arrays is None:
        return None
    try:
        return IndexData.from_arrays(arrays)
    except (KeyError, ValueError, TypeError):
        return None  # a file of another shape: rebuild (and overwrite) rather than fail


def _write_cache(path: Path, data: IndexData, digest: str) -> None:
    write_arrays(path, data.to_arrays(), digest, FORMAT_VERSION)


__all__ = ["FORMAT_VERSION", "Geocoder", "boundaries", "load_geocoder"]
