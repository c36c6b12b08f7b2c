"""Pieces of one fall joined again. At night a dark object is seen only where it passes in front
of lit windows, and by day a window of its own brightness hides it for longer than the tracker
waits: one fall then ends as several short tracks, none of which shows gravity on its own.

A track that the physics gate turned down only for being too short a fall is kept for two seconds;
a later track that starts below it, near where it went out of sight, moving as fast as one fall
through both would and not a fraction of its size, is tried joined to it, and the joined track
is judged again (the gate's fit of one fall through all the pieces' points decides)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from jingwu.vision.throws.tracks import Track

#: How long a piece waits for its continuation (seconds unseen between two pieces). A dark bag
#: at night passes unseen in front of the dark wall between lit windows for up to two seconds of
#: a fall from the 20th floor (1.8 s in a scene of the benchmark, which one second lost).
MAX_GAP_S = 2.0
#: Pieces kept at once (the most recent; rain makes many, a throw's pieces are recent).
MAX_PIECES = 48
#: A piece of fewer points is noise, not part of a fall (a later one, seen falling fast past a
#: lit window, may be shorter).
MIN_PIECE_POINTS = 5
MIN_LATER_POINTS = 4
#: How far sideways (pixels at 1080 lines) a fall may drift between two pieces, beyond what its
#: own fall in the picture allows (a throw outward drifts little next to its drop).
SIDEWAYS_PX = 40.0
SIDEWAYS_SHARE = 0.35
#: A piece that starts higher up than the previous piece ended (pixels at 1080 lines) is not
#: the same falling object.
RISE_PX = 6.0
#: A later piece whose blobs are this many times smaller than the earlier's is another object.
SHRINK = 2.5
#: How far a piece's own speed down the picture may be from the joined track's at that time:
#: a share of it, and pixels a frame at 1080 lines.
SPEED_SHARE = 0.35
SPEED_PX = 1.5


def speeds_agree(first: Track, second: Track, scale: float = 1.0) -> bool:
    """Whether each piece moves down the picture as fast as one fall through both would there (a
    curve through a falling piece and a few points of something still fits well enough, by its
    residual, when the still piece is short)."""
    frames = np.asarray(first.frames + second.frames, dtype=np.float64)
    vs = np.asarray(first.vs + second.vs)
    a, b, _ = np.polyfit(frames - frames[0], vs, 2)
    for piece in (first, second):
        span = piece.frames[-1] - piece.frames[0]
        if span < 2:
            return False  # too brief to tell its speed: not joined on trust
        measured = (piece.vs[-1] - piece.vs[0]) / span
        middle = (piece.frames[0] + piece.frames[-1]) / 2 - frames[0]
        expected = 2 * a * middle + b
        if abs(measured - expected) > SPEED_SHARE * abs(expected) + SPEED_PX * scale:
            return False
    return True


def joined(first: Track, second: Track, ident: int) -> Track:
    """One track through both pieces' points (``first`` entirely before ``second``)."""
    track = Track(ident)
    for piece in (first, second):
        track.frames.extend(piece.frames)
        track.us.extend(piece.us)
        track.vs.extend(piece.vs)
        track.areas.extend(piece.areas)
        track.sizes.extend(piece.sizes)
    return track


@dataclass(slots=True)
class Stitcher:
    """The pieces turned down so far, and which of them a new track may continue."""

    fps: float
    scale: float = 1.0  # pixel sizes in the constants are for a 1080-line picture
    pieces: list[Track] = field(default_factory=list)

    def keep(self, track: Track) -> None:
        """``track`` was not a throw on its own: it may be the start or middle of one."""
        piece = track.to_lowest()  # what the tracker took after the object was gone is not kept
        if len(piece.frames) < MIN_PIECE_POINTS or not _falls(piece):
            return
        self.pieces.append(piece)
        if len(self.pieces) > MAX_PIECES:
            self.pieces.sort(key=lambda t: t.last_frame)
            del self.pieces[: len(self.pieces) - MAX_PIECES]

    def forget(self, earliest: int) -> None:
        """Pieces that no track starting at ``earliest`` or later can continue (the first frame
        of the oldest track still followed: a track is judged only when it ends)."""
        horizon = MAX_GAP_S * self.fps
        self.pieces = [p for p in self.pieces if earliest - p.last_frame <= horizon]

    def earlier_pieces(self, whole: Track) -> list[Track]:
        """The kept pieces that the track ``whole`` may continue, the nearest in time first."""
        # The track must be going down for most of its points (a fall's later piece is; a bird
        # that dives and climbs again is not), and is joined by its points up to its lowest.
        track = whole.to_lowest()
        if len(track.frames) < max(MIN_LATER_POINTS, len(whole.frames) // 2):
            return []
        u0, v0, f0 = track.us[0], track.vs[0], track.frames[0]
        horizon = MAX_GAP_S * self.fps
        found = []
        for piece in self.pieces:
            gap = f0 - piece.last_frame
            if not 0 < gap <= horizon:
                continue
            drop = v0 - piece.vs[-1]
            if drop < -RISE_PX * self.scale:
                continue
            if abs(u0 - piece.us[-1]) > SIDEWAYS_PX * self.scale + SIDEWAYS_SHARE * max(drop, 0.0):
                continue
            if not _sizes_agree(piece, track) or not speeds_agree(piece, track, self.scale):
                continue
            found.append((gap, piece))
        found.sort(key=lambda item: item[0])
        return [piece for _, piece in found]

    def used_in(self, whole: Track) -> None:
        """Pieces that are part of ``whole`` (a throw reported) are let go."""
        points = set(zip(whole.frames, whole.us, strict=True))
        self.pieces = [p for p in self.pieces if (p.frames[0], p.us[0]) not in points]


def _sizes_agree(first: Track, second: Track) -> bool:
    """Whether the later piece may be the same object: it comes nearer the camera as it falls
    and its streak lengthens with its speed, so it grows, but does not shrink to a fraction (a
    bird close to the lens, then a raindrop)."""
    return float(np.median(second.sizes)) >= float(np.median(first.sizes)) / SHRINK - 1.0


def _falls(track: Track) -> bool:
    """Whether the piece is falling at its end, as the piece of a fall is once let go (after a
    throw upward, too): a light blinking in place, an insect circling or a bird rising is not."""
    return bool(track.vs[-1] - track.vs[-4] >= 1.0)


__all__ = ["Stitcher", "joined"]
