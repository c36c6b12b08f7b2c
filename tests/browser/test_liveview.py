"""The live view end to end: a camera made of libx264 (zerolatency) stamping each frame with the
wall-clock timecode strip, Fmp4Muxer, a WebSocket, and liveview.js in Debian's Chromium.

Run alone for the latency figure: ``pytest -p no:xdist -s tests/browser/test_liveview.py``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from jingwu.video.fmp4 import Fmp4Muxer, GopCache
from tests.browser.conftest import REPO_ROOT, ContextFactory, PageErrors

pytestmark = [pytest.mark.browser, pytest.mark.alone]

SHARED = REPO_ROOT / "src" / "jingwu" / "web" / "shared"
WIDTH, HEIGHT, FPS = 640, 360, 25
WHITE, BLACK = 235, 16  # limited-range luma, as the encoder expects

PAGE = """<!doctype html><html><head><link rel="icon" href="data:,"></head><body>
<video id="v" muted autoplay playsinline width="640" height="360"></video>
<script type="module">
  import { openLiveView, readTimecode, measureLatency } from "/shared/liveview.js";
  window.states = [];
  window.readTimecode = () => readTimecode(document.getElementById("v"));
  window.measureLatency = (n) => measureLatency(document.getElementById("v"), { samples: n });
  window.view = openLiveView(document.getElementById("v"), "/ws/live", {
    onState: (s, d) => window.states.push(s),
  });
