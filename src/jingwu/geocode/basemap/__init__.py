"""The base map's water, green areas, rivers and labels, from the city's own OSM file: built once
(a few seconds), cached on disk beside the road graph keyed by the file's content and the format,
and shared by every request in the process. Data: © OpenStreetMap contributors, ODbL."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

#: Bump whenever the build rules or the layers change: old caches are then simply not found.
FORMAT_VERSION = 1

_loaded: dict[str, dict[str, Any]] = {}  # by the file's SHA-256: the map depends on nothing else
_lock = threading.Lock()


def load_basemap(osm_file: Path, cache_dir: Path | None = None) -> dict[str, Any]:
    """The base map of ``osm_file`` as a GeoJSON FeatureCollection: from this process's memory,
    else from ``cache_dir`` (``<stem>.<sha256[:16]>.basemap.v<N>.json.gz``), else built from the
    file and cached there. Without ``cache_dir`` nothing is written. Treat it as read-only."""
    osm_file = Path(osm_file)
    digest = hashlib.sha256(osm_file.read_bytes()).hexdigest()
    with _lock:
        if digest in _loaded:
            return _loaded[digest]
        collection = None
        cache_file = None
        if cache_dir is not None:
            cache_file = Path(cache_dir) / f"{osm_file.stem}.{digest[:16]}.basemap.v{FORMAT_VERSION}.json.gz"
            collection = _read_cache(cache_file, digest)
        if collection is None:
            from jingwu.geocode.basemap.build import build_map  # osmium, shapely: only to build
            from jingwu.geocode.basemap.read import read_map

            collection = build_map(read_map(osm_file))
            if cache_file is not None:
                _write_cache(cache_file, collection, digest)
        _loaded[digest] = collection
        return collection


def _read_cache(path: Path, digest: str) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        stored = json.loads(gzip.decompress(path.read_bytes()))
        if stored.get("pbf_sha256") != digest or stored.get("format_version") != FORMAT_VERSION:
            return None
        collection = stored["map"]
        if collection.get("type") != "FeatureCollection" or not isinstance(collection.get("features"), list):
            return None
        return dict(collection)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, EOFError):
        return None  # a truncated or foreign file: rebuild (and overwrite) rather than fail


def _write_cache(path: Path, collection: dict[str, Any], digest: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps(
        {"pbf_sha256": digest, "format_version": FORMAT_VERSION, "map": collection},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    # A temporary file renamed into place: a concurrent reader never sees half a file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(gzip.compress(body, compresslevel=6, mtime=0))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


__all__ = ["FORMAT_VERSION", "load_basemap"]
