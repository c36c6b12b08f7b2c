"""Cutting an evidence clip out of a camera's buffer: H.264 as the camera sent it, in an MP4
that any player opens, from the keyframe at or before the start to the last frame before the end.

Nothing is re-encoded, so the pictures are bit for bit what the camera sent (what makes it
evidence) and cutting a minute takes milliseconds. The clip is written to a temporary file and renamed
into place only when complete."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from jingwu.errors import UserError
from jingwu.video.fmp4 import Fmp4Muxer
from jingwu.video.segments import StoredPacket, StreamInfo, list_segments, read_info, read_packets

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


def cut_clip(folder: Path, from_ms: int, to_ms: int, out: Path) -> CutClip:
    """The buffer's packets from the keyframe at or before ``from_ms`` to ``to_ms`` as an MP4 at
    ``out``. Refused (nothing written) when the buffer does not hold the start or holds no frame
    in the span. Packets of another stream (the camera came back with other settings) end it."""
    segments = [s for s in list_segments(folder) if s.end_ms >= from_ms and s.start_ms <= to_ms]
    if not segments:
        span = buffered_span(folder)
        held = f"it holds {span[0]} to {span[1]} (ms since the epoch)" if span else "it holds nothing yet"
        raise ClipRefused(
            f"the camera's buffer does not hold that time: {held}",
            from_ms=from_ms,
            to_ms=to_ms,
            buffered=list(span) if span else None,
        )
    info = read_info(segments[0])
    if info is None:
        raise ClipRefused("the camera's buffer lost the stream's parameters for that time")
    chosen: list[StoredPacket] = []
    for segment in segments:
        if read_info(segment) != info:
            break
        for packet in read_packets(segment.path):
            if packet.wall_ms > to_ms:
                break
            if packet.keyframe and packet.wall_ms <= from_ms:
                chosen = []  # a later keyframe still at or before the start: begin there
            chosen.append(packet)
    if not chosen or not chosen[0].keyframe or chosen[-1].wall_ms < from_ms:
        raise ClipRefused("the camera's buffer holds no picture in that span", from_ms=from_ms, to_ms=to_ms)
    return _write_mp4(info, chosen, out)


def _write_mp4(info: StreamInfo, packets: list[StoredPacket], out: Path) -> CutClip:
    """The packets as a fragmented MP4 (the same boxes the live view sends): written by our own
    muxer, because FFmpeg's would open an H.264 encoder to describe a stream it only copies."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    muxer = Fmp4Muxer.from_parameters(
        width=info.width, height=info.height, extradata=info.extradata, time_base=CLIP_TIME_BASE
    )
    first_ms = packets[0].wall_ms
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as handle:
            last_dts = -1
            body: list[bytes] = []
            for stored in packets:
                # Wall-clock based timestamps: a gap (the camera dropped) stays a gap in the clip.
                dts = max(stored.wall_ms - first_ms, last_dts + 1)
                offset = max(0, round((stored.pts - stored.dts) * info.time_base * 1000))
                fragment = muxer.mux_bytes(stored.data, pts=dts + offset, dts=dts, keyframe=stored.keyframe)
                if fragment is not None:
                    body.append(fragment.data)
                last_dts = dts
            if muxer.init_segment is None:
                raise ClipRefused("the camera's stream in that span carries no picture parameters")
            for block in (muxer.init_segment, *body):
                handle.write(block)
                digest.update(block)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return CutClip(
        path=out,
        from_ms=first_ms,
        to_ms=packets[-1].wall_ms,
        frames=len(packets),
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
