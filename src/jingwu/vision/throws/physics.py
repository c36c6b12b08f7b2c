"""Is a track a thrown object, and where did it come from?

The track is carried onto the plane of the wall (or of the balconies' fronts) through the
facade calibration, so that its height is in metres and gravity can be asked about: a falling
object's height fits y(t) = a t² + b t + c with a near −g/2 (less for a bag or paper held back
by the air; a bag at its terminal speed falls steadily), it falls two floors in view (one when
the acceleration is plainly gravity's), it only goes down after its top, and it does not swing
sideways. Birds (rising, gliding, flapping), leaves and paper (fluttering, too slow), rain and
snow (no acceleration, or too brief), insects at the lens and lights fail one test or another.

Launch: the flight fitted in three dimensions through the camera (:mod:`.trajectory`), held to
the first point when the object was seen leaving its window, followed back otherwise."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from jingwu.vision.throws.calibration import FacadeGeometry
from jingwu.vision.throws.tracks import Track
from jingwu.vision.throws.trajectory import BOUNDS, fit_flight

G = 9.81
MIN_POINTS = 10
MIN_DURATION_S = 0.24
#: Fitted downward acceleration, as a share of g, that a thrown object may show: drag holds a bag
#: back; an object moving towards the camera as it falls is seen falling a little faster.
GRAVITY_SHARE = (0.32, 1.7)
MIN_DROP_FLOORS = 2.0
MIN_DROP_CLEAR_FLOORS = 1.0
CLEAR_GRAVITY = (0.6, 1.4)
#: An object already at its terminal speed: no acceleration left, but at least this fast (m/s).
MIN_TERMINAL_SPEED = 6.0
TERMINAL_SHARE_MIN = -0.15
MIN_STEADY_S = 1.0
#: Launch speeds upward or downward beyond these are not a hand's throw (a dive, a rain streak).
MAX_UPWARD_SPEED = 6.0
#: Outward speed of a hand's throw at most (m/s; the launch fit's bound): seen from below, an
#: object coming nearer the camera looks as if it rose on the wall's plane.
MAX_OUTWARD_SPEED = BOUNDS["vz"][1]
#: Outward speeds (m/s) of the planes a track is read on (see _on_planes).
OUTWARD_GUESSES = (0.0, 1.5, 3.0)
#: A moving plane is taken over the launch's only when the parabola's residual there is this
#: much smaller, and by more than a track's jitter (metres).
PLANE_GAIN = 0.7
PLANE_GAIN_M = 0.05
MAX_SIDEWAYS_SPEED = 8.0
#: A fall first seen faster than this (m/s) has lost its start: it is followed back.
LATE_SPEED = 2.5
#: A window or a balcony railing: how far in front of the wall's plane a throw starts.
WINDOW_DEPTH_M = 0.2


@dataclass(frozen=True, slots=True)
class Verdict:
    """A track judged: a throw (with its launch) or not, and why not."""

    is_throw: bool
    reason: str
    #: Turned down only for being too short or too small a fall: it may be a piece of one seen in
    #: pieces (:mod:`.stitch`).
    partial: bool = False
    floor: int | None = None
    column: int | None = None
    floor_uncertainty: float = 0.0
    confidence: float = 0.0
    gravity_share: float = 0.0
    launch_height_m: float = 0.0
    launch_px: tuple[float, float] = (0.0, 0.0)
    #: Points of the fall (up to its lowest) that lie off the fitted flight: not the object.
    outliers: tuple[int, ...] = ()


def _fit(t: np.ndarray, y: np.ndarray, degree: int) -> tuple[np.ndarray, float]:
    coefficients = np.polyfit(t, y, degree)
    residual = float(np.sqrt(np.mean((np.polyval(coefficients, t) - y) ** 2)))
    return coefficients, residual


def _trimmed(track: Track) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The track's frames and pixels up to its lowest point (a bounce or a roll on the ground
    after that is not part of the fall)."""
    fall = track.to_lowest()
    return np.asarray(fall.frames, dtype=np.float64), np.asarray(fall.us), np.asarray(fall.vs)


def judge(track: Track, geometry: FacadeGeometry, fps: float) -> Verdict:
    """Whether ``track`` is a throw from this facade, and if so from which floor and column."""
    fall = _fall(track, geometry, fps)
    if isinstance(fall, Verdict):
        return fall
    # A fall must be shown by its points, not made by its last: a track that drifted sideways
    # and then took one blob far below it (a tracker's leap in a crowd of snow or of cloud
    # edges) is no fall once that blob is left out; a true fall is still one, or too short one.
    rest = _fall(track.to_lowest().head(-1), geometry, fps)
    if isinstance(rest, Verdict) and not rest.partial:
        return Verdict(False, "leap: the fall rests on its last point", gravity_share=fall.share)
    return _launch(track, geometry, fps, fall)


