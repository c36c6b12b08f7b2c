"""``jingwu bench video``: how many camera streams this machine decodes per core (1080p and 720p at
25 frames a second), what a video worker spends on one camera, the live view's latency glass to
glass, and how long a camera that comes back takes to be live in the console again.

* Decoding: a generated H.264 clip (High profile, 4 Mbit/s at 1080p, 2 at 720p, with sensor
  noise: what a camera's main stream costs) decoded in full on one thread (what analysing every frame, as
  thrown-object detection does, costs), frames a second / 25 = streams a core.
* A worker's camera: a CameraReader on a 1080p file replayed at its own pace (the buffer, the live
  feed, keyframe-only health decoding): CPU seconds a second of video.
* Latency: the real chain — a wall-clock-stamped H.264 camera (TimecodeStreamer) → Debian's
  GStreamer RTSP server → a video worker → its relay → the API's WebSocket → Chromium's MSE player
  — each presented frame's timecode read back in the page (web/shared/liveview.js). Needs the
  RTSP rig's Debian packages and Chromium with Playwright (``make test`` installs both); without
  them those figures are null and ``missing`` says why.
* Coming back: the RTSP server killed and started again; the time from its start to the first new
  frame presented in the page."""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av

from jingwu.video.testsrc import write_test_video

FPS = 25
#: A camera's main stream: High profile (CABAC) at a constant bitrate, with sensor noise, so that the
#: generated clip costs about what real footage does to decode.
SIZES = {"1080p": (1920, 1080, 4000), "720p": (1280, 720, 2000)}


