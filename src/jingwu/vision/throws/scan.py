"""A video file read through the thrown-object detector (``jingwu throws detect`` and the
benchmark): the brightness plane of each decoded frame is all the detector looks at, taken
straight from the decoder without a colour conversion."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np

from jingwu.errors import ValidationFailed
from jingwu.vision.throws.calibration import FacadeCalibration
from jingwu.vision.throws.detector import ThrowDetector, ThrowEvent

#: Pixel formats whose first plane is the brightness (Y) plane, one byte a pixel.
_LUMA_FIRST = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "nv21", "gray"}


MIN_FPS, MAX_FPS = 1.0, 240.0


class VideoUnreadable(ValidationFailed):
    code = "video_unreadable"


def luma(frame: av.VideoFrame) -> np.ndarray:
    """The frame's brightness as a (height, width) uint8 array; no copy for the usual formats."""
    if frame.format.name in _LUMA_FIRST:
        plane = frame.planes[0]
        rows = np.frombuffer(memoryview(plane), dtype=np.uint8).reshape(frame.height, plane.line_size)
        return rows[:, : frame.width]
    return np.asarray(frame.to_ndarray(format="gray"), dtype=np.uint8)


@dataclass(frozen=True, slots=True)
class ScanResult:
    video: str
    fps: float
    frames: int
    processing_fps: float
    events: tuple[ThrowEvent, ...]
    rejected: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "video": self.video,
            "fps": round(self.fps, 3),
            "frames": self.frames,
            "processing_fps": round(self.processing_fps, 1),
            "events": [e.to_json() for e in self.events],
        }


def _open(path: Path) -> av.container.InputContainer:
    if not path.is_file():
        raise VideoUnreadable(f"no video file at {path}", field="video")
    try:
        container = av.open(str(path), mode="r")
    except (av.error.FFmpegError, OSError) as exc:
        raise VideoUnreadable(f"{path} cannot be decoded as a video: {exc}", field="video") from None
    if not container.streams.video:
        container.close()
        raise VideoUnreadable(f"{path} has no video stream", field="video")
    return container


def scan_video(path: Path, calibration: FacadeCalibration, *, threads: bool = True) -> ScanResult:
    """Every frame of the file through a fresh detector; the throws found, and how fast."""
    container = _open(path)
    try:
        stream = container.streams.video[0]
        if threads:
            stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else 25.0
        if not MIN_FPS <= fps <= MAX_FPS:
            raise VideoUnreadable(
                f"{path}: a frame rate of {fps:g} per second is not a camera's "
                f"({MIN_FPS:g}–{MAX_FPS:g}): the fall's timing cannot be read from it",
                field="video",
            )
        width, height = stream.codec_context.width, stream.codec_context.height
        if not width or not height:
            raise VideoUnreadable(f"{path}: the video stream has no picture size", field="video")
        detector = ThrowDetector(calibration, width, height, fps)
        events: list[ThrowEvent] = []
        count = 0
        started = time.perf_counter()
        try:
            for frame in container.decode(stream):
                # A size change mid-stream: the calibration is for the first size, so those frames
                # are not looked at, but counted (the frame numbers stay the video's).
                if frame.width == width and frame.height == height:
                    events.extend(detector.push(luma(frame), count))
                count += 1
        except av.error.FFmpegError as exc:
            if count == 0:
                raise VideoUnreadable(f"{path} cannot be decoded as a video: {exc}", field="video") from None
            # Damaged past this point: what was read is reported (a camera's file often ends cut).
        if count == 0:
            raise VideoUnreadable(f"{path} holds no picture that can be decoded", field="video")
        events.extend(detector.finish())
        elapsed = time.perf_counter() - started
    finally:
        container.close()
    return ScanResult(
        video=str(path),
        fps=fps,
        frames=count,
        processing_fps=count / elapsed if elapsed > 0 else 0.0,
        events=tuple(sorted(events, key=lambda e: e.frame)),
        rejected=dict(detector.rejected),
    )


__all__ = ["ScanResult", "VideoUnreadable", "luma", "scan_video"]
