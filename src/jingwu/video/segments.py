"""A camera's rolling buffer on disk: the packets as they came, in segments of a few seconds.

The camera's H.264 packets are kept as they arrived (no re-encoding, no remuxing: a write is a
few kilobytes appended to a file), each with the wall-clock time it stands for, so that a clip is
cut by the time on the console's clock. A segment starts at a keyframe, so each can be decoded
alone; the oldest are deleted when the buffer is older than its time or larger than its size.

A segment being written is ``<start_ms>.seg``; closed, it is renamed ``<start_ms>_<end_ms>.seg``
(so that the buffer's span is known without reading it). It holds records of a 29-byte header
(magic ``JWP1``, flags, pts, dts, wall ms, payload length) and the packet's bytes; its
``<start_ms>.json`` sidecar holds the stream's parameters (codec, size, time base, extradata)
that the packets need to be decoded."""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

RECORD = struct.Struct(">4sBqqqI")
MAGIC = b"JWP1"
KEYFRAME = 1
SEGMENT_S = 2.0  # a new segment at the first keyframe this long after the segment began


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """What a decoder or a muxer needs to know of the stream besides its packets."""

    codec: str
    width: int
    height: int
    time_base: Fraction
    extradata: bytes
    fps: float | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "codec": self.codec,
                "width": self.width,
                "height": self.height,
                "time_base": [self.time_base.numerator, self.time_base.denominator],
                "extradata": base64.b64encode(self.extradata).decode(),
                "fps": self.fps,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> StreamInfo:
        raw = json.loads(text)
        return cls(
            codec=raw["codec"],
            width=int(raw["width"]),
            height=int(raw["height"]),
            time_base=Fraction(*raw["time_base"]),
            extradata=base64.b64decode(raw["extradata"]),
            fps=raw.get("fps"),
        )


@dataclass(frozen=True, slots=True)
class StoredPacket:
    """One packet as kept: its bytes, its timestamps in the stream's time base, and the time on
    the wall clock it stands for (ms since the epoch)."""

    data: bytes
    pts: int
    dts: int
    wall_ms: int
    keyframe: bool


@dataclass(frozen=True, slots=True)
class Segment:
    path: Path
    start_ms: int
    end_ms: int  # the last packet's wall time (the open segment: as far as written)
    size: int

    @property
    def info_path(self) -> Path:
        return self.path.parent / f"{self.start_ms}.json"


class SegmentWriter:
    """Appends a camera's packets to its buffer and keeps the buffer within its time and size.
    One writer per camera, used from that camera's reader thread only."""

    def __init__(self, folder: Path, *, keep_s: float, keep_bytes: int) -> None:
        self.folder = folder
        self.keep_ms = int(keep_s * 1000)
        self.keep_bytes = keep_bytes
        folder.mkdir(parents=True, exist_ok=True)
        self._file: BinaryIO | None = None
        self._info: StreamInfo | None = None
        self._started_ms = 0
        self._last_ms: int | None = None

    def write(self, info: StreamInfo, packet: StoredPacket) -> None:
        """Keep one packet; a new stream (a reconnect) or a keyframe after SEGMENT_S starts a new
        segment. Packets before the first keyframe of a stream are not kept: they cannot be shown."""
        new_stream = info is not self._info
        if new_stream or (packet.keyframe and packet.wall_ms - self._started_ms >= SEGMENT_S * 1000):
            self.close()
            if not packet.keyframe:
                return
            self._open(info, packet.wall_ms)
        if self._file is None:
            return
        flags = KEYFRAME if packet.keyframe else 0
        self._file.write(RECORD.pack(MAGIC, flags, packet.pts, packet.dts, packet.wall_ms, len(packet.data)))
        self._file.write(packet.data)
        self._last_ms = packet.wall_ms
        self._file.flush()  # a clip cut "until now" reads what was written a moment ago

    def _open(self, info: StreamInfo, start_ms: int) -> None:
        path = self.folder / f"{start_ms}.seg"
        path.with_suffix(".json").write_text(info.to_json(), encoding="utf-8")
        self._file = path.open("ab")
        self._info = info
        self._started_ms = start_ms
        self._last_ms = None
        self.prune(start_ms)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            path = self.folder / f"{self._started_ms}.seg"
            if self._last_ms is None:
                path.unlink(missing_ok=True)
                (self.folder / f"{self._started_ms}.json").unlink(missing_ok=True)
            else:
                path.rename(self.folder / f"{self._started_ms}_{self._last_ms}.seg")
        self._info = None

    def prune(self, now_ms: int) -> None:
        """Delete the oldest segments beyond the buffer's time or size (never the one open)."""
        segments = list_segments(self.folder)
        total = sum(s.size for s in segments)
        for segment in segments[:-1]:
            if now_ms - segment.end_ms <= self.keep_ms and total <= self.keep_bytes:
                break
            total -= segment.size
            segment.path.unlink(missing_ok=True)
            segment.info_path.unlink(missing_ok=True)


def list_segments(folder: Path) -> list[Segment]:
    """The buffer's segments, oldest first, each with the wall-clock span its packets cover."""
    segments = []
    for path in folder.glob("*.seg"):
        start_text, _, end_text = path.stem.partition("_")
        try:
            start = int(start_text)
            size = path.stat().st_size
            # Only the segment being written (no end in its name) is read to find its end.
            end = int(end_text) if end_text else (_last_wall_ms(path) or start)
        except (ValueError, FileNotFoundError):
            continue
        segments.append(Segment(path, start, end, size))
    segments.sort(key=lambda s: s.start_ms)
    return segments


def _last_wall_ms(path: Path) -> int | None:
    last = None
    for packet in read_packets(path):
        last = packet.wall_ms
    return last


def read_packets(path: Path) -> Iterator[StoredPacket]:
    """A segment's packets in order; a record cut short (the segment is being written, or the
    process died mid-write) ends the segment there."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return
    with handle:
        while True:
            head = handle.read(RECORD.size)
            if len(head) < RECORD.size:
                return
            magic, flags, pts, dts, wall_ms, length = RECORD.unpack(head)
            if magic != MAGIC:
                return
            data = handle.read(length)
            if len(data) < length:
                return
            yield StoredPacket(data, pts, dts, wall_ms, bool(flags & KEYFRAME))


def read_info(segment: Segment) -> StreamInfo | None:
    try:
        return StreamInfo.from_json(segment.info_path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError, KeyError):
        return None


__all__ = [
    "SEGMENT_S",
    "Segment",
    "SegmentWriter",
    "StoredPacket",
    "StreamInfo",
    "list_segments",
    "read_info",
    "read_packets",
]
