"""The thrown-object detector for one camera: frames in, throws out, each with the floor and
window column it came from. It holds no clock and does no I/O: a file scan and a live camera
drive it the same way (:mod:`.scan`, the video worker)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from jingwu.vision.throws.calibration import FacadeCalibration, FacadeGeometry
from jingwu.vision.throws.motion import MotionFinder
from jingwu.vision.throws.physics import Verdict, judge
from jingwu.vision.throws.tracks import Track, Tracker

#: Two throws reported within this long of each other from near the same place are one (a
#: track broken in two by a window of the object's own colour).
SAME_THROW_S = 0.8


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
    reported: list[ThrowEvent] = field(default_factory=list)
    rejected: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 1 <= self.fps <= 240:
            raise ValueError(f"a frame rate of {self.fps} cannot be a camera's")
        self.geometry = FacadeGeometry.build(self.calibration, self.width, self.height)
        self.motion = MotionFinder(self.geometry.watch_mask(), self.geometry.anchor_box())
        self.tracker = Tracker(scale=self.height / 1080)

    def push(self, gray: np.ndarray, frame: int) -> list[ThrowEvent]:
        """This frame looked at; the throws whose tracks ended with it."""
        if gray.shape != (self.height, self.width):
            raise ValueError(
                f"a {gray.shape[1]}×{gray.shape[0]} frame from a {self.width}×{self.height} camera"
            )
        blobs = self.motion.push(gray)
        return self._judge(self.tracker.push(frame, blobs))

    def finish(self) -> list[ThrowEvent]:
        """The stream ended: the tracks still open are judged."""
        return self._judge(self.tracker.flush())

    def _judge(self, tracks: list[Track]) -> list[ThrowEvent]:
        events = []
        for track in sorted(tracks, key=lambda t: t.frames[0]):
            verdict = judge(track, self.geometry, self.fps)
            if not verdict.is_throw:
                key = verdict.reason.split(" ")[0] if len(track.frames) >= 6 else "short"
                self.rejected[key] = self.rejected.get(key, 0) + 1
                continue
            event = self._event(track, verdict)
            if self._same_as_reported(event):
                continue
            self.reported.append(event)
            events.append(event)
        return events

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


__all__ = ["ThrowDetector", "ThrowEvent"]