@dataclass(frozen=True, slots=True)
class _Fall:
    """A track that passed the gates: its times (s) and its path on the plane of the windows (m),
    with the fitted share of g."""

    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    share: float


def _fall(track: Track, geometry: FacadeGeometry, fps: float) -> _Fall | Verdict:
    """The track as a fall, or the verdict of the first gate it fails."""
    frames, us, vs = _trimmed(track)
    if len(frames) < MIN_POINTS:
        return Verdict(False, "short", partial=True)
    t = (frames - frames[0]) / fps
    if t[-1] < MIN_DURATION_S:
        return Verdict(False, "brief", partial=True)
    cal = geometry.calibration
    launch_depth = cal.protrusion_depth_m if cal.protrusion_depth_m > 0 else WINDOW_DEPTH_M
    paths = _on_planes(geometry, np.column_stack([us, vs]), t, launch_depth)
    if paths is None:
        return Verdict(False, "off the wall")
    # How far it fell is read where it started, on the plane of the windows: on a plane moving
    # out towards the camera even a light that does not move would seem to fall.
    (_, _, still, _), (x, y, (a, b, c), residual) = paths
    share = -2 * a / G
    drop = float(np.polyval(still, t[0]) - np.polyval(still, t[-1]))
    fh = cal.floor_height_m
    # Two floors, as a rule; one when the acceleration is plainly gravity's: a throw from the
    # third floor leaves the picture after a floor and a half, one near the end of a clip too.
    plainly_falling = CLEAR_GRAVITY[0] <= share <= CLEAR_GRAVITY[1]
    if drop < (MIN_DROP_CLEAR_FLOORS if plainly_falling else MIN_DROP_FLOORS) * fh:
        return Verdict(
            False,
            "fell less than two floors",
            partial=GRAVITY_SHARE[0] <= share <= GRAVITY_SHARE[1],
            gravity_share=share,
        )
    descent = drop / max(float(t[-1] - t[0]), 1e-6)
    # Rain falls steadily too, but crosses the picture in a few frames: a steady fall must be
    # followed for a second to count.
    steady = share >= TERMINAL_SHARE_MIN and descent >= MIN_TERMINAL_SPEED and t[-1] >= MIN_STEADY_S
    if not (GRAVITY_SHARE[0] <= share <= GRAVITY_SHARE[1] or steady):
        # A bag or a box of rubbish reaches its terminal speed within a second or two and then
        # falls steadily: that is a fall too, when fast (paper and leaves drift down slowly).
        return Verdict(False, f"acceleration {share:.2f} g is not a fall", gravity_share=share)
    if b > MAX_UPWARD_SPEED + MAX_OUTWARD_SPEED * _apparent_rise(geometry, float(y[0]), launch_depth):
        return Verdict(False, "rose too fast for a throw", gravity_share=share)
    tolerance = max(0.3, 0.03 * drop)
    if residual > tolerance:
        return Verdict(False, f"height wanders {residual:.2f} m off a fall", gravity_share=share)
    top = int(np.argmax(np.polyval((a, b, c), t)))
    rises = np.diff(y[top:]) > 2.5 * tolerance
    if np.count_nonzero(rises) > 0.2 * max(len(rises), 1):
        return Verdict(False, "rises again while falling", gravity_share=share)
    (ax, bx, _cx), side_residual = _fit(t, x, 2)
    if side_residual > max(0.35, 1.5 * residual) or abs(2 * ax) > 0.45 * G:
        return Verdict(False, "swings sideways (flutter or flight)", gravity_share=share)
    if abs(bx) > MAX_SIDEWAYS_SPEED or (steady and abs(bx) > 0.5 * descent):
        return Verdict(False, "moves sideways too fast", gravity_share=share)
    return _Fall(t, x, y, share)


def _apparent_rise(geometry: FacadeGeometry, height_m: float, depth_m: float) -> float:
    """How fast (m/s on the plane ``depth_m`` in front of the wall) an object at ``height_m``
    seems to rise for each m/s it moves out towards the camera, at the same height: its ray meets
    the plane higher up, the more so the higher it is and the nearer the camera stands (a
    camera 18 m out from a tower sees a throw from 38 m rise 1.9 m/s for each m/s outward)."""
    camera_y, camera_z = float(geometry.centre[1]), float(geometry.centre[2])
    return max(height_m - camera_y, 0.0) / max(camera_z - depth_m, 0.5)


