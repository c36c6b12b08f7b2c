"""The thrown-object detector for one camera: frames in, throws out, each with the floor and
window column it came from. It holds no clock and does no I/O: a file scan and a live camera
drive it the same way (:mod:`.scan`, the video worker)."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from jingwu.vision.throws.calibration import FacadeCalibration, FacadeGeometry
from jingwu.vision.throws.motion import MotionFinder
from jingwu.vision.throws.physics import GRAVITY_SHARE, Verdict, judge
from jingwu.vision.throws.stitch import Stitcher, joined
from jingwu.vision.throws.tracks import Track, Tracker

#: Two throws reported within this long of each other from near the same place are one (a
#: track broken in two by a window of the object's own colour).
SAME_THROW_S = 0.8
#: A fall that fits but cannot be placed (its launch uncertain by floors, its fit loose) raises no
#: alarm: at night, snow and rain near the lens make such fits.
MIN_CONFIDENCE = 0.25
#: Earlier pieces tried, at most, before a track that ended (the nearest in time first).
MAX_JOINS = 6
#: Falling weather: this many other tracks, each followed for a few frames going down the picture
#: at least this fast (pixels a frame at 1080 lines), passed within this distance of a track while
#: it was seen. In snow a tracker can leap from one flake to the next, so a fall there must be
#: told from the flakes by more points, followed on half its frames, or by a drop longer than
#: their leaps; and snow itself falls steadily, so a steady fall there (no gravity's pull) must be
#: followed, and a long way down the picture (a bag of rubbish falling through the rain).
CROWD_RADIUS_PX = 60.0
CROWD_COUNT = 3
CROWD_MIN_POINTS = 4
CROWD_DOWN_PX = 0.4
CROWD_MIN_FILL = 0.5
CROWD_PLAIN_POINTS = 15
CROWD_PLAIN_DROP_PX = 80.0
CROWD_STEADY_DROP_PX = 160.0
#: Tracks that ended are kept this long for telling a crowd (a fall in view lasts a few seconds),
#: and at most this many (the newest).
CROWD_MEMORY_S = 4.0
CROWD_MAX_TRACKS = 2000


@dataclass(frozen=True, slots=True)
class ThrowEvent:
    """One throw: the first frame the detector saw it in, where it came from, and its track."""

    frame: int
    t_s: float
    floor: int | None
    column: int | None
    floor_uncertainty: float
    confidence: float
    track: tuple[tuple[int, float, float], ...]
    last_frame: int
    gravity_share: float = 0.0
    launch_height_m: float = 0.0
    launch_px: tuple[float, float] = (0.0, 0.0)

    def to_json(self) -> dict[str, Any]:
        return {
            "frame": self.frame,
            "t_s": round(self.t_s, 3),
            "floor": self.floor,
            "column": self.column,
            "floor_uncertainty": self.floor_uncertainty,
            "confidence": self.confidence,
            "track": [[f, round(u, 1), round(v, 1)] for f, u, v in self.track],
        }


@dataclass(slots=True)
class ThrowDetector:
    """Fed one camera's frames in order as grey pictures (the Y plane of the decoded video)."""

    calibration: FacadeCalibration
    width: int
    height: int
    fps: float
    geometry: FacadeGeometry = field(init=False)
    motion: MotionFinder = field(init=False)
    tracker: Tracker = field(init=False)
    stitcher: Stitcher = field(init=False)
    ended: deque[Track] = field(init=False)
    reported: list[ThrowEvent] = field(default_factory=list)
    rejected: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 1 <= self.fps <= 240:
            raise ValueError(f"a frame rate of {self.fps} cannot be a camera's")
        self.geometry = FacadeGeometry.build(self.calibration, self.width, self.height)
        self.motion = MotionFinder(
            self.geometry.watch_mask(), self.geometry.anchor_box(), wall=self.geometry.wall_mask()
        )
        self.tracker = Tracker(scale=self.height / 1080)
        self.stitcher = Stitcher(self.fps, scale=self.height / 1080)
        self.ended = deque(maxlen=CROWD_MAX_TRACKS)

    def push(self, gray: np.ndarray, frame: int) -> list[ThrowEvent]:
        """This frame looked at; the throws whose tracks ended with it."""
        if gray.shape != (self.height, self.width):
            raise ValueError(
                f"a {gray.shape[1]}×{gray.shape[0]} frame from a {self.width}×{self.height} camera"
            )
        blobs = self.motion.push(gray)
        ended = self.tracker.push(frame, blobs)
        self.ended.extend(t for t in ended if len(t.frames) >= CROWD_MIN_POINTS)
        while self.ended and frame - self.ended[0].last_frame > CROWD_MEMORY_S * self.fps:
            self.ended.popleft()
        if frame % 25 == 0:
            self.stitcher.forget(min((t.frames[0] for t in self.tracker.live), default=frame))
        return self._judge(ended) if ended else []

    def finish(self) -> list[ThrowEvent]:
        """The stream ended: the tracks still open are judged."""
        ended = self.tracker.flush()
        self.ended.extend(t for t in ended if len(t.frames) >= CROWD_MIN_POINTS)
        return self._judge(ended)

    def _judge(self, tracks: list[Track]) -> list[ThrowEvent]:
        events = []
        for track in sorted(tracks, key=lambda t: t.frames[0]):
            whole, verdict = self._verdict(track)
            if not verdict.is_throw:
                key = verdict.reason.split(" ")[0] if len(track.frames) >= 6 else "short"
                self.rejected[key] = self.rejected.get(key, 0) + 1
                continue
            if verdict.confidence < MIN_CONFIDENCE:
                self.rejected["unsure"] = self.rejected.get("unsure", 0) + 1
                continue
            # Points off the flight (a stray blob at its start, a splash at its end) were not it.
            fall = whole.to_lowest().without(verdict.outliers)
            if self._crowded(whole) and not _plain_in_a_crowd(fall, verdict, self.height / 1080):
                self.rejected["crowd"] = self.rejected.get("crowd", 0) + 1
                continue
            event = self._event(fall, verdict)
            if self._same_as_reported(event):
                continue
            self.reported.append(event)
            events.append(event)
        return events

    def _verdict(self, track: Track) -> tuple[Track, Verdict]:
        """The track judged joined to an earlier piece of the same fall where one fits (the
        longer track places the launch better), else on its own. A track turned down as too short
        a fall is kept as a piece, and so is its join with the nearest earlier piece (a fall seen
        in three pieces); one turned down for how it moves is not part of a fall."""
        earlier = self.stitcher.earlier_pieces(track)[:MAX_JOINS]
        fall = track.to_lowest() if earlier else track
        nearest: tuple[Track, Verdict] | None = None
        for piece in earlier:
            whole = joined(piece, fall, track.ident)
            verdict = judge(whole, self.geometry, self.fps)
            if verdict.is_throw:
                self.stitcher.used_in(whole)
                return whole, verdict
            nearest = nearest or (whole, verdict)
        verdict = judge(track, self.geometry, self.fps)
        if not verdict.is_throw:
            if verdict.partial:
                self.stitcher.keep(track)
            if nearest is not None and nearest[1].partial:
                self.stitcher.keep(nearest[0])
        return track, verdict

    def _crowded(self, track: Track) -> bool:
        """Whether other things fell beside the track while it was seen (see CROWD_COUNT)."""
        scale = self.height / 1080
        first, last = track.frames[0], track.frames[-1]
        frames = np.asarray(track.frames)
        # A piece of this same fall, stitched into it, is not another thing beside it.
        own = set(zip(track.frames, track.us, track.vs, strict=True))
        count = 0
        for other in (*self.tracker.live, *self.ended):
            if other.ident == track.ident or len(other.frames) < CROWD_MIN_POINTS:
                continue
            if (other.frames[0], other.us[0], other.vs[0]) in own:
                continue
            if other.frames[-1] < first or other.frames[0] > last:
                continue
            span = other.frames[-1] - other.frames[0]
            if (other.vs[-1] - other.vs[0]) < CROWD_DOWN_PX * scale * span:
                continue
            # Where the track was at the other's frames, between its own points.
            at = [i for i, f in enumerate(other.frames) if first <= f <= last]
            if not at:
                continue
            when = np.asarray([other.frames[i] for i in at], dtype=np.float64)
            gap = np.hypot(
                np.interp(when, frames, track.us) - [other.us[i] for i in at],
                np.interp(when, frames, track.vs) - [other.vs[i] for i in at],
            )
            if float(gap.min()) <= CROWD_RADIUS_PX * scale:
                count += 1
                if count >= CROWD_COUNT:
                    return True
        return False

    def _event(self, track: Track, verdict: Verdict) -> ThrowEvent:
        return ThrowEvent(
            frame=track.frames[0],
            t_s=track.frames[0] / self.fps,
            floor=verdict.floor,
            column=verdict.column,
            floor_uncertainty=verdict.floor_uncertainty,
            confidence=verdict.confidence,
            track=tuple(zip(track.frames, track.us, track.vs, strict=True)),
            last_frame=track.last_frame,
            gravity_share=verdict.gravity_share,
            launch_height_m=verdict.launch_height_m,
            launch_px=verdict.launch_px,
        )

    def _same_as_reported(self, event: ThrowEvent) -> bool:
        """Whether ``event`` is a throw already reported: two tracks that followed the same
        object by turns (each taking its blob when the other missed it), or the piece of a track
        broken in two that starts where the other ended."""
        near_px = max(12.0, 0.012 * self.height)
        for earlier in self.reported[-5:]:
            first, last = earlier.track[0][0], earlier.track[-1][0]
            # Launched from the same place while the other was still falling: one object (a bag
            # split in two blobs, followed by two tracks by turns), or two thrown together, which
            # are one report from one window.
            if event.frame <= last and math.dist(event.launch_px, earlier.launch_px) < 0.04 * self.height:
                return True
            shared = [(f, u, v) for f, u, v in event.track if first <= f <= last]
            if len(shared) >= 3:
                # Where the earlier track was at each shared frame, between its own points.
                frames, us, vs = (np.asarray(c, dtype=np.float64) for c in zip(*earlier.track, strict=True))
                at = np.asarray([f for f, _, _ in shared], dtype=np.float64)
                gaps = np.hypot(
                    np.interp(at, frames, us) - [u for _, u, _ in shared],
                    np.interp(at, frames, vs) - [v for _, _, v in shared],
                )
                # Pieces of one streak lie up to a frame's travel apart.
                step = float(np.median(np.hypot(np.diff(us), np.diff(vs)) / np.maximum(np.diff(frames), 1)))
                if float(np.median(gaps)) < near_px + step:
                    return True
            gap = (event.frame - earlier.last_frame) / self.fps
            if -0.1 <= gap <= SAME_THROW_S:
                _, u, v = earlier.track[-1]
                _, u2, v2 = event.track[0]
                if abs(u2 - u) < 0.1 * self.width and v2 >= v - 0.02 * self.height:
                    return True
        return False


def _plain_in_a_crowd(fall: Track, verdict: Verdict, scale: float) -> bool:
    """Whether a fall seen in a crowd shows enough to be told from the crowd (see CROWD_COUNT)."""
    span = fall.frames[-1] - fall.frames[0] + 1
    followed = len(fall.frames) >= CROWD_PLAIN_POINTS and len(fall.frames) >= CROWD_MIN_FILL * span
    drop = max(fall.vs) - fall.vs[0]
    if GRAVITY_SHARE[0] <= verdict.gravity_share <= GRAVITY_SHARE[1]:
        return followed or drop >= CROWD_PLAIN_DROP_PX * scale
    # A steady fall is what the weather does: a bag at its terminal speed is told from a flake
    # near the lens only by being followed a long way down the picture.
    return followed and drop >= CROWD_STEADY_DROP_PX * scale


__all__ = ["ThrowDetector", "ThrowEvent"]
