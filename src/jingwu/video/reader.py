"""One camera read without end: connect, keep its packets in the buffer, hand them to live
viewers, judge its picture; on any fault say so and connect again, backing off.

NVR users' most common complaint is a stream that never comes back after the network or the
camera dropped; here a reader never gives up, waiting 1, 2, 4, at most 8 seconds between
tries (an unsupported codec waits longest: someone has to change the camera's settings)."""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from jingwu.domain.cameras import CameraState
from jingwu.video.fmp4 import GopCache
from jingwu.video.health import PictureJudge
from jingwu.video.segments import SegmentWriter, StoredPacket, StreamInfo
from jingwu.video.source import StreamFault, classify, is_timeout, open_stream, public_url, video_stream

log = logging.getLogger(__name__)

BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 8.0
UNSUPPORTED_RETRY_S = 60.0
JUDGE_SIZE = (160, 90)
#: How far ahead of the clock a live packet's stamp may run (jitter) before the stamps move back.
FUTURE_SLACK_S = 0.05

#: (state, detail) → whoever reports it (the worker sends it to the supervisor).
StateSink = Callable[[str, CameraState, str | None], None]


#: A live viewer: told each packet of the stream (None: the stream dropped).
Viewer = Callable[[StreamInfo, StoredPacket | None], None]


@dataclass(slots=True)
class LiveFeed:
    """What live viewers of a camera need: the stream's parameters, the packets since the last
    keyframe (a viewer starts there, at once), and a queue per viewer for what comes next."""

    info: StreamInfo | None = None
    gop: GopCache[StoredPacket] = field(default_factory=GopCache)
    viewers: list[Viewer] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def publish(self, info: StreamInfo, packet: StoredPacket) -> None:
        with self.lock:
            if info is not self.info:
                self.info = info
                self.gop.clear()
            self.gop.push(packet, keyframe=packet.keyframe)
            viewers = list(self.viewers)
        self._tell(viewers, info, packet)

    def drop(self) -> None:
        """The stream is gone: viewers hear it (a None packet) and wait for the next."""
        with self.lock:
            info, self.info = self.info, None
            self.gop.clear()
            viewers = list(self.viewers)
        if info is not None:
            self._tell(viewers, info, None)

    def _tell(self, viewers: list[Viewer], info: StreamInfo, packet: StoredPacket | None) -> None:
        for viewer in viewers:
            try:
                viewer(info, packet)
            except Exception:  # one viewer's fault (a stream its muxer refuses) is its own
                log.warning("a live viewer of a camera failed; dropping it", exc_info=True)
                self.leave(viewer)

    def join(self, viewer: Viewer) -> tuple[StreamInfo | None, list[StoredPacket]]:
        with self.lock:
            self.viewers.append(viewer)
            return self.info, self.gop.snapshot()

    def leave(self, viewer: Viewer) -> None:
        with self.lock:
            if viewer in self.viewers:
                self.viewers.remove(viewer)


