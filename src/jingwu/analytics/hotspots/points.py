"""Incident points as the hotspot code takes them, the one error it raises, and calendar months.

Only records with coordinates come here (the caller drops the others). Times are local wall time;
where a source gives only the month (data.police.uk), the caller passes the month's first second:
the recency weights are exponential, so shifting every time alike leaves the ranking unchanged."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from jingwu.errors import ValidationFailed

FloatArray = NDArray[np.float64]
TimeArray = NDArray[np.datetime64]

_MONTH = re.compile(r"\d{4}-\d{2}")


class HotspotError(ValidationFailed, ValueError):
    """Input the hotspot code cannot use: a bad area share, no training points, a bad month.

    Both a ``ValidationFailed`` (the CLI prints it as ``error: …``, the API answers 422) and a
    ``ValueError``, for callers that treat it as plain bad input."""

    code = "hotspots_bad_input"


@dataclass(frozen=True, eq=False)
class Points:
    """Incident locations (WGS-84 degrees) and times (``datetime64[s]``), checked on construction
    so that every later step can trust them."""

    lon: FloatArray
    lat: FloatArray
    t: TimeArray

    def __post_init__(self) -> None:
        lon = np.asarray(self.lon, dtype=np.float64).reshape(-1)
        lat = np.asarray(self.lat, dtype=np.float64).reshape(-1)
        t = np.asarray(self.t)
        if t.dtype.kind != "M":
            raise HotspotError(f"times must be numpy datetime64, not {t.dtype}", code="hotspots_bad_times")
        t = t.astype("datetime64[s]").reshape(-1)
        if not (lon.size == lat.size == t.size):
            raise HotspotError(
                f"lon, lat and t differ in length ({lon.size}, {lat.size}, {t.size})",
                code="hotspots_bad_points",
            )
        if not (np.all(np.isfinite(lon)) and np.all(np.isfinite(lat))):
            raise HotspotError("a coordinate is not a finite number", code="hotspots_bad_points")
        if np.any(np.abs(lat) > 90.0) or np.any(np.abs(lon) > 180.0):
            raise HotspotError("a coordinate is outside -180..180, -90..90", code="hotspots_bad_points")
        if np.any(np.isnat(t)):
            raise HotspotError("a time is missing (NaT)", code="hotspots_bad_times")
        object.__setattr__(self, "lon", lon)
        object.__setattr__(self, "lat", lat)
        object.__setattr__(self, "t", t)

    def __len__(self) -> int:
        return int(self.lon.size)

    def where(self, keep: NDArray[np.bool_]) -> Points:
        """The points where ``keep`` is true (a boolean mask over these points)."""
        return Points(self.lon[keep], self.lat[keep], self.t[keep])

    def between(self, start: np.datetime64, end: np.datetime64) -> Points:
        """The points with ``start <= t < end``: a period is half-open, like a month."""
        return self.where((self.t >= start) & (self.t < end))

    def before(self, end: np.datetime64) -> Points:
        """The points strictly before ``end``: all a forecast for the period from ``end`` may see."""
        return self.where(self.t < end)


def month_label(month: str | np.datetime64) -> str:
    """``YYYY-MM``, the way months are written on the command line and in the output; anything
    that is not a month is refused."""
    if isinstance(month, np.datetime64):
        if np.isnat(month):
            raise HotspotError("not a month: NaT", code="hotspots_bad_month", month="NaT")
        return str(np.datetime_as_string(month, unit="M"))
    text = str(month).strip()
    if not (_MONTH.fullmatch(text) and 1 <= int(text[5:]) <= 12):
        raise HotspotError(f"not a month (YYYY-MM): {month!r}", code="hotspots_bad_month", month=text)
    return text


def month_start(month: str | np.datetime64) -> np.datetime64:
    """The first second of a calendar month given as ``YYYY-MM`` (or a datetime64 in it)."""
    return np.datetime64(f"{month_label(month)}-01T00:00:00", "s")


def month_end(month: str | np.datetime64) -> np.datetime64:
    """The first second after the month: periods are half-open."""
    return month_start(shift_month(month, 1))


def shift_month(month: str | np.datetime64, by: int) -> str:
    """The month ``by`` months later (earlier when negative), as ``YYYY-MM``."""
    label = month_label(month)
    year, number = divmod(int(label[:4]) * 12 + int(label[5:]) - 1 + by, 12)
    return f"{year:04d}-{number + 1:02d}"
