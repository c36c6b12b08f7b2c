"""Blobs joined into tracks by position and a motion model (a tiny object has no box overlap to
go by): each track predicts where it will be next, with constant acceleration once it has the
points for it, and takes the nearest blob inside a gate that widens with its speed."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from jingwu.vision.throws.motion import Blob

#: A track not seen for this many frames has ended (an object can pass unseen in front of a
#: window of its own brightness for a few frames).
MAX_GAP = 6
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

    @property
    def last_frame(self) -> int:
        return self.frames[-1]

    def predict(self, frame: int) -> tuple[float, float, float]:
        """Where the track should be at ``frame``, and how far from there to look."""
        n = len(self.frames)
        if n == 1:
            return self.us[0], self.vs[0], FIRST_STEP_PX
        k = min(n, 8)
        f = np.asarray(self.frames[-k:], dtype=np.float64)
        u = np.asarray(self.us[-k:])
        v = np.asarray(self.vs[-k:])
        dt = frame - f[-1]
        if k >= 4:
            pu = np.polyfit(f - f[-1], u, 1)
            pv = np.polyfit(f - f[-1], v, 2)
            pu_at, pv_at = float(np.polyval(pu, dt)), float(np.polyval(pv, dt))
            speed = float(np.hypot(pu[0], pv[1] + 2 * pv[0] * dt))
            residual = float(np.sqrt(np.mean((np.polyval(pv, f - f[-1]) - v) ** 2)))
            gate = BASE_GATE_PX + 0.35 * speed * dt + 2.5 * residual + 0.5 * self.sizes[-1]
            return pu_at, pv_at, gate
        step = max(f[-1] - f[-2], 1.0)
        vu, vv = (u[-1] - u[-2]) / step, (v[-1] - v[-2]) / step
        gate = BASE_GATE_PX + 0.6 * float(np.hypot(vu, vv)) * dt + 0.5 * self.sizes[-1]
        return float(u[-1] + vu * dt), float(v[-1] + vv * dt), gate


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
            predictions = [t.predict(frame) for t in self.live]
            pairs: list[tuple[float, int, int]] = []
            for ti, (pu, pv, gate) in enumerate(predictions):
                gate *= self.scale if len(self.live[ti].frames) == 1 else 1.0
                d = np.hypot(positions[:, 0] - pu, positions[:, 1] - pv)
                for near in np.nonzero(d <= gate)[0]:
                    pairs.append((float(d[near]) / max(gate, 1e-6), ti, int(near)))
            used_tracks: set[int] = set()
            # Tracks with history choose first: a lone point's wide gate must not steal a blob
            # from a falling object's track.
            for _, ti, bi in sorted(pairs, key=lambda p: (len(self.live[p[1]].frames) < 3, p[0])):
                if ti in used_tracks or taken[bi]:
                    continue
                track = self.live[ti]
                if track.last_frame == frame:
                    continue
                track.add(frame, blobs[bi])
                used_tracks.add(ti)
                taken[bi] = True
        for index, blob in enumerate(blobs):
            if not taken[index] and len(self.live) < MAX_TRACKS:
                track = Track(self._next)
                self._next += 1
                track.add(frame, blob)
                self.live.append(track)
        return ended

    def flush(self) -> list[Track]:
        ended, self.live = self.live, []
        return ended


__all__ = ["Track", "Tracker"]