def decode_rate(path: Path) -> float:
    """Frames a second decoded on one thread."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "SLICE"
        stream.codec_context.thread_count = 1
        started = time.perf_counter()
        frames = sum(1 for _ in container.decode(stream))
        return frames / (time.perf_counter() - started)


def reader_cpu_share(path: Path, seconds: float) -> float:
    """CPU seconds a worker's reader spends a second of a camera's video (measured on the whole
    process while only the reader runs)."""
    from jingwu.video.reader import CameraReader

    with tempfile.TemporaryDirectory() as folder:
        reader = CameraReader(
            "bench",
            f"file://{path}",
            Path(folder),
            keep_s=60,
            keep_bytes=1 << 30,
            report=lambda *_: None,
        )
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.monotonic()
        reader.start()
        time.sleep(seconds)
        reader.stop()
        reader.join(10)
        after = resource.getrusage(resource.RUSAGE_SELF)
        wall = time.monotonic() - started
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return used / wall


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _server(data_dir: Path) -> Iterator[tuple[str, Any]]:
    """The real app over real services on a loopback port (a thread of this process; the video
    workers are processes of their own)."""
    import uvicorn

    from jingwu.api.factory import WEBSOCKETS, create_app
    from jingwu.composition import build_services
    from jingwu.service.auth import Role
    from jingwu.settings import Settings

    settings = Settings(data_dir=data_dir, video_buffer_s=60)
    services = build_services(settings, migrate=True)
    services.auth.accounts.create_user("bench-admin", "bench-password-123456", Role.ADMIN)
    port = _free_port()
    config = uvicorn.Config(
        create_app(services), host="127.0.0.1", port=port, log_level="warning", ws=WEBSOCKETS
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the bench server did not start")
        time.sleep(0.1)
    try:
        yield url, services
    finally:
        server.should_exit = True
        thread.join(20)
        services.close()


_PAGE = """async ([wsUrl, samples]) => {
  const { openLiveView, measureLatency } = await import('/static/shared/liveview.js');
  const video = document.createElement('video');
  video.muted = true; video.autoplay = true; video.playsInline = true;
  document.body.appendChild(video);
  window.benchStates = [];
  window.benchView = openLiveView(video, wsUrl, { onState: (s) => window.benchStates.push([s, Date.now()]) });
  window.benchVideo = video;
  return await measureLatency(video, { samples, timeoutMs: 60000 });
}"""

_NEXT_FRESH = """async (after) => {
  const { readTimecode } = await import('/static/shared/liveview.js');
  const video = window.benchVideo;
  return await new Promise((resolve) => {
    const check = () => {
      const code = readTimecode(video);
      if (code !== null && code > after) { resolve(Date.now()); return; }
      video.requestVideoFrameCallback(check);
    };
    video.requestVideoFrameCallback(check);
    setTimeout(() => resolve(null), 30000);
  });
}"""


def live_figures(samples: int) -> dict[str, Any]:
    """Latency p50/p99 and the time to come back, on the real chain (see the module's docstring)."""
    import httpx

    from jingwu.bench.video_rig import RtspServer, video_deps_missing
    from jingwu.video.testsrc import TimecodeStreamer

    missing = video_deps_missing()
    if missing:
        return {"missing": missing}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"missing": "playwright is not installed (make test installs it)"}
    if not Path("/usr/bin/chromium").exists():
        return {"missing": "no /usr/bin/chromium (make browser-deps)"}
    rtsp = RtspServer()
    rtsp.start()
    try:
        with (
            TimecodeStreamer(rtsp.udp_port),
            tempfile.TemporaryDirectory() as folder,
            _server(Path(folder)) as (url, _services),
        ):
            with httpx.Client(base_url=url, timeout=30) as api:
                token = api.post(
                    "/api/auth/login", json={"username": "bench-admin", "password": "bench-password-123456"}
                ).json()["access_token"]
                api.headers["Authorization"] = f"Bearer {token}"
                camera = api.post(
                    "/api/cameras",
                    json={
                        "name": "bench",
                        "kind": "fixed",
                        "stream_url": rtsp.url("timecode"),
                        "lat": 45.756,
                        "lon": 126.642,
                        "heading_deg": 0,
                    },
                ).json()
                deadline = time.monotonic() + 60
                while api.get(f"/api/cameras/{camera['id']}").json()["state"] != "online":
                    if time.monotonic() > deadline:
                        raise RuntimeError("the bench camera did not come online")
                    time.sleep(0.2)
            ws_url = (
                f"ws://127.0.0.1:{url.rsplit(':', 1)[1]}/api/cameras/{camera['id']}/live?access_token={token}"
            )
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium",
                    args=[
                        "--headless",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--autoplay-policy=no-user-gesture-required",
                    ],
                )
                try:
                    page = browser.new_page()
                    page.goto(f"{url}/healthz")
                    latency = page.evaluate(_PAGE, [ws_url, samples])
                    # The camera loses power and comes back: to the first new frame presented.
                    rtsp.stop()
                    time.sleep(2.0)
                    stopped_ms = time.time() * 1000
                    rtsp.start()
                    started_ms = time.time() * 1000
                    seen = page.evaluate(_NEXT_FRESH, stopped_ms)
                finally:
                    browser.close()
    finally:
        rtsp.stop()
    values = [float(v) for v in latency.get("samples") or []]
    return {
        "latency_ms": {
            "p50": round(statistics.median(values), 1) if values else None,
            "p99": round(_percentile(values, 0.99), 1) if values else None,
            "samples": len(values),
        },
        "back_after_restart_s": round((seen - started_ms) / 1000, 2) if seen else None,
        "chain": "TimecodeStreamer → GStreamer RTSP → video worker → relay → API WebSocket → Chromium MSE",
    }


def run_video_bench(*, seconds: float = 4.0, latency_samples: int = 200, live: bool = True) -> dict[str, Any]:
    result: dict[str, Any] = {"machine": {"cpus": os.cpu_count()}, "fps": FPS}
    with tempfile.TemporaryDirectory() as folder:
        for name, (width, height, kbps) in SIZES.items():
            path = write_test_video(
                Path(folder) / f"{name}.mp4",
                width=width,
                height=height,
                fps=FPS,
                seconds=seconds,
                noise=3.0,
                profile="high",
                bitrate_kbps=kbps,
            )
            rate = decode_rate(path)
            result[name] = {
                "bitrate_mbps": round(path.stat().st_size * 8 / seconds / 1e6, 2),
                "decode_fps_one_core": round(rate, 1),
                "streams_decoded_per_core": round(rate / FPS, 2),
                "worker_cpu_share_per_camera": round(reader_cpu_share(path, seconds), 3),
            }
    if live:
        result["live"] = live_figures(latency_samples)
    return result


__all__ = ["decode_rate", "live_figures", "reader_cpu_share", "run_video_bench"]