</script></body></html>"""


def stamp(luma: np.ndarray, ms: int) -> None:
    """The timecode strip (see liveview.js readTimecode) into a luma plane, in place."""
    value = [(ms >> (40 - 8 * i)) & 0xFF for i in range(6)]
    bits = [1, 0] + [(ms >> (47 - i)) & 1 for i in range(48)]
    bits += [(sum(value) % 256 >> (7 - i)) & 1 for i in range(8)]
    bits += [0] * (64 - len(bits))
    strip = np.repeat(np.where(np.array(bits, dtype=bool), WHITE, BLACK).astype(np.uint8), 8)
    luma[0:8, 0 : 64 * 8] = strip


class Camera:
    """Encodes frames live at FPS in a thread and hands each fragment to every subscriber."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[tuple[str, object]]]] = []
        self._gop: GopCache[bytes] = GopCache()
        self._mime: str | None = None
        self._init: bytes | None = None
        self._stop = threading.Event()
        self._drop = threading.Event()
        self.connections = 0
        self.restarted_at_ms = 0
        self._thread = threading.Thread(target=self._run, name="camera", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def subscribe(self) -> asyncio.Queue[tuple[str, object]]:
        queue: asyncio.Queue[tuple[str, object]] = asyncio.Queue()
        with self._lock:  # the snapshot and the live fragments after it, with nothing between
            self.connections += 1
            if self._init is not None:
                queue.put_nowait(("text", json.dumps({"type": "init", "mime": self._mime})))
                queue.put_nowait(("bytes", self._init))
                for fragment in self._gop.snapshot():
                    queue.put_nowait(("bytes", fragment))
            self._subscribers.append((asyncio.get_running_loop(), queue))
        return queue

    def unsubscribe(self, queue: asyncio.Queue[tuple[str, object]]) -> None:
        with self._lock:
            self._subscribers = [(lp, q) for lp, q in self._subscribers if q is not queue]

    def _broadcast(self, kind: str, payload: object) -> None:
        for loop, queue in self._subscribers:
            loop.call_soon_threadsafe(queue.put_nowait, (kind, payload))

    def kick(self) -> None:
        """The server closes every viewer's socket."""
        with self._lock:
            self._broadcast("close", None)

    def drop(self) -> None:
        """The camera goes offline for a second, then comes back with a new encoder."""
        self._drop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._drop.clear()
            self._stream()
            if self._stop.is_set():
                return
            with self._lock:
                self._init = self._mime = None
                self._gop.clear()
                self._broadcast("text", json.dumps({"type": "state", "state": "offline", "detail": "test"}))
            time.sleep(1.0)
            with self._lock:
                self._broadcast("text", json.dumps({"type": "state", "state": "online", "detail": ""}))
            self.restarted_at_ms = int(time.time() * 1000)

    def _stream(self) -> None:
        encoder = av.CodecContext.create("libx264", "w")
        encoder.width, encoder.height, encoder.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        encoder.time_base = Fraction(1, FPS)
        encoder.framerate = Fraction(FPS)
        # ultrafast + zerolatency: no lookahead, no B-frames, one packet out per frame in;
        # no global header, so the SPS/PPS come in-band (as from RTSP without sprop-parameter-sets)
        encoder.options = {"preset": "ultrafast", "tune": "zerolatency", "g": "25", "keyint_min": "25"}
        encoder.open()
        muxer = Fmp4Muxer(encoder)
        yuv = np.full((HEIGHT * 3 // 2, WIDTH), 128, np.uint8)
        start = time.monotonic()
        index = 0
        while not self._stop.is_set() and not self._drop.is_set():
            delay = start + index / FPS - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            luma = yuv[:HEIGHT]
            luma[:] = np.uint8(60 + (index * 3) % 120)  # something that changes
            stamp(luma, int(time.time() * 1000))
            frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
            frame.pts = index
            frame.time_base = encoder.time_base
            for packet in encoder.encode(frame):
                fragment = muxer.mux(packet)
                if fragment is None:
                    continue
                with self._lock:
                    if self._init is None and muxer.init_segment is not None:
                        self._init, self._mime = muxer.init_segment, muxer.mime
                        self._broadcast("text", json.dumps({"type": "init", "mime": self._mime}))
                        self._broadcast("bytes", self._init)
                    self._gop.push(fragment.data, keyframe=fragment.keyframe)
                    self._broadcast("bytes", fragment.data)
            index += 1


def make_app(camera: Camera) -> Starlette:
    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(PAGE)

    async def live(websocket: WebSocket) -> None:
        await websocket.accept()
        queue = camera.subscribe()
        try:
            while True:
                kind, payload = await queue.get()
                if kind == "close":
                    await websocket.close(code=1011)
                    return
                if kind == "text":
                    await websocket.send_text(str(payload))
                else:
                    assert isinstance(payload, bytes)
                    await websocket.send_bytes(payload)
        except WebSocketDisconnect:
            pass
        finally:
            camera.unsubscribe(queue)

    return Starlette(
        routes=[
            Route("/", page),
            WebSocketRoute("/ws/live", live),
            Mount("/shared", StaticFiles(directory=SHARED)),
        ]
    )


@pytest.fixture
def camera_server() -> Iterator[tuple[str, Camera]]:
    camera = Camera()
    camera.start()
    port = _free_port()
    config = uvicorn.Config(
        make_app(camera),
        host="127.0.0.1",
        port=port,
        ws="websockets-sansio",
        lifespan="off",
        log_config=None,
        log_level="warning",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="liveview-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", camera
    finally:
        server.should_exit = True
        thread.join(10)
        camera.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _now_ms() -> int:
    return int(time.time() * 1000)


def test_live_view_plays_with_low_latency_and_recovers(
    camera_server: tuple[str, Camera], new_context: ContextFactory, page_errors: PageErrors, tmp_path: Path
) -> None:
    url, camera = camera_server
    page = new_context().new_page()
    page.goto(url + "/")

    # It plays: the playhead moves and the pictures carry fresh timecodes
    page.wait_for_function("document.getElementById('v').currentTime > 0.5", timeout=10_000)
    t0 = page.evaluate("document.getElementById('v').currentTime")
    page.wait_for_function(f"document.getElementById('v').currentTime > {t0} + 0.5", timeout=5_000)
    code = page.evaluate("window.readTimecode()")
    assert code is not None and abs(_now_ms() - code) < 3_000

    result = page.evaluate("window.measureLatency(75)")
    samples = result["samples"]
    assert len(samples) >= 50, result
    p50 = statistics.median(samples)
    p99 = sorted(samples)[min(len(samples) - 1, int(0.99 * len(samples)))]
    print(
        f"\nlive view glass-to-glass latency over {len(samples)} frames: p50 {p50:.0f} ms, p99 {p99:.0f} ms"
    )
    assert 0 <= p50 < 1000

    # The server drops the socket: the player reconnects by itself and plays fresh pictures again
    kicked_at = _now_ms()
    camera.kick()
    page.wait_for_function(
        f"(() => {{ const c = window.readTimecode(); return c !== null && c > {kicked_at} + 200; }})()",
        timeout=10_000,
    )
    assert camera.connections >= 2
    states = page.evaluate("window.states")
    assert "reconnecting" in states and states[-1] == "live", states

    # The camera drops and returns: "offline", then a new init segment, and the picture comes back
    camera.drop()
    page.wait_for_function("window.states.includes('offline')", timeout=5_000)
    page.wait_for_function(
        f"(() => {{ const c = window.readTimecode(); return c !== null && c > {_now_ms() + 500}; }})()",
        timeout=10_000,
    )
    assert page.evaluate("window.states.slice(-3)") == ["offline", "online", "live"]

    page.evaluate("window.view.close()")
    assert page.evaluate("window.states.at(-1)") == "closed"
    assert page_errors.excluding("WebSocket") == []
