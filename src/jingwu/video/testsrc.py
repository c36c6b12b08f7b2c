"""Test videos whose every frame says when it was made: files for the tests and the bench, and a live
"camera" (``TimecodeStreamer``) for the glass-to-glass latency measurement.

Each picture of the "moving" pattern is a textured background with a few coloured shapes moving
across it, a human-readable clock (``HH:MM:SS.mmm``, UTC time of day of the frame's value) and,
in the top-left corner, the machine-readable TIMECODE STRIP.

The TIMECODE STRIP (a fixed layout: the browser's JavaScript decoder is written from this text)
-----------------------------------------------------------------------------------------------

* 64 cells of 8×8 pixels on the rows y = 0..7; cell ``i`` (0..63) covers x = 8i..8i+7, so the strip
  is 512 pixels wide and the picture must be at least 512 wide.
* A white cell (RGB 255,255,255) is a 1 bit, a black cell (RGB 0,0,0) a 0 bit.
* Cells 0 and 1 are the marker: 1 then 0.
* Cells 2..49 are the 48-bit value, most significant bit first (cell 2 is bit 47): milliseconds since
  the Unix epoch for the live streamer; for files ``start_ms + round(i * 1000 / fps)`` for frame ``i``.
* Cells 50..57 are an 8-bit checksum, most significant bit first: the sum of the value's six bytes
  (big-endian) modulo 256.
* Cells 58..63 are 0.
* To decode, take the mean luma of the centre 4×4 pixels of each cell (x = 8i+2..8i+5,
  y = 2..5): above 128 is a 1. A picture whose marker or checksum does not match has no timecode.

``read_timecode`` is the Python decoder. The pattern "black" has no strip (it is a lost picture), and
"frozen" repeats the first picture, strip included.
"""

from __future__ import annotations

import threading
import time
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Literal

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = [
    "STRIP_CELL",
    "STRIP_CELLS",
    "STRIP_WIDTH",
    "TimecodeStreamer",
    "draw_timecode",
    "frame_timecode_ms",
    "read_timecode",
    "write_test_video",
]

Pattern = Literal["moving", "black", "frozen"]
Codec = Literal["h264", "mpeg4", "mjpeg"]

STRIP_CELL = 8
STRIP_CELLS = 64
STRIP_WIDTH = STRIP_CELL * STRIP_CELLS
_VALUE_BITS = 48
_MARKER = (1, 0)
_VALUE_FIRST = 2
_CHECKSUM_FIRST = _VALUE_FIRST + _VALUE_BITS  # 50
_CHECKSUM_BITS = 8
_MAX_VALUE = (1 << _VALUE_BITS) - 1

_CLOCK_TOP = STRIP_CELL + 6  # the readable clock sits just under the strip
_SHAPES = (  # (colour, size, speed in px/s along x, speed along y, kind)
    ((230, 40, 40), 70, 150.0, 60.0, "rect"),
    ((40, 200, 60), 56, -110.0, 90.0, "disc"),
    ((50, 90, 240), 90, 80.0, -45.0, "rect"),
    ((250, 210, 30), 44, -190.0, -70.0, "disc"),
)


# ------------------------------------------------------------------------------ the strip


def _checksum(value: int) -> int:
    return sum(value.to_bytes(6, "big")) % 256


def _strip_bits(value: int) -> list[int]:
    if not 0 <= value <= _MAX_VALUE:
        raise ValueError(f"a timecode is 0..2**48-1, not {value}")
    bits = list(_MARKER)
    bits += [(value >> (_VALUE_BITS - 1 - k)) & 1 for k in range(_VALUE_BITS)]
    checksum = _checksum(value)
    bits += [(checksum >> (_CHECKSUM_BITS - 1 - k)) & 1 for k in range(_CHECKSUM_BITS)]
    bits += [0] * (STRIP_CELLS - len(bits))
    return bits


def draw_timecode(rgb: np.ndarray, value: int) -> None:
    """Paint the strip for `value` into the top-left of an H×W×3 uint8 picture, in place."""
    if rgb.shape[1] < STRIP_WIDTH or rgb.shape[0] < STRIP_CELL:
        raise ValueError(f"the timecode strip needs a picture at least {STRIP_WIDTH}×{STRIP_CELL}")
    cells = np.repeat(np.array(_strip_bits(value), dtype=np.uint8) * 255, STRIP_CELL)
    rgb[:STRIP_CELL, :STRIP_WIDTH, :] = cells[None, :, None]


