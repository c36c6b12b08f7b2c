"""The OsmAnd protocol, as the Traccar Client apps (Android, iOS) and the OsmAnd app speak it:
one HTTP request per report, decoded here into fixes (pure: the request's parts in, a report
or a refusal out; no I/O, no clock).

The forms, as Traccar's ``OsmAndProtocolDecoder`` reads them:

* **Query string**, on a GET or a POST with an empty body (Traccar Client for Android POSTs to
  the URL with the parameters in it): ``id`` (or ``deviceid``), ``timestamp``, ``lat``,
  ``lon`` (or ``location=lat,lon``), ``speed``, ``bearing`` (or ``heading``), ``altitude``,
  ``accuracy``, ``batt``, ``valid``, ``mock``.
* **Form body** (``application/x-www-form-urlencoded``), the same parameters, when the URL has
  none.
* **JSON body** (``Content-Type: application/json``), what the newer Traccar Client apps send
  (their location library's record): ``{"device_id", "location": {"timestamp", "coords":
  {"latitude", "longitude", "accuracy", "speed", "heading", "altitude"}, "battery": {"level",
  "is_charging"}, "mock", …}}``. ``location`` may also be a list of such records (a batch of
  buffered fixes).

Units, normalised to SI here at the edge:

* ``speed`` in the query/form is in **knots** (Traccar Client multiplies the phone's m/s by
  1.943844 before sending; Traccar reads it as knots); in the JSON form it is **m/s**, -1 when
  unknown.
* ``timestamp``: Unix seconds, or milliseconds when it does not fit a 32-bit int (Traccar's
  rule), or ISO 8601, or ``yyyy-MM-dd HH:mm:ss`` (read in the bureau's time zone, handed in), or
  ``ddMMyyHHmmss`` (UTC). Missing: the time of receipt.
* ``batt`` is percent; the JSON ``battery.level`` is 0..1 (-1 unknown).
* ``heading``/``bearing`` -1 and ``speed`` -1 mean unknown (iOS); the GPS filter maps them to
  None.

A report without coordinates (Traccar uses the last known place for those) carries no fix: it
is answered and nothing is stored. A mock location (``mock=true``, set by the phone when a
developer app fakes the GPS) is passed on as an invalid fix: the filter rejects it, since a
unit's position that the phone itself calls fake is not one. Other parameters (``hdop``,
``charge``, ``odometer``, ``event``, …) are read past.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import parse_qs

from jingwu.domain.gps import Fix
from jingwu.errors import ValidationFailed

KNOT_MPS = 1852.0 / 3600.0
MAX_FIXES = 1_000  # in one JSON batch
MAX_KEY_LENGTH = 512
_INT32_MAX = 2**31 - 1
_DEVICE_TIME = re.compile(r"^\d{12}$")  # ddMMyyHHmmss, UTC


class OsmAndRequestInvalid(ValidationFailed):
    code = "bad_osmand_request"


@dataclass(frozen=True, slots=True)
class OsmAndReport:
    """A decoded request: the device key it names (None: not given in the request) and its fixes
    (none for a report without coordinates)."""

    key: str | None
    fixes: tuple[Fix, ...]


def decode(
    *, query: str, content_type: str | None, body: bytes, received_at: datetime, local_zone: tzinfo = UTC
) -> OsmAndReport:
    """Decode one OsmAnd request. ``query`` is the raw query string (without ``?``),
    ``received_at`` stands in for a missing fix time, ``local_zone`` reads a time without zone."""
    if content_type is not None and content_type.split(";")[0].strip().lower() == "application/json":
        return _decode_json(body, received_at, local_zone)
    params = parse_qs(query, keep_blank_values=False)
    if not params and body:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise OsmAndRequestInvalid("the form body is not UTF-8 text") from None
        params = parse_qs(text, keep_blank_values=False)
    return _decode_params({name: values[-1] for name, values in params.items()}, received_at, local_zone)


# ---------------------------------------------------------------- query string and form


def _decode_params(params: Mapping[str, str], received_at: datetime, zone: tzinfo) -> OsmAndReport:
    key = _key(params.get("id") or params.get("deviceid"))
    lat = _number(params, "lat")
    lon = _number(params, "lon")
    if "location" in params:
        parts = params["location"].split(",")
        if len(parts) != 2:
            raise OsmAndRequestInvalid("location must be 'lat,lon'", field="location")
        lat, lon = (_parse_float(p.strip(), "location") for p in parts)
    if lat is None or lon is None:
        return OsmAndReport(key, ())
    stamp = params.get("timestamp")
    speed = _number(params, "speed")
    heading = _number(params, "bearing")
    if heading is None:
        heading = _number(params, "heading")
    fix = Fix(
        ts=received_at if stamp is None else _timestamp(stamp, zone),
        lat=lat,
        lon=lon,
        speed=None if speed is None or speed < 0 else speed * KNOT_MPS,
        heading=heading,
        altitude=_number(params, "altitude"),
        accuracy=_number(params, "accuracy"),
        battery=_number(params, "batt"),
        valid=_flag(params.get("valid"), default=True) and not _flag(params.get("mock"), default=False),
    )
    return OsmAndReport(key, (fix,))


def _key(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > MAX_KEY_LENGTH:
        raise OsmAndRequestInvalid("the device identifier is too long", field="id")
    return value


def _parse_float(value: str, field: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise OsmAndRequestInvalid(f"{field} is not a number: {value[:40]!r}", field=field) from None


def _number(params: Mapping[str, str], field: str) -> float | None:
    value = params.get(field)
    return None if value is None else _parse_float(value.strip(), field)


def _flag(value: str | None, *, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() in ("true", "1")


def _timestamp(value: str, zone: tzinfo) -> datetime:
    value = value.strip()
    try:
        if _DEVICE_TIME.match(value):
            try:
                return datetime.strptime(value, "%d%m%y%H%M%S").replace(tzinfo=UTC)
            except ValueError:
                pass  # not a device date after all: a number
        if re.fullmatch(r"-?\d+(\.\d+)?", value):
            number = float(value)
            if abs(number) >= _INT32_MAX:
                number /= 1000.0  # milliseconds
            return datetime.fromtimestamp(number, UTC)
        if "T" in value:
            parsed = datetime.fromisoformat(value)
        else:
            parsed = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
        # One rule for a time without zone, whatever its form: the bureau's (docs/positions.md).
        return (parsed.replace(tzinfo=zone) if parsed.tzinfo is None else parsed).astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        raise OsmAndRequestInvalid(f"timestamp is not a time: {value[:40]!r}", field="timestamp") from None


# ---------------------------------------------------------------- JSON


def _decode_json(body: bytes, received_at: datetime, zone: tzinfo) -> OsmAndReport:
    try:
        root = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise OsmAndRequestInvalid("the body is not valid JSON") from None
    if not isinstance(root, dict):
        raise OsmAndRequestInvalid("the JSON body must be an object with device_id and location")
    device_id = root.get("device_id")
    if device_id is not None and not isinstance(device_id, str | int):
        raise OsmAndRequestInvalid("device_id must be a string", field="device_id")
    key = _key(None if device_id is None else str(device_id))
    location = root.get("location")
    records = location if isinstance(location, list) else [] if location is None else [location]
    if len(records) > MAX_FIXES:
        raise OsmAndRequestInvalid(f"at most {MAX_FIXES} locations in one request", field="location")
    fixes = []
    for record in records:
        fix = _json_fix(record, received_at, zone)
        if fix is not None:
            fixes.append(fix)
    return OsmAndReport(key, tuple(fixes))


def _json_number(mapping: Mapping[str, Any], field: str) -> float | None:
    value = mapping.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise OsmAndRequestInvalid(f"{field} must be a number", field=field)
    number = float(value)
    return number if math.isfinite(number) else None


def _json_fix(record: Any, received_at: datetime, zone: tzinfo) -> Fix | None:
    if not isinstance(record, dict):
        raise OsmAndRequestInvalid("each location must be an object", field="location")
    coords = record.get("coords")
    if coords is None:
        return None  # no fix: a heartbeat
    if not isinstance(coords, dict):
        raise OsmAndRequestInvalid("coords must be an object", field="coords")
    lat, lon = _json_number(coords, "latitude"), _json_number(coords, "longitude")
    if lat is None or lon is None:
        return None
    stamp = record.get("timestamp")
    if stamp is None:
        ts = received_at
    elif isinstance(stamp, str):
        ts = _timestamp(stamp, zone)
    else:
        raise OsmAndRequestInvalid("timestamp must be an ISO 8601 string", field="timestamp")
    battery = record.get("battery")
    level = _json_number(battery, "level") if isinstance(battery, dict) else None
    return Fix(
        ts=ts,
        lat=lat,
        lon=lon,
        speed=_json_number(coords, "speed"),  # m/s; -1: unknown (normalised by the filter)
        heading=_json_number(coords, "heading"),
        altitude=_json_number(coords, "altitude"),
        accuracy=_json_number(coords, "accuracy"),
        battery=None if level is None or level < 0 else level * 100.0,
        valid=record.get("mock") is not True,
    )


__all__ = ["KNOT_MPS", "MAX_FIXES", "OsmAndReport", "OsmAndRequestInvalid", "decode"]