class CameraReader(threading.Thread):
    """Reads one camera on a thread of the worker process until :meth:`stop`."""

    def __init__(
        self,
        camera_id: str,
        url: str,
        buffer_dir: Path,
        *,
        keep_s: float,
        keep_bytes: int,
        report: StateSink,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(name=f"camera-{camera_id}", daemon=True)
        self.camera_id = camera_id
        self.url = url
        self.writer = SegmentWriter(buffer_dir / camera_id, keep_s=keep_s, keep_bytes=keep_bytes)
        self.report = report
        self.clock = clock
        self.live = LiveFeed()
        self.judge = PictureJudge()
        self.snapshot: np.ndarray | None = None
        self.snapshot_ms = 0
        self.state = CameraState.UNKNOWN
        self._last_info: StreamInfo | None = None
        self._last_wall: float | None = None
        self._halt = threading.Event()

    def stop(self) -> None:
        """Ask the reader to end: at its next packet, or when the read times out (at most
        READ_TIMEOUT_S). The stream is never closed from here: closing FFmpeg's context under a
        read in progress on the reader's thread crashes the process."""
        self._halt.set()

    def _say(self, state: CameraState, detail: str | None = None) -> None:
        if state != self.state:
            self.state = state
            self.report(self.camera_id, state, detail)

    def run(self) -> None:
        backoff = BACKOFF_FIRST_S
        while not self._halt.is_set():
            started = time.monotonic()
            fault: StreamFault | None = None
            ended = False
            try:
                self._read_once()
                ended = True
            except StreamFault as exc:
                fault = exc
            except Exception as exc:  # an FFmpeg error mid-stream: put in words like any other
                fault = classify(exc, shown=public_url(self.url))
            finally:
                looping = ended and self.url.startswith("file://") and not self._halt.is_set()
                if not looping:
                    # A file read again from the start goes on as one stream for the viewers (its
                    # parameters are the same object again: see _read_from); anything else ends.
                    self.writer.close()
                    self.live.drop()
                    self.judge.reset()
            if self._halt.is_set():
                break
            if looping:
                continue
            if fault is None:
                fault = StreamFault("stream_ended", "the stream ended")
            if fault.code == "unsupported_codec":
                self._say(CameraState.UNSUPPORTED, fault.message)
                wait = UNSUPPORTED_RETRY_S
            elif fault.code == "no_signal":
                self._say(CameraState.NO_SIGNAL, fault.message)
                wait = backoff
            else:
                self._say(CameraState.OFFLINE, fault.message)
                wait = backoff
            # It ran a good while: a fresh fault starts the back-off over.
            ran_long = time.monotonic() - started > 30
            backoff = BACKOFF_FIRST_S if ran_long else min(backoff * 2, BACKOFF_MAX_S)
            self._halt.wait(wait)

    def _read_once(self) -> None:
        container = open_stream(self.url)
        try:
            self._read_from(container)
        finally:
            container.close()  # on this thread, the one reading it

    def _read_from(self, container: av.container.InputContainer) -> None:
        stream = video_stream(container, self.url)
        is_file = self.url.startswith("file://")
        ctx = stream.codec_context
        rate = stream.average_rate or stream.guessed_rate
        info = StreamInfo(
            codec=ctx.name,
            width=ctx.width,
            height=ctx.height,
            time_base=Fraction(stream.time_base) if stream.time_base else Fraction(1, 90_000),
            extradata=bytes(ctx.extradata or b""),
            fps=float(rate) if rate else None,
        )
        if info == self._last_info:
            info = self._last_info  # the same stream again: viewers and the buffer go on with it
        self._last_info = info
        decoder = av.CodecContext.create(ctx.name, "r")
        assert isinstance(decoder, av.VideoCodecContext)
        if ctx.extradata:
            decoder.extradata = ctx.extradata
        # Every packet goes to the decoder, which decodes only the keyframes (about one picture a
        # second): cheap, and its state stays whole (a keyframe decoded alone, without the
        # packets before it, can come out wrong).
        decoder.skip_frame = "NONKEY"
        try:
            got_packet = self._pump(container, stream, info, decoder, is_file)
        except av.error.FFmpegError as exc:
            if is_timeout(exc) and not self._halt.is_set():
                raise StreamFault("no_signal", "connected, but the camera sends no pictures") from exc
            raise
        if not got_packet and not self._halt.is_set():
            raise StreamFault("no_signal", "connected, but the camera sends no pictures")
        # Returning: the stream ended (a file is then read again from the start, like a camera).

    def _pump(
        self,
        container: av.container.InputContainer,
        stream: av.VideoStream,
        info: StreamInfo,
        decoder: av.VideoCodecContext,
        is_file: bool,
    ) -> bool:
        """Packets from the open stream into the buffer, the viewers and the judge, until it ends;
        whether any packet came."""
        anchor_wall: float | None = None
        anchor_dts = 0
        got_packet = False
        for packet in container.demux(stream):
            if self._halt.is_set():
                return got_packet
            if packet.dts is None or not packet.size:
                continue
            if anchor_wall is None:
                anchor_wall, anchor_dts = self.clock(), packet.dts
                if is_file and self._last_wall is not None:
                    # A file read again goes on one frame after its last one, not before it.
                    anchor_wall = max(anchor_wall, self._last_wall + 1 / (info.fps or 25.0))
            # A packet's wall time: the stream's own clock from when it was first heard, so the
            # spacing is the camera's (no network jitter); re-anchored if the two drift apart.
            wall = anchor_wall + float((packet.dts - anchor_dts) * info.time_base)
            now = self.clock()
            if is_file and wall > now:
                self._halt.wait(wall - now)  # a file plays at its own pace, like a camera
            elif not is_file and (now - wall > 2.0 or wall > now + FUTURE_SLACK_S):
                # A picture cannot have been taken after it arrived: packets FFmpeg held back while
                # it probed the stream came in a burst, and the first of them, stamped "now", was
                # really older (1.2 s on the RTSP rig). The clock is moved back to the newest.
                anchor_wall, anchor_dts, wall = now, packet.dts, now
            stored = StoredPacket(
                bytes(packet),
                packet.pts if packet.pts is not None else packet.dts,
                packet.dts,
                int(wall * 1000),
                bool(packet.is_keyframe),
            )
            got_packet = True
            self._last_wall = wall
            self.writer.write(info, stored)
            self.live.publish(info, stored)
            self._judge(decoder, stored.data, wall)
        return got_packet

    def _judge(self, decoder: av.VideoCodecContext, data: bytes, wall: float) -> None:
        """Judge the keyframes the decoder gives (the health checks) and keep the last (the
        snapshot)."""
        try:
            frames = decoder.decode(av.Packet(data))
        except av.error.FFmpegError:
            return
        for frame in frames:
            # A copy of the picture, not the frame: the decoder may reuse the frame's memory while
            # the relay's thread makes a JPEG of it.
            self.snapshot, self.snapshot_ms = frame.to_ndarray(format="rgb24"), int(wall * 1000)
            small = frame.reformat(width=JUDGE_SIZE[0], height=JUDGE_SIZE[1], format="gray")
            gray = np.asarray(small.to_ndarray(), dtype=np.uint8)
            state = self.judge.judge(wall, gray)
            detail = {
                CameraState.BLACK: "the picture is black (covered lens or no light)",
                CameraState.FROZEN: "the picture has not changed (frozen)",
            }.get(state)
            self._say(state, detail)

    def snapshot_jpeg(self) -> tuple[bytes, int] | None:
        """The latest keyframe as a JPEG, with its wall time (ms), or None before the first."""
        picture, taken = self.snapshot, self.snapshot_ms
        if picture is None:
            return None
        image = Image.fromarray(picture)
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=80)
        return out.getvalue(), taken


__all__ = ["CameraReader", "LiveFeed", "StateSink"]