def read_timecode(gray: np.ndarray) -> int | None:
    """The value of the strip in an H×W uint8 luma picture, or None when its marker or checksum fails
    (no strip, a black picture, a picture too small)."""
    if gray.ndim != 2 or gray.shape[0] < STRIP_CELL or gray.shape[1] < STRIP_WIDTH:
        return None
    centres = gray[2:6, :STRIP_WIDTH].astype(np.float32).reshape(4, STRIP_CELLS, STRIP_CELL)[:, :, 2:6]
    bits = (centres.mean(axis=(0, 2)) > 128).astype(np.int64)
    if (bits[0], bits[1]) != _MARKER:
        return None
    value = 0
    for bit in bits[_VALUE_FIRST:_CHECKSUM_FIRST]:
        value = (value << 1) | int(bit)
    checksum = 0
    for bit in bits[_CHECKSUM_FIRST : _CHECKSUM_FIRST + _CHECKSUM_BITS]:
        checksum = (checksum << 1) | int(bit)
    if checksum != _checksum(value):
        return None
    return value


def frame_timecode_ms(index: int, fps: float, start_ms: int = 0) -> int:
    """The timecode of frame `index` of a file written by `write_test_video`."""
    return start_ms + round(index * 1000 / fps)


# ------------------------------------------------------------------------------ the pictures


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (OSError, ValueError):  # Pillow without FreeType: the small bitmap font still reads
        return ImageFont.load_default()


