"""Arrays derived from an OSM extract, cached beside the road graph's cache as one ``.npz`` file
stamped with the extract's SHA-256 and the format's version: the address index, the buildings."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray


def read_arrays(path: Path, digest: str, version: int) -> dict[str, NDArray[Any]] | None:
    """The cached arrays, or None when there are none for this extract and format version."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        if str(arrays.pop("pbf_sha256")) != digest or int(arrays.pop("format_version")) != version:
            return None
        return arrays
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a truncated or foreign file: rebuild (and overwrite) rather than fail


def write_arrays(path: Path, arrays: dict[str, Any], digest: str, version: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # A temporary file renamed into place: a concurrent reader never sees half a file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        stored = {**arrays, "pbf_sha256": np.str_(digest), "format_version": np.int64(version)}
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **stored)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


__all__ = ["read_arrays", "write_arrays"]