_Path = tuple[np.ndarray, np.ndarray, np.ndarray, float]


def _on_planes(
    geometry: FacadeGeometry, pixels: np.ndarray, t: np.ndarray, launch_depth: float
) -> tuple[_Path, _Path] | None:
    """The track read on the plane of its launch, and on the plane parallel to the wall, moving
    out from there at one of a few speeds, where its height fits a parabola best (the launch's
    own unless another fits plainly better): each as (x, y, the parabola, its residual). Seen
    from close below, an object thrown outward soon leaves the plane of the windows, and read
    there its height seems to rise and bends away from any parabola; birds and leaves fit none."""
    paths: list[_Path] = []
    for outward in OUTWARD_GUESSES:
        wall = geometry.to_wall_many(pixels, launch_depth + outward * t)
        if not np.all(np.isfinite(wall)):
            if not paths:
                return None
            continue
        coefficients, residual = _fit(t, wall[:, 1], 2)
        paths.append((wall[:, 0], wall[:, 1], coefficients, residual))
    still = paths[0]
    best = min(paths, key=lambda p: p[3])
    plainly = best[3] < PLANE_GAIN * still[3] and still[3] - best[3] > PLANE_GAIN_M
    return still, best if plainly else still


def _launch(track: Track, geometry: FacadeGeometry, fps: float, fall: _Fall) -> Verdict:
    """Where the throw started: the flight fitted in metres through the camera (see
    :mod:`.trajectory`) and taken back to the plane of the windows."""
    cal = geometry.calibration
    depth = cal.protrusion_depth_m if cal.protrusion_depth_m > 0 else WINDOW_DEPTH_M
    t, x, y, share = fall.t, fall.x, fall.y, fall.share
    _, us, vs = _trimmed(track)
    early = max(MIN_POINTS, math.ceil(0.5 * len(t)))
    (_a, b, _c) = np.polyfit(t[:early], y[:early], 2)
    size = float(np.median(track.sizes[: len(t)]))
    # A long fall strays from any one drag (a bag tumbles, and its drag changes as it turns): the
    # allowance grows with the distance travelled in the picture.
    extent = float(np.hypot(us.max() - us.min(), vs.max() - vs.min()))
    tolerance_px = max(1.6, 0.3 * min(size, 12.0), 0.004 * extent)
    flight = fit_flight(
        geometry,
        t,
        us,
        vs,
        depth,
        (float(x[0]), float(y[0]), float(b)),
        pixel_sigma=max(0.7, 0.15 * size),
        seen_at_launch=b > -LATE_SPEED,
        acceptable_px=tolerance_px,
    )
    if flight is None:
        return Verdict(False, "no throw fits", gravity_share=share)
    if flight.rms_px > tolerance_px:
        return Verdict(False, f"no throw fits within {flight.rms_px:.1f} px", gravity_share=share)
    s = flight.x / geometry.wall_width_m
    floor = geometry.floor_at(flight.y)
    column = geometry.column_at(s)
    if floor is None or column is None:
        # Launched from no window of this facade: a bird or an insect whose path happened to fit,
        # or something thrown from another building, which this calibration cannot place.
        return Verdict(False, "launched off the facade", gravity_share=share)
    sigma_m = math.sqrt(flight.sigma_y**2 + (0.25 * flight.lag * cal.floor_height_m) ** 2 + 0.15**2)
    uncertainty = round(sigma_m / cal.floor_height_m, 2)
    points = len(t)
    # An unsure floor lowers the confidence, but only so far: an object seen falling steadily,
    # its start unseen, is still a throw (its floor_uncertainty says how little is known).
    confidence = (
        min(1.0, points / 12)
        * math.exp(-flight.rms_px / (2 * tolerance_px))
        * math.exp(-min(max(uncertainty - 0.3, 0.0), 1.0))
        * (1.0 if flight.terminal_speed >= 8 else 0.7)
    )
    u0, v0 = geometry.to_image(s, flight.y, depth)
    return Verdict(
        True,
        "falls under gravity",
        floor=floor,
        column=column,
        floor_uncertainty=uncertainty,
        confidence=round(min(max(confidence, 0.05), 0.99), 2),
        gravity_share=round(share, 2),
        launch_height_m=round(flight.y, 2),
        launch_px=(u0, v0),
        outliers=flight.outliers,
    )


__all__ = ["Verdict", "judge"]