class _Painter:
    """Draws the "moving" pictures of one size; the background and font are made once."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        y, x = np.mgrid[0:height, 0:width]
        # Gradients plus a fine checker: texture that an encoder must spend bits on, as a real scene.
        checker = ((x // 16 + y // 16) % 2) * 24
        self.background = np.stack(
            [
                (60 + 80 * x / max(width - 1, 1) + checker),
                (70 + 60 * y / max(height - 1, 1) + checker),
                (110 + 40 * np.sin(x / 23.0) * np.cos(y / 17.0) + checker),
            ],
            axis=-1,
        ).astype(np.uint8)
        self.font = _font(max(12, height // 14))
        self.disc_masks = {
            size: (np.hypot(*np.mgrid[0:size, 0:size] - (size - 1) / 2) <= size / 2)
            for _, size, _, _, kind in _SHAPES
            if kind == "disc"
        }

    def picture(self, seconds: float, value: int) -> np.ndarray:
        rgb = self.background.copy()
        for colour, size, vx, vy, kind in _SHAPES:
            x = _bounce(vx * seconds + self.width / 3, self.width - size)
            y = _bounce(vy * seconds + self.height / 2, self.height - size)
            region = rgb[y : y + size, x : x + size]
            if kind == "rect":
                region[:] = colour
            else:
                mask = self.disc_masks[size][: region.shape[0], : region.shape[1]]
                region[mask] = colour
        self._clock(rgb, value)
        if self.width >= STRIP_WIDTH:
            draw_timecode(rgb, value)
        return rgb

    def _clock(self, rgb: np.ndarray, value: int) -> None:
        ms = value % 86_400_000
        text = f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"
        _, _, right, bottom = self.font.getbbox(text)
        w, h = int(right) + 8, int(bottom) + 6
        w, h = min(w, self.width - 4), min(h, self.height - _CLOCK_TOP)
        label = Image.new("RGB", (w, h), (0, 0, 0))
        ImageDraw.Draw(label).text((4, 2), text, fill=(255, 255, 255), font=self.font)
        rgb[_CLOCK_TOP : _CLOCK_TOP + h, 4 : 4 + w] = np.asarray(label)


def _bounce(position: float, span: int) -> int:
    """A coordinate moving along a line, reflected at 0 and `span` (a shape bouncing off the edges)."""
    if span <= 0:
        return 0
    p = position % (2 * span)
    return int(p if p <= span else 2 * span - p)


# ------------------------------------------------------------------------------ files

_ENCODERS: dict[str, tuple[str, str]] = {  # our codec name → (FFmpeg encoder, pixel format)
    "h264": ("libx264", "yuv420p"),
    "mpeg4": ("mpeg4", "yuv420p"),
    "mjpeg": ("mjpeg", "yuvj420p"),
}


def write_test_video(
    path: str | Path,
    *,
    width: int = 640,
    height: int = 360,
    fps: int = 25,
    seconds: float = 4.0,
    codec: Codec = "h264",
    pattern: Pattern = "moving",
    start_ms: int | None = None,
    gop: int | None = None,
    noise: float = 0.0,
    profile: str = "baseline",
    bitrate_kbps: int | None = None,
) -> Path:
    """Write `seconds` of `pattern` at `fps` to `path` (the container from its extension: .mp4, .ts,
    .mkv, .avi…) and return the path. H.264 is libx264, yuv420p, constrained baseline (no B-frames),
    with a keyframe exactly every `gop` frames (default `fps`: one a second); "mpeg4" (MPEG-4 part 2)
    and "mjpeg" are for the other-codec cases. Frame i carries the timecode
    ``frame_timecode_ms(i, fps, start_ms)`` (start_ms defaults to 0). ``noise`` adds sensor noise of
    that standard deviation (grey levels); with ``profile`` ("high": CABAC) and a camera's constant
    ``bitrate_kbps`` it makes a clip about as costly to decode as a real camera's, for the benchmark."""
    if codec not in _ENCODERS:
        raise ValueError(f"unknown codec {codec!r}: one of {sorted(_ENCODERS)}")
    if pattern not in ("moving", "black", "frozen"):
        raise ValueError(f"unknown pattern {pattern!r}: moving, black or frozen")
    if width % 2 or height % 2:
        raise ValueError("4:2:0 video needs an even width and height")
    path = Path(path)
    start = 0 if start_ms is None else start_ms
    gop = fps if gop is None else gop
    frames = max(1, round(seconds * fps))
    encoder, pix_fmt = _ENCODERS[codec]
    painter = _Painter(width, height)
    noise_rng = np.random.default_rng(0)
    options: dict[str, str] = {}
    if codec == "h264":
        options = {
            "profile": profile,
            "preset": "veryfast",
            "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0"
            + (
                f":bitrate={bitrate_kbps}:vbv-maxrate={bitrate_kbps}:vbv-bufsize={bitrate_kbps}"
                if bitrate_kbps
                else ""
            ),
        }
    with av.open(str(path), "w") as container:
        stream = container.add_stream(encoder, rate=fps, options=options)
        assert isinstance(stream, av.VideoStream)  # for the type checker: a video encoder's stream
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        stream.gop_size = gop
        stream.time_base = Fraction(1, fps)
        if codec == "mjpeg":
            stream.codec_context.qmin = stream.codec_context.qmax = 3  # crisp cells, not a blurry strip
        first: np.ndarray | None = None
        for i in range(frames):
            value = frame_timecode_ms(i, fps, start)
            if pattern == "black":
                rgb = np.zeros((height, width, 3), np.uint8)
            elif pattern == "frozen":
                first = painter.picture(0.0, start) if first is None else first
                rgb = first
            else:
                rgb = painter.picture(i / fps, value)
            if noise:
                grain = noise_rng.normal(0.0, noise, (height, width, 1)).astype(np.int16)
                rgb = np.clip(rgb.astype(np.int16) + grain, 0, 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


# ------------------------------------------------------------------------------ the live camera


class TimecodeStreamer:
    """A live "camera": in real time, frames stamped with the wall clock (``time.time()`` in ms, read
    as each frame is made), H.264 by libx264 (ultrafast, zerolatency, a keyframe a second, no
    B-frames), sent as MPEG-TS over UDP to ``host:udp_port``. ``start()`` / ``stop()``, or ``with``.

    ``frames_sent`` counts the frames handed to the network; ``error`` holds what stopped the
    thread early, if anything."""

    def __init__(
        self, udp_port: int, *, width: int = 640, height: int = 360, fps: int = 25, host: str = "127.0.0.1"
    ) -> None:
        if width < STRIP_WIDTH:
            raise ValueError(f"the timecode strip needs a width of at least {STRIP_WIDTH}")
        self.udp_port, self.width, self.height, self.fps, self.host = udp_port, width, height, fps, host
        self.frames_sent = 0
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self.error = None
        self._thread = threading.Thread(target=self._run, name=f"timecode-udp-{self.udp_port}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def __enter__(self) -> TimecodeStreamer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            self._stream()
        except BaseException as exc:  # kept for the caller: a thread's exception is otherwise lost
            self.error = exc

    def _stream(self) -> None:
        painter = _Painter(self.width, self.height)
        # pkt_size: whole TS packets per datagram; flush_packets: each frame leaves at once instead of
        # waiting in the I/O buffer for the next one (that wait would be latency we do not want).
        url = f"udp://{self.host}:{self.udp_port}?pkt_size=1316"
        with av.open(url, "w", format="mpegts", options={"flush_packets": "1"}) as out:
            stream = out.add_stream(
                "libx264",
                rate=self.fps,
                options={
                    "preset": "ultrafast",
                    "tune": "zerolatency",
                    "x264-params": f"keyint={self.fps}:min-keyint={self.fps}:scenecut=0:bframes=0",
                },
            )
            stream.width, stream.height, stream.pix_fmt = self.width, self.height, "yuv420p"
            stream.gop_size = self.fps
            time_base = Fraction(1, 1000)
            stream.codec_context.time_base = time_base
            t0 = time.monotonic()
            index = 0
            while not self._stop.is_set():
                due = t0 + index / self.fps
                delay = due - time.monotonic()
                if delay > 0:
                    self._stop.wait(delay)
                    if self._stop.is_set():
                        break
                elif delay < -1.0:  # fell far behind (a stalled machine): skip ahead, as a camera would
                    index = int((time.monotonic() - t0) * self.fps)
                now_ms = int(time.time() * 1000)
                frame = av.VideoFrame.from_ndarray(painter.picture(now_ms / 1000, now_ms), format="rgb24")
                frame.pts = round((time.monotonic() - t0) * 1000)
                frame.time_base = time_base
                out.mux(stream.encode(frame))
                self.frames_sent += 1
                index += 1
