"""Bulk import of cameras from a CSV table or a GeoJSON FeatureCollection: every line checked,
all refused with each bad line's reason if one is bad (a half-imported list of cameras is worse
than none: nobody knows which are in)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

from jingwu.domain.cameras import CameraSpec
from jingwu.errors import JingwuError, ValidationFailed
from jingwu.service.video.registry import spec_from_fields

CSV_COLUMNS = (
    "name",
    "kind",
    "stream_url",
    "owner",
    "lat",
    "lon",
    "heading_deg",
    "fov_deg",
    "range_m",
    "height_m",
    "tilt_deg",
    "unit_id",
    "community",
    "station_id",
)
MAX_ROWS = 10_000


def parse_cameras(text: str, media_type: str, check: Callable[[CameraSpec], object]) -> list[CameraSpec]:
    """The cameras of a CSV (``text/csv``) or GeoJSON (``application/geo+json`` or JSON) file,
    each passed through ``check`` (the registry's own checks); 422 ``import_invalid`` with
    ``errors: [{line, message}]`` if any is refused."""
    if media_type in ("text/csv", "application/csv"):
        rows = _csv_rows(text)
    elif media_type in ("application/geo+json", "application/json"):
        rows = _geojson_rows(text)
    else:
        raise ValidationFailed(
            f"a camera list is text/csv or application/geo+json, not {media_type or 'unknown'}",
            code="unsupported_import_type",
        )
    if len(rows) > MAX_ROWS:
        raise ValidationFailed(f"at most {MAX_ROWS} cameras an import", code="import_too_large")
    specs: list[CameraSpec] = []
    errors: list[dict[str, Any]] = []
    for line, fields in rows:
        try:
            spec = spec_from_fields(fields)
            check(spec)
            specs.append(spec)
        except JingwuError as exc:
            errors.append({"line": line, "message": exc.message})
    if errors:
        raise ValidationFailed(
            f"{len(errors)} of {len(rows)} cameras refused; nothing was imported "
            f"(first: line {errors[0]['line']}: {errors[0]['message']})",
            code="import_invalid",
            errors=errors[:100],
        )
    if not specs:
        raise ValidationFailed("the file holds no cameras", code="import_empty")
    return specs


def _csv_rows(text: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = reader.fieldnames or []
    missing = [c for c in ("name", "kind", "stream_url") if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if missing or unknown:
        raise ValidationFailed(
            "the CSV header must name the columns "
            + ", ".join(CSV_COLUMNS)
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; unknown: {', '.join(unknown)}" if unknown else ""),
            code="import_bad_header",
        )
    rows = []
    for row in reader:
        if None in row:
            raise ValidationFailed(
                f"line {reader.line_num} has more fields than the header", code="import_invalid"
            )
        rows.append((reader.line_num, {k: (v.strip() or None) if v else None for k, v in row.items()}))
    return rows


def _geojson_rows(text: str) -> list[tuple[int, dict[str, Any]]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"not JSON: {exc}", code="import_invalid") from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ValidationFailed("a GeoJSON FeatureCollection is expected", code="import_invalid")
    rows = []
    for index, feature in enumerate(document.get("features") or [], start=1):
        properties = dict((feature or {}).get("properties") or {})
        geometry = (feature or {}).get("geometry") or {}
        if geometry.get("type") == "Point":
            coordinates = geometry.get("coordinates") or []
            if len(coordinates) >= 2:
                properties["lon"], properties["lat"] = coordinates[0], coordinates[1]
        rows.append((index, properties))
    return rows


__all__ = ["CSV_COLUMNS", "parse_cameras"]
