"""Cutting an evidence clip out of a camera's buffer: H.264 as the camera sent it, in an MP4
that any player opens, from the keyframe at or before the start to the last frame before the end.

Nothing is re-encoded, so the pictures are bit for bit what the camera sent (what makes it
evidence) and cutting a minute takes milliseconds. The clip is written to a temporary file and renamed
into place only when complete."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from itertools import takewhile
from pathlib import Path

from jingwu.errors import UserError
from jingwu.video.fmp4 import Fmp4Muxer
from jingwu.video.segments import Segment, StoredPacket, StreamInfo, list_segments, read_info, read_packets

#: The clip's timestamps are milliseconds from its first frame.
CLIP_TIME_BASE = Fraction(1, 1000)


class ClipRefused(UserError):
    http_status = 422
    code = "clip_not_buffered"


@dataclass(frozen=True, slots=True)
class CutClip:
    path: Path
    from_ms: int  # the first frame's wall time (the keyframe at or before the asked start)
    to_ms: int  # the last frame's
    frames: int
    size: int
    sha256: str

    @property
    def duration_s(self) -> float:
        return (self.to_ms - self.from_ms) / 1000


def buffered_span(folder: Path) -> tuple[int, int] | None:
    """The wall-clock span (ms) the buffer holds, or None when it holds nothing."""
    segments = [s for s in list_segments(folder) if s.end_ms > s.start_ms]
    if not segments:
        return None
    return segments[0].start_ms, segments[-1].end_ms


RELIST_TRIES = 3


def cut_clip(folder: Path, from_ms: int, to_ms: int, out: Path) -> CutClip:
    """The buffer's packets from the keyframe at or before ``from_ms`` to ``to_ms`` as an MP4 at
    ``out``. Refused (nothing written) when the buffer holds no frame in the span; a buffer that
    begins after ``from_ms`` (the camera came online later) gives what it holds, and the clip's
    ``from_ms`` says where it begins. Packets of another stream (the camera came back with other
    settings) end it.

    The writer renames the segment it closes every few seconds, and the oldest are pruned: a
    segment that vanished between listing and reading makes the cut list and read again."""
    for _ in range(RELIST_TRIES):
        try:
            return _cut_once(folder, from_ms, to_ms, out)
        except _Vanished:
            continue
    return _cut_once(folder, from_ms, to_ms, out)


class _Vanished(Exception):
    """A listed segment is gone (renamed when it closed, or pruned)."""


def _packets(segment: Segment) -> Iterator[StoredPacket]:
    if not segment.path.exists():
        raise _Vanished(segment.path)
    yield from read_packets(segment.path)


def _refused(folder: Path, from_ms: int, to_ms: int, why: str) -> ClipRefused:
    span = buffered_span(folder)
    held = f"it holds {span[0]} to {span[1]} (ms since the epoch)" if span else "it holds nothing yet"
    return ClipRefused(f"{why}: {held}", from_ms=from_ms, to_ms=to_ms, buffered=list(span) if span else None)


def _cut_once(folder: Path, from_ms: int, to_ms: int, out: Path) -> CutClip:
    segments = [s for s in list_segments(folder) if s.end_ms >= from_ms and s.start_ms <= to_ms]
    if not segments:
        raise _refused(folder, from_ms, to_ms, "the camera's buffer does not hold that time")
    info = read_info(segments[0])
    if info is None:
        raise ClipRefused("the camera's buffer lost the stream's parameters for that time")
    segments = list(takewhile(lambda s: read_info(s) == info, segments))
    # First pass, timestamps only: the keyframe the clip starts at (a segment starts at one).
    start: tuple[int, int] | None = None
    first_ms = 0
    for n, segment in enumerate(segments):
        for i, packet in enumerate(_packets(segment)):
            if packet.wall_ms > from_ms and start is not None:
                break
            if packet.keyframe and (start is None or packet.wall_ms <= from_ms):
                start, first_ms = (n, i), packet.wall_ms
        else:
            continue
        break
    if start is None or first_ms > to_ms:
        raise _refused(folder, from_ms, to_ms, "the camera's buffer holds no picture in that span")

    def chosen() -> Iterator[StoredPacket]:
        assert start is not None
        for n, segment in enumerate(segments[start[0] :], start=start[0]):
            for i, packet in enumerate(_packets(segment)):
                if n == start[0] and i < start[1]:
                    continue
                if packet.wall_ms > to_ms:
                    return
                yield packet

    return _write_mp4(info, chosen(), out)


def _write_mp4(info: StreamInfo, packets: Iterator[StoredPacket], out: Path) -> CutClip:
    """The packets as a fragmented MP4 (the same boxes the live view sends): written by our own
    muxer, because FFmpeg's would open an H.264 encoder to describe a stream it only copies. The
    fragments go to disk as they are made (a long clip is not held in memory), the init segment,
    known only once the parameter sets are, in front of them."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    body_path = out.with_name(out.name + ".body")
    muxer = Fmp4Muxer.from_parameters(
        width=info.width, height=info.height, extradata=info.extradata, time_base=CLIP_TIME_BASE
    )
    digest = hashlib.sha256()
    frames, first_ms, last_ms = 0, None, 0
    try:
        with body_path.open("w+b") as body:
            last_dts = -1
            for stored in packets:
                if first_ms is None:
                    first_ms = stored.wall_ms
                # Wall-clock based timestamps: a gap (the camera dropped) stays a gap in the clip.
                dts = max(stored.wall_ms - first_ms, last_dts + 1)
                offset = max(0, round((stored.pts - stored.dts) * info.time_base * 1000))
                fragment = muxer.mux_bytes(stored.data, pts=dts + offset, dts=dts, keyframe=stored.keyframe)
                if fragment is not None:
                    body.write(fragment.data)
                frames += 1
                last_dts, last_ms = dts, stored.wall_ms
            if muxer.init_segment is None or first_ms is None:
                raise ClipRefused("the camera's stream in that span carries no picture parameters")
            body.seek(0)
            with partial.open("wb") as handle:
                handle.write(muxer.init_segment)
                digest.update(muxer.init_segment)
                while block := body.read(1 << 20):
                    handle.write(block)
                    digest.update(block)
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        body_path.unlink(missing_ok=True)
    return CutClip(
        path=out,
        from_ms=first_ms,
        to_ms=last_ms,
        frames=frames,
        size=out.stat().st_size,
        sha256=digest.hexdigest(),
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


__all__ = ["ClipRefused", "CutClip", "buffered_span", "cut_clip"]
