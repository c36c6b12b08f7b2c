"""A live viewer of one camera inside the worker: the camera's packets as fragmented MP4, framed
for the relay (see :mod:`jingwu.video.relay`), starting at the last keyframe so that a picture
shows at once. Each viewer has its own muxer (fragment numbers and times are per viewer) and a
bounded queue: a viewer that cannot keep up is dropped, never the camera slowed."""

from __future__ import annotations

import contextlib
import json
import queue
import threading
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import TYPE_CHECKING

from jingwu.video.fmp4 import Fmp4Muxer
from jingwu.video.segments import StoredPacket, StreamInfo

if TYPE_CHECKING:
    from jingwu.video.reader import CameraReader


WALL_MS = Fraction(1, 1000)


def framed(kind: bytes, payload: bytes) -> bytes:
    from jingwu.video.relay import frame

    return frame(kind, payload)


def _text(message: dict[str, object]) -> bytes:
    return framed(b"T", json.dumps(message).encode())


@contextlib.contextmanager
def live_messages(reader: CameraReader, outbox: queue.Queue[bytes | None]) -> Iterator[Callable[[], None]]:
    """Feed ``outbox`` with the camera's live frames until the returned stop is called; a None
    in the outbox means the viewer was dropped (too slow) and should end."""
    lock = threading.RLock()  # held across the replay below, and taken again by on_packet in it
    muxer: Fmp4Muxer | None = None
    current: StreamInfo | None = None
    initialised = False
    dropped = False
    base_ms: int | None = None

    def put(item: bytes) -> None:
        nonlocal dropped
        if dropped:
            return
        try:
            outbox.put_nowait(item)
        except queue.Full:
            dropped = True
            with contextlib.suppress(queue.Empty):
                outbox.get_nowait()
            outbox.put_nowait(None)

    def on_packet(info: StreamInfo, packet: StoredPacket | None) -> None:
        nonlocal muxer, current, initialised, base_ms
        with lock:
            if packet is None:
                muxer, current, initialised = None, None, False
                put(_text({"type": "state", "state": "offline", "detail": "the camera's stream dropped"}))
                return
            if info is not current:
                current, initialised = info, False
                muxer = Fmp4Muxer.from_parameters(
                    width=info.width, height=info.height, extradata=info.extradata, time_base=info.time_base
                )
            assert muxer is not None
            # The wall clock's milliseconds, from the viewer's first packet: continuous across a
            # source whose own timestamps start again (a reconnect, a file read from the start).
            base_ms = packet.wall_ms if base_ms is None else base_ms
            dts = packet.wall_ms - base_ms
            offset = max(0, round((packet.pts - packet.dts) * info.time_base * 1000))
            fragment = muxer.mux_bytes(
                packet.data, pts=dts + offset, dts=dts, keyframe=packet.keyframe, time_base=WALL_MS
            )
            if not initialised and muxer.init_segment is not None and muxer.mime is not None:
                initialised = True
                put(
                    _text(
                        {"type": "init", "mime": muxer.mime, "width": muxer.size[0], "height": muxer.size[1]}
                    )
                )
                put(framed(b"B", muxer.init_segment))
                put(_text({"type": "state", "state": "online", "detail": None}))
            if fragment is not None and initialised:
                put(framed(b"B", fragment.data))

    with lock:  # the last keyframe's packets go out before any packet that arrives meanwhile
        info, gop = reader.live.join(on_packet)
        if info is None:
            put(_text({"type": "state", "state": str(reader.state), "detail": "waiting for the camera"}))
        else:
            for packet in gop:
                on_packet(info, packet)
    try:
        yield lambda: reader.live.leave(on_packet)
    finally:
        reader.live.leave(on_packet)


__all__ = ["live_messages"]
