"""Blobs joined into tracks by position and a motion model (a tiny object has no box overlap to
go by): each track predicts where it will be next, with constant acceleration once it has the
points for it, and takes the nearest blob inside a gate that widens with its speed."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from jingwu.vision.throws.motion import Blob

#: A track not seen for this many frames has ended (an object can pass unseen in front of a
#: window of its own brightness for a few frames).
MAX_GAP = 10
#: Search radius for a track's second point (its speed is not known yet), in pixels, at 1080p.
FIRST_STEP_PX = 70.0
BASE_GATE_PX = 5.0
#: More live tracks than this (a storm of rain in front of the lens) and the newest are not kept.
MAX_TRACKS = 400


@dataclass(slots=True)
class Track:
    ident: int
    frames: list[int] = field(default_factory=list)
    us: list[float] = field(default_factory=list)
    vs: list[float] = field(default_factory=list)
    areas: list[int] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)

    def add(self, frame: int, blob: Blob) -> None:
        self.frames.append(frame)
        self.us.append(blob.u)
        self.vs.append(blob.v)
        self.areas.append(blob.area)
        self.sizes.append(max(blob.width, blob.height))

    def to_lowest(self) -> Track:
        """The track up to its lowest point in the picture: the fall (what the tracker took after
        it, a bounce or a blob picked up by mistake once the object was gone, is not)."""
        return self.head(int(np.argmax(self.vs)) + 1)

    def head(self, end: int) -> Track:
        """The track's first ``end`` points (all but the last few, with a negative ``end``)."""
        return Track(
            self.ident,
            self.frames[:end],
            self.us[:end],
            self.vs[:end],
            self.areas[:end],
            self.sizes[:end],
        )

    def without(self, points: tuple[int, ...]) -> Track:
        """The track with the points at these indices left out."""
        gone = set(points)
        keep = [i for i in range(len(self.frames)) if i not in gone]
        return Track(
            self.ident,
            [self.frames[i] for i in keep],
            [self.us[i] for i in keep],
            [self.vs[i] for i in keep],
            [self.areas[i] for i in keep],
            [self.sizes[i] for i in keep],
        )

    @property
    def last_frame(self) -> int:
        return self.frames[-1]

    def predict(self, frame: int) -> tuple[float, float, float]:
        """Where the track should be at ``frame``, and how far from there to look. Plain floats
        through three points (a rain storm makes hundreds of tracks a frame: no fitting here)."""
        n = len(self.frames)
        fc, uc, vc = self.frames[-1], self.us[-1], self.vs[-1]
        dt = frame - fc
        size = self.sizes[-1]
        if n == 1:
            return uc, vc, FIRST_STEP_PX
        if n < 4:
            step = max(fc - self.frames[-2], 1)
            du, dv = (uc - self.us[-2]) / step, (vc - self.vs[-2]) / step
            return uc + du * dt, vc + dv * dt, BASE_GATE_PX + 0.6 * math.hypot(du, dv) * dt + 0.5 * size
        k = min(n, 8)
        ta, tb = self.frames[-k] - fc, self.frames[-((k + 1) // 2)] - fc
        ua, va = self.us[-k], self.vs[-k]
        vb = self.vs[-((k + 1) // 2)]
        du = (uc - ua) / -ta
        # v(t) = vc + B t + A t² through (ta, va), (tb, vb), (0, vc): divided differences.
        slope_a, slope_b = (va - vc) / ta, (vb - vc) / tb
        accel = (slope_a - slope_b) / (ta - tb)
        dv = slope_b - accel * tb
        vp = vc + dv * dt + accel * dt * dt
        speed = math.hypot(du, dv + 2 * accel * dt)
        gate = BASE_GATE_PX + 0.35 * speed * dt + 0.5 * size + 2.0 * abs(accel) * dt * dt
        return uc + du * dt, vp, gate


class Tracker:
    """Joins each frame's blobs onto the live tracks; hands back the tracks that ended."""

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale  # pixel sizes in the constants are for a 1080-line picture
        self.live: list[Track] = []
        self._next = 1

    def push(self, frame: int, blobs: list[Blob]) -> list[Track]:
        ended = [t for t in self.live if frame - t.last_frame > MAX_GAP]
        self.live = [t for t in self.live if frame - t.last_frame <= MAX_GAP]
        taken = [False] * len(blobs)
        if self.live and blobs:
            positions = np.array([(b.u, b.v) for b in blobs])
            predicted = np.array([t.predict(frame) for t in self.live])
            gates = predicted[:, 2] * np.array([self.scale if len(t.frames) == 1 else 1.0 for t in self.live])
            distance = np.hypot(
                predicted[:, 0, None] - positions[None, :, 0], predicted[:, 1, None] - positions[None, :, 1]
            )
            ratio = distance / np.maximum(gates[:, None], 1e-6)
            rows, cols = np.nonzero(ratio <= 1.0)
            young = np.array([len(t.frames) < 3 for t in self.live])
            # Tracks with history choose first: a lone point's wide gate must not steal a blob
            # from a falling object's track.
            order = np.lexsort((ratio[rows, cols], young[rows]))
            used_tracks: set[int] = set()
            for ti, bi in zip(rows[order].tolist(), cols[order].tolist(), strict=True):
                if ti in used_tracks or taken[bi]:
                    continue
                self.live[ti].add(frame, blobs[bi])
                used_tracks.add(ti)
                taken[bi] = True
        # A fast object's streak can break in two: the piece beside a blob that an established
        # track took this frame is part of the same object, not the start of another track.
        held = np.array(
            [
                (t.us[-1], t.vs[-1], max(8.0, 1.5 * t.sizes[-1]))
                for t in self.live
                if t.last_frame == frame and len(t.frames) >= 3
            ]
        )
        free = [i for i, was in enumerate(taken) if not was]
        if len(held) and free:
            spots = np.array([(blobs[i].u, blobs[i].v) for i in free])
            near = np.hypot(spots[:, 0, None] - held[None, :, 0], spots[:, 1, None] - held[None, :, 1])
            for i in np.nonzero((near <= held[None, :, 2]).any(axis=1))[0].tolist():
                taken[free[i]] = True
        for index, blob in enumerate(blobs):
            if not taken[index]:
                track = Track(self._next)
                self._next += 1
                track.add(frame, blob)
                self.live.append(track)
        if len(self.live) > MAX_TRACKS:
            # A storm of rain: lone points that found no second are let go first, so that a
            # throw starting now still gets its track.
            # Then the shortest: a throw in progress has the longest track of all.
            lone = [t for t in self.live if len(t.frames) == 1 and t.last_frame < frame]
            drop = {t.ident for t in lone[: len(self.live) - MAX_TRACKS]}
            kept = [t for t in self.live if t.ident not in drop]
            if len(kept) > MAX_TRACKS:
                kept = sorted(kept, key=lambda t: -len(t.frames))[:MAX_TRACKS]
            self.live = kept
        return ended

    def flush(self) -> list[Track]:
        ended, self.live = self.live, []
        return ended


__all__ = ["Track", "Tracker"]
