"""The GPS filter: is a reported fix the unit's position, part of its track only, or wrong?

Pure: the caller hands in the fix, what is known of the unit's track (:class:`TrackState`) and
``now``; nothing here reads a clock or a store. The service (``service.positions``) keeps the
state in the ``units`` row (the last accepted fix) and the position history (recent suspects).

What real GPS gets wrong, and what is done about it (each a :class:`Reason`):

* **Nonsense coordinates** (NaN, infinities, outside WGS-84) and **null island** (exactly 0, 0,
  what many receivers send when they have no fix): rejected, and not even kept in the history,
  since there is no point to draw.
* **Invalid fixes**: the device itself says so (``valid=false``, or a negative accuracy, which
  is how iOS marks a fix whose coordinates are invalid): rejected, kept in the history for
  diagnosis.
* **Vague fixes**: an accuracy radius worse than ``max_accuracy_m`` (1 km, the same bound the
  terminal applies) is a guess from cell towers or an IP address, not a unit's place: rejected,
  kept.
* **Clock faults**: a fix more than ``max_future`` (60 s) ahead of the server would outrank
  every true fix after it: rejected, not kept (its time is untrustworthy, so there is no place
  for it in a time-ordered track). A fix older than the history's retention would be deleted at
  once: rejected as ``too_old``, not kept.
* **Duplicates**: a fix with the very time of the last accepted one (a retried upload) is
  rejected; the store drops any other exact repeat of a stored (unit, time).
* **Out of order**: a fix older than the last accepted one (a buffered upload, two devices on
  one unit) is accepted into the track (``late``) but never moves the unit back. A fix older
  than ``stale_after`` (12 h, the same bound as a late status change) is likewise history only
  (``stale``): the unit's "current" position must be current.
* **Impossible jumps**: the distance from the last accepted fix, less both accuracy radii (an
  unknown accuracy counts as ``assumed_accuracy_m``), over the time between them (at least
  ``min_gap_s``), must not exceed ``max_speed_mps`` (70 m/s = 252 km/h: faster than a patrol
  car in pursuit on an expressway; a drone or motorcycle is slower). Otherwise the fix is
  rejected and kept. The check runs both ways in time, so a late fix is held to it too: a unit
  seen at A at 10:00 cannot have been 50 km away at 09:59.
* **A wrong anchor**: if the last accepted fix was itself wrong, or the unit really moved with
  its device switched off (a car ferried, a phone handed to another crew), every true fix after
  it would look like a jump, forever. So when ``reanchor_after`` (3) consecutive rejected fixes
  agree with each other (each a plausible move from the one before), the newest is accepted as
  the unit's position (``reanchored``) and becomes the new anchor. One glitch never moves the
  unit; a device that consistently says it is elsewhere is believed within three reports.

Not reasons, just normalisation at the edge: a negative speed or heading is "unknown" (iOS
reports -1 for both when it has no value), as is an accuracy of exactly 0 (Android's value when
it has none); a heading of 360° or more is wrapped; a battery level outside 0..100 is dropped. A
good position is never refused for a bad auxiliary value.

A dispatcher placing a unit by hand (``manual``) is a deliberate correction: it is checked for
validity and time, never for jumps, and becomes the new anchor.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from jingwu.domain.geo import haversine_deg_m, haversine_deg_m_many


class Verdict(StrEnum):
    CURRENT = "current"  # accepted: the unit's position now (moves it on the map and the board)
    HISTORY = "history"  # accepted into the track only (late or stale); never moves the unit
    REJECTED = "rejected"  # not a position of the unit; never drawn as one


class Reason(StrEnum):
    # Rejections.
    INVALID_COORDINATES = "invalid_coordinates"
    NULL_ISLAND = "null_island"
    INVALID_FIX = "invalid_fix"
    INACCURATE = "inaccurate"
    FUTURE = "future"
    TOO_OLD = "too_old"
    DUPLICATE = "duplicate"
    IMPOSSIBLE_JUMP = "impossible_jump"
    # Accepted, with a remark.
    LATE = "late"
    STALE = "stale"
    REANCHORED = "reanchored"


# Rejected fixes that are kept in the history, flagged: they have a real place and time, and a
# device that keeps sending them is worth diagnosing (and the jump suspects are needed to
# re-anchor). The others have no trustworthy place or time, or would be deleted at once.
KEPT_REJECTIONS = frozenset({Reason.INVALID_FIX, Reason.INACCURATE, Reason.IMPOSSIBLE_JUMP})


class Fix(NamedTuple):
    """One reported position, in SI units. ``ts`` is timezone-aware. (A named tuple, as the
    filter's other per-fix records below: a frozen dataclass took three times as long to make.)"""

    ts: datetime
    lat: float
    lon: float
    speed: float | None = None  # metres per second
    heading: float | None = None  # degrees clockwise from north, 0..360
    altitude: float | None = None  # metres
    accuracy: float | None = None  # metres: radius of the horizontal uncertainty
    battery: float | None = None  # percent
    valid: bool = True  # the device's own opinion of the fix


@dataclass(frozen=True, slots=True)
class GpsRules:
    max_future: timedelta = timedelta(seconds=60)
    max_age: timedelta = timedelta(days=30)  # the history's retention: older fixes are not kept
    stale_after: timedelta = timedelta(hours=12)
    max_accuracy_m: float = 1_000.0
    max_speed_mps: float = 70.0
    assumed_accuracy_m: float = 25.0
    min_gap_s: float = 1.0
    reanchor_after: int = 3


class TrackState(NamedTuple):
    """What the filter knows of a unit: its last accepted (current) fix, the anchor, and the
    rejected jumps reported after it (oldest first, only the last ``reanchor_after - 1``)."""

    anchor: Fix | None = None
    suspects: tuple[Fix, ...] = ()


class Judgement(NamedTuple):
    fix: Fix  # normalised
    verdict: Verdict
    reason: Reason | None = None

    @property
    def moves_unit(self) -> bool:
        return self.verdict is Verdict.CURRENT

    @property
    def kept(self) -> bool:
        """Whether the fix belongs in the position history."""
        return self.verdict is not Verdict.REJECTED or self.reason in KEPT_REJECTIONS


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _within(value: float | None, low: float, high: float = math.inf) -> float | None:
    """The value if it is a finite number in low..high, else None (unknown)."""
    return value if value is not None and math.isfinite(value) and low <= value <= high else None


def normalise(fix: Fix) -> Fix:
    """Unknown auxiliary values as None (see the module doc); coordinates and time untouched."""
    heading = _within(fix.heading, 0.0)
    if heading is not None:
        heading %= 360.0
    accuracy = fix.accuracy if _finite(fix.accuracy) and fix.accuracy != 0 else None
    speed = _within(fix.speed, 0.0)
    altitude = _within(fix.altitude, -math.inf)
    battery = _within(fix.battery, 0.0, 100.0)
    if (speed, heading, accuracy, altitude, battery) == (
        fix.speed,
        fix.heading,
        fix.accuracy,
        fix.altitude,
        fix.battery,
    ):
        return fix  # the usual case: nothing to mend, nothing to copy
    return fix._replace(speed=speed, heading=heading, accuracy=accuracy, altitude=altitude, battery=battery)


def distance_m(a: Fix, b: Fix) -> float:
    """Great-circle distance between two (valid) fixes, in metres."""
    return haversine_deg_m(a.lat, a.lon, b.lat, b.lon)


def implied_speed_mps(a: Fix, b: Fix, rules: GpsRules) -> float:
    """The least speed that gets a unit from ``a`` to ``b`` (either order in time), giving both
    fixes the benefit of their accuracy radii and never dividing by less than ``min_gap_s``."""
    assumed = rules.assumed_accuracy_m
    slack = (assumed if a.accuracy is None else a.accuracy) + (assumed if b.accuracy is None else b.accuracy)
    gap_s = max(abs((b.ts - a.ts).total_seconds()), rules.min_gap_s)
    return max(0.0, distance_m(a, b) - slack) / gap_s


def plausible_move(a: Fix, b: Fix, rules: GpsRules) -> bool:
    return implied_speed_mps(a, b, rules) <= rules.max_speed_mps


def _invalid_reason(fix: Fix, *, now: datetime, rules: GpsRules) -> Reason | None:
    """Faults of the fix on its own (no track needed)."""
    if not (
        _finite(fix.lat) and _finite(fix.lon) and -90.0 <= fix.lat <= 90.0 and -180.0 <= fix.lon <= 180.0
    ):
        return Reason.INVALID_COORDINATES
    if fix.lat == 0.0 and fix.lon == 0.0:
        return Reason.NULL_ISLAND
    if not fix.valid or (fix.accuracy is not None and fix.accuracy < 0):
        return Reason.INVALID_FIX
    if fix.ts > now + rules.max_future:
        return Reason.FUTURE
    if fix.ts < now - rules.max_age:
        return Reason.TOO_OLD
    if fix.accuracy is not None and fix.accuracy > rules.max_accuracy_m:
        return Reason.INACCURATE
    return None


def _reanchors(suspects: tuple[Fix, ...], fix: Fix, rules: GpsRules) -> bool:
    """Whether ``fix`` and the suspects just before it form a chain of ``reanchor_after``
    mutually plausible fixes (each a plausible move from the one before)."""
    chain = 1
    newer = fix
    for older in reversed([s for s in suspects if s.ts < fix.ts]):
        if not plausible_move(older, newer, rules):
            break
        chain += 1
        newer = older
    return chain >= rules.reanchor_after


def judge(
    state: TrackState,
    fix: Fix,
    *,
    now: datetime,
    rules: GpsRules = GpsRules(),
    manual: bool = False,
) -> tuple[Judgement, TrackState]:
    """Judge one fix against the unit's track; returns the judgement and the track state to
    judge the unit's next fix against. Judge a unit's fixes oldest first."""
    fix = normalise(fix)
    invalid = _invalid_reason(fix, now=now, rules=rules)
    if invalid is not None:
        return Judgement(fix, Verdict.REJECTED, invalid), state
    anchor = state.anchor
    if anchor is not None and fix.ts == anchor.ts:
        return Judgement(fix, Verdict.REJECTED, Reason.DUPLICATE), state
    late = anchor is not None and fix.ts < anchor.ts
    stale = fix.ts < now - rules.stale_after
    jump = not manual and anchor is not None and not plausible_move(anchor, fix, rules)
    if jump:
        if late or stale or not _reanchors(state.suspects, fix, rules):
            suspects = state.suspects
            if not late and not stale:
                suspects = (*suspects, fix)[-(rules.reanchor_after - 1) :] if rules.reanchor_after > 1 else ()
            return Judgement(fix, Verdict.REJECTED, Reason.IMPOSSIBLE_JUMP), state._replace(suspects=suspects)
        return Judgement(fix, Verdict.CURRENT, Reason.REANCHORED), TrackState(anchor=fix)
    if late:
        return Judgement(fix, Verdict.HISTORY, Reason.LATE), state
    if stale:
        return Judgement(fix, Verdict.HISTORY, Reason.STALE), state
    return Judgement(fix, Verdict.CURRENT), TrackState(anchor=fix)


# ---------------------------------------------------------------- a batch at once

#: How far inside each of the filter's limits a fix must lie for the batch check below to vouch
#: for it: times to the millisecond, implied speeds to a thousandth. Floating point differs in
#: the last digits between numpy and the scalar rules; nothing that close to a limit is decided
#: here.
_TIME_MARGIN_S = 1e-3
_SPEED_MARGIN = 0.999


_FIELD = {name: i for i, name in enumerate(Fix._fields)}


def _values(fixes: Sequence[Fix | None], name: str) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """One field of every fix as floats (None and a missing fix as NaN) and where it is None."""
    field = _FIELD[name]
    raw = [None if f is None else f[field] for f in fixes]
    values = np.array(raw, dtype=float)
    unknown = np.isnan(values)
    if raw.count(None) != np.count_nonzero(unknown):  # a NaN reported as such, not a None
        unknown = np.array([v is None for v in raw], dtype=bool)
    return values, unknown


def _seconds(fixes: Sequence[Fix | None]) -> NDArray[np.float64]:
    """Each fix's time as POSIX seconds (NaN for a missing fix); distinct times once each, as a
    gateway's fixes mostly share theirs."""
    stamps: dict[datetime, float] = {}
    return np.array(
        [
            math.nan if f is None else stamps.get(f.ts) or stamps.setdefault(f.ts, f.ts.timestamp())
            for f in fixes
        ],
        dtype=float,
    )


def plainly_current(
    anchors: Sequence[Fix | None],
    fixes: Sequence[Fix],
    *,
    now: datetime,
    rules: GpsRules = GpsRules(),
    manual: bool = False,
) -> NDArray[np.bool_]:
    """Which fixes :func:`judge` certainly accepts as is: the unit's current position, without a
    remark, nothing to normalise, each judged against its unit's anchor (``anchors[i]`` for
    ``fixes[i]``; None: a unit never placed). For a gateway's batch, in numpy: almost every
    fix of a working fleet is one of these, and judging them one by one cost more than storing
    them. True means exactly what ``judge`` would say (then the unit's next state is the fix as
    its anchor); False means "ask ``judge``": anything out of the ordinary, or near one of the
    limits, is left to it."""
    n = len(fixes)
    if n == 0:
        return np.zeros(0, dtype=bool)
    lat, _ = _values(fixes, "lat")
    lon, _ = _values(fixes, "lon")
    speed, no_speed = _values(fixes, "speed")
    heading, no_heading = _values(fixes, "heading")
    altitude, no_altitude = _values(fixes, "altitude")
    accuracy, no_accuracy = _values(fixes, "accuracy")
    battery, no_battery = _values(fixes, "battery")
    valid = np.array([f.valid is True for f in fixes], dtype=bool)
    t = _seconds(fixes)
    t_now = now.timestamp()
    with np.errstate(invalid="ignore"):
        ok = (
            valid
            & np.isfinite(lat)
            & np.isfinite(lon)
            & (np.abs(lat) <= 90.0)
            & (np.abs(lon) <= 180.0)
            & ((lat != 0.0) | (lon != 0.0))
            # normalise() leaves these as they are, and none is a rejection:
            & (no_speed | (np.isfinite(speed) & (speed >= 0.0)))
            & (no_heading | (np.isfinite(heading) & (heading >= 0.0) & (heading < 360.0)))
            & (no_altitude | np.isfinite(altitude))
            & (no_battery | (np.isfinite(battery) & (battery >= 0.0) & (battery <= 100.0)))
            & (no_accuracy | (np.isfinite(accuracy) & (accuracy > 0.0) & (accuracy <= rules.max_accuracy_m)))
            # Neither from the future nor too old, nor stale:
            & (t <= t_now + rules.max_future.total_seconds() - _TIME_MARGIN_S)
            & (t >= t_now - min(rules.max_age, rules.stale_after).total_seconds() + _TIME_MARGIN_S)
        )
        a_lat, no_anchor = _values(anchors, "lat")
        a_lon, _ = _values(anchors, "lon")
        a_accuracy, a_no_accuracy = _values(anchors, "accuracy")
        a_t = _seconds(anchors)
        # After the anchor (neither a duplicate nor late), and a plausible move from it:
        gap = t - a_t
        after = gap >= _TIME_MARGIN_S
        if manual:
            plausible = np.ones(n, dtype=bool)
        else:
            assumed = rules.assumed_accuracy_m
            slack = np.where(a_no_accuracy, assumed, a_accuracy) + np.where(no_accuracy, assumed, accuracy)
            distance = haversine_deg_m_many(a_lat, a_lon, lat, lon)
            implied = np.maximum(0.0, distance - slack) / np.maximum(gap, rules.min_gap_s)
            plausible = (implied <= rules.max_speed_mps * _SPEED_MARGIN) & (
                a_no_accuracy | np.isfinite(a_accuracy)
            )
        ok &= no_anchor | (after & plausible)
    return np.asarray(ok, dtype=bool)


__all__ = [
    "KEPT_REJECTIONS",
    "Fix",
    "GpsRules",
    "Judgement",
    "Reason",
    "TrackState",
    "Verdict",
    "distance_m",
    "implied_speed_mps",
    "judge",
    "normalise",
    "plainly_current",
    "plausible_move",
]
