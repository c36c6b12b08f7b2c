"""Thrown-object detection (高空抛物) on a live camera, inside its video worker: a viewer of the
camera's live feed that only queues packets (the reader is never held up), and a thread that
decodes every one of them and feeds the brightness plane to the detector. Each throw goes up the
worker's pipe as a ``throw`` report with the wall times of its first frame and of its landing and
a JPEG of the landing with the track drawn on it.

The reader's own decoder looks at keyframes only; this one decodes every frame, on one core (a
1080p camera at 25 fps leaves room to spare: docs/throws.md). A queue that fills (a busy host)
drops packets up to the next keyframe, where the decoder starts again: a gap in the analysis,
said in the log once a minute, never a camera slowed down."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import av
import cv2
import numpy as np

from jingwu.video.reader import CameraReader
from jingwu.video.segments import StoredPacket, StreamInfo
from jingwu.vision.throws.calibration import CalibrationError, FacadeCalibration, parse_calibration
from jingwu.vision.throws.detector import ThrowDetector, ThrowEvent
from jingwu.vision.throws.render import render_throw
from jingwu.vision.throws.scan import luma

log = logging.getLogger(__name__)

#: About ten seconds of a 25 fps camera: a moment's stall of the analysis is absorbed.
QUEUE_PACKETS = 250
#: Decoded frames kept for the snapshot: an event comes a track's gap (tracks.MAX_GAP, ten
#: frames) after the landing.
FRAMES_KEPT = 16
#: Frame → wall time for the last minute of frames (a track is a few seconds at most).
WALLS_KEPT = 1_500
DROP_LOG_EVERY_S = 60.0
#: A refusal (the facade off the picture) is said again this often: the reader's own reports
#: (online after a reconnect) replace the camera's detail.
REFUSAL_REPEAT_S = 30.0
DEFAULT_FPS = 25.0
#: An analysis that fails this often within FAULT_WINDOW_S stops, and says so as the camera's
#: detail; a fault now and then only starts it afresh.
FAULTS_TOLERATED = 5
FAULT_WINDOW_S = 60.0
JPEG_QUALITY = 85

#: Sends a report up the worker's pipe (through its main loop).
Report = Callable[[dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class _Item:
    info: StreamInfo
    packet: StoredPacket | None  # None: the stream dropped
    after_gap: bool  # packets were dropped before this one


class ThrowAnalyser(threading.Thread):
    """Analyses one camera for thrown objects until :meth:`stop`. ``calibration_json`` is the
    facade as the server keeps it; ``report`` gets ``throw`` reports and, when the facade does
    not fit the stream's picture, a ``state`` report carrying the reason as the camera's detail."""

    def __init__(
        self,
        reader: CameraReader,
        calibration_json: dict[str, Any],
        report: Report,
        *,
        queue_packets: int = QUEUE_PACKETS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(name=f"throws-{reader.camera_id}", daemon=True)
        self.reader = reader
        self.camera_id = reader.camera_id
        self.calibration_json = calibration_json
        self.calibration: FacadeCalibration = parse_calibration(calibration_json)
        self.report = report
        self.clock = clock
        self.queue: queue.Queue[_Item] = queue.Queue(maxsize=queue_packets)
        self.dropped = 0
        self.frames = 0
        self.busy_s = 0.0
        self._dropping = False
        self._dropped_logged_at = -DROP_LOG_EVERY_S
        self._dropped_since_log = 0
        self._halt = threading.Event()
        # The analysis's own state, touched by its thread only.
        self._info: StreamInfo | None = None
        self._decoder: av.VideoCodecContext | None = None
        self._detector: ThrowDetector | None = None
        self._refused: str | None = None
        self._refused_said_at = -REFUSAL_REPEAT_S
        self._fps = DEFAULT_FPS
        self._walls: OrderedDict[int, int] = OrderedDict()  # frame index → wall ms
        self._pts_walls: OrderedDict[int, int] = OrderedDict()  # packet pts → presentation wall ms
        self._recent: deque[tuple[int, av.VideoFrame]] = deque(maxlen=FRAMES_KEPT)
        self._wall0: int | None = None
        self._last_index = -1

    # ------------------------------------------------------------ the reader's side

    def watch(self) -> None:
        """Join the camera's live feed and start analysing."""
        self.reader.live.join(self.on_packet)
        self.start()

    def stop(self) -> None:
        self.reader.live.leave(self.on_packet)
        self._halt.set()

    def on_packet(self, info: StreamInfo, packet: StoredPacket | None) -> None:
        """A viewer of the live feed, on the reader's thread: queue, never wait. A full queue
        drops packets up to the next keyframe (the decoder cannot resume before one)."""
        if self._dropping and packet is not None and not packet.keyframe:
            self._count_drop()
            return
        try:
            self.queue.put_nowait(_Item(info, packet, self._dropping))
            self._dropping = False
        except queue.Full:
            self._dropping = True
            self._count_drop()

    def _count_drop(self) -> None:
        self.dropped += 1
        self._dropped_since_log += 1
        now = self.clock()
        if now - self._dropped_logged_at >= DROP_LOG_EVERY_S:
            log.warning(
                "camera %s: thrown-object analysis falls behind; %d packets skipped (to the next keyframe)",
                self.camera_id,
                self._dropped_since_log,
            )
            self._dropped_logged_at, self._dropped_since_log = now, 0

    # ------------------------------------------------------------ the analysis's thread

    def run(self) -> None:
        faults: deque[float] = deque(maxlen=FAULTS_TOLERATED)
        try:
            while not self._halt.is_set():
                try:
                    item = self.queue.get(timeout=0.25)
                except queue.Empty:
                    continue
                started = time.perf_counter()
                try:
                    self._take(item)
                except Exception:  # the analysis's fault is its own: the camera is read as ever
                    log.exception(
                        "camera %s: thrown-object analysis failed; starting it afresh", self.camera_id
                    )
                    # The next packet starts the stream's analysis again, from a keyframe.
                    self._info, self._decoder, self._detector = None, None, None
                    faults.append(self.clock())
                    if len(faults) == FAULTS_TOLERATED and faults[-1] - faults[0] < FAULT_WINDOW_S:
                        self._refused, self._refused_said_at = (
                            "thrown-object detection is off: it failed again and again (the worker's log)",
                            -REFUSAL_REPEAT_S,
                        )
                        self._say_refused()
                        return
                self.busy_s += time.perf_counter() - started
        finally:
            if self._halt.is_set():
                # Stopped (its calibration changed, the worker is closing): what is in the air
                # now is judged rather than forgotten.
                try:
                    self._finish()
                except Exception:
                    log.exception("camera %s: the last tracks could not be judged", self.camera_id)
            self._decoder = None
            self._recent.clear()

    def _take(self, item: _Item) -> None:
        if item.packet is None:
            # The stream dropped: what was in the air is judged now, and whatever comes next
            # (the same stream again, or another) starts afresh: the background is stale by then.
            self._finish()
            self._info, self._decoder, self._detector = None, None, None
            return
        if item.info is not self._info:
            self._finish()
            self._start_stream(item.info)
        if self._detector is None:
            self._say_refused()  # the facade does not fit this stream's picture
            return
        if item.after_gap:
            self._decoder = None
        if self._decoder is None:
            if not item.packet.keyframe:
                return
            self._decoder = _decoder_for(item.info)
        self._decode(item.info, item.packet)

    def _start_stream(self, info: StreamInfo) -> None:
        """A new stream (the first, a reconnect, other settings): a detector for its picture."""
        self._info, self._decoder, self._detector = info, None, None
        self._recent.clear()
        self._walls.clear()
        self._pts_walls.clear()
        self._wall0, self._last_index = None, -1
        fps = info.fps if info.fps and 1 <= info.fps <= 240 else DEFAULT_FPS
        self._fps = fps
        try:
            self._detector = ThrowDetector(self.calibration, info.width, info.height, fps)
        except CalibrationError as exc:
            reason = f"thrown-object detection is off: {exc.message}"
            if reason != self._refused:
                log.warning("camera %s: %s", self.camera_id, reason)
                self._refused, self._refused_said_at = reason, -REFUSAL_REPEAT_S
            return
        self._refused = None

    def _say_refused(self) -> None:
        """The refusal as the camera's detail, while its picture is usable (a fault's own detail
        says more), and again every REFUSAL_REPEAT_S (the same words again change nothing)."""
        now = self.clock()
        if self._refused is None or now - self._refused_said_at < REFUSAL_REPEAT_S:
            return
        if str(self.reader.state) != "online":
            return
        self._refused_said_at = now
        self.report(
            {
                "type": "state",
                "camera_id": self.camera_id,
                "state": "online",
                "detail": self._refused,
                "at": time.time(),
            }
        )

    def _decode(self, info: StreamInfo, stored: StoredPacket) -> None:
        assert self._decoder is not None
        packet = av.Packet(stored.data)
        packet.pts, packet.dts = stored.pts, stored.dts
        offset_ms = round(float((stored.pts - stored.dts) * info.time_base) * 1000)
        self._pts_walls[stored.pts] = stored.wall_ms + max(0, offset_ms)
        while len(self._pts_walls) > 64:
            self._pts_walls.popitem(last=False)
        try:
            frames = self._decoder.decode(packet)
        except av.error.FFmpegError as exc:
            log.info("camera %s: a packet would not decode (%s); waiting for a keyframe", self.camera_id, exc)
            self._decoder = None
            return
        for frame in frames:
            self._analyse(frame, stored.wall_ms)

    def _analyse(self, frame: av.VideoFrame, packet_wall_ms: int) -> None:
        detector = self._detector
        assert detector is not None
        if frame.width != detector.width or frame.height != detector.height:
            return
        wall = self._pts_walls.pop(frame.pts, packet_wall_ms) if frame.pts is not None else packet_wall_ms
        index = self._index(wall)
        self._walls[index] = wall
        while len(self._walls) > WALLS_KEPT:
            self._walls.popitem(last=False)
        self._recent.append((index, frame))
        self.frames += 1
        for event in detector.push(luma(frame), index):
            self._send(event)

    def _index(self, wall_ms: int) -> int:
        """The frame's number for the detector, from its wall time: a gap (dropped packets) is a
        gap in the numbers too, so that the physics keeps its clock."""
        if self._wall0 is None:
            self._wall0 = wall_ms
        index = round((wall_ms - self._wall0) * self._fps / 1000)
        index = max(index, self._last_index + 1)
        self._last_index = index
        return index

    def _finish(self) -> None:
        if self._detector is not None:
            for event in self._detector.finish():
                self._send(event)

    # ------------------------------------------------------------ reports

    def _send(self, event: ThrowEvent) -> None:
        first_ms = self._wall_of(event.frame)
        landed_ms = max(self._wall_of(event.last_frame), first_ms)
        snapshot = self._snapshot(event)
        self.report(
            {
                "type": "throw",
                "camera_id": self.camera_id,
                "event": {
                    **event.to_json(),
                    "last_frame": event.last_frame,
                    "launch_px": [round(event.launch_px[0], 1), round(event.launch_px[1], 1)],
                },
                "first_wall_ms": first_ms,
                "landed_wall_ms": landed_ms,
                "snapshot": snapshot,
                "at": time.time(),
            }
        )
        log.info(
            "camera %s: thrown object from floor %s column %s (confidence %.2f)",
            self.camera_id,
            event.floor,
            event.column,
            event.confidence,
        )

    def _wall_of(self, index: int) -> int:
        wall = self._walls.get(index)
        if wall is not None:
            return wall
        if self._wall0 is not None:  # fell out of the table: worked out from the frame rate
            return self._wall0 + round(index * 1000 / self._fps)
        return int(time.time() * 1000)

    def _snapshot(self, event: ThrowEvent) -> bytes | None:
        """The landing's picture (or the nearest kept) with the track drawn on it, as a JPEG."""
        if not self._recent:
            return None
        at_or_before = [(i, f) for i, f in self._recent if i <= event.last_frame]
        _index, frame = at_or_before[-1] if at_or_before else self._recent[0]
        try:
            picture = frame.to_ndarray(format="rgb24")
            geometry = self._detector.geometry if self._detector is not None else None
            drawn = render_throw(picture, event.track, event.launch_px, event.floor, event.column, geometry)
            ok, jpeg = cv2.imencode(
                ".jpg", cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]
            )
        except (ValueError, cv2.error, av.error.FFmpegError):
            log.warning("camera %s: the throw's snapshot could not be drawn", self.camera_id, exc_info=True)
            return None
        return bytes(np.asarray(jpeg).tobytes()) if ok else None


def _decoder_for(info: StreamInfo) -> av.VideoCodecContext:
    """A decoder of the stream's codec and parameter sets, on one thread (one core a camera)."""
    decoder = av.CodecContext.create(info.codec, "r")
    assert isinstance(decoder, av.VideoCodecContext)
    if info.extradata:
        decoder.extradata = info.extradata
    decoder.thread_count = 1
    return decoder


def start_analyser(reader: CameraReader, calibration_json: dict[str, Any], report: Report) -> ThrowAnalyser:
    """An analyser for ``reader``'s camera, watching (a :class:`CalibrationError` when the
    calibration itself is bad: the server checked it, so that means a version apart)."""
    global _one_core
    if not _one_core:
        # Each camera's analysis is a thread of its own; OpenCV's own threads on top of them
        # would only fight over the same cores.
        with contextlib.suppress(cv2.error):
            cv2.setNumThreads(1)
        _one_core = True
    analyser = ThrowAnalyser(reader, calibration_json, report)
    analyser.watch()
    return analyser


_one_core = False


__all__ = ["QUEUE_PACKETS", "ThrowAnalyser", "start_analyser"]
