"""A real RTSP camera rig for the video tests and ``jingwu bench video``: Debian's GStreamer RTSP
server (:mod:`jingwu.bench.rtsp_server`, run under /usr/bin/python3, where ``gi`` imports) in a
process of its own, serving moving clock-stamped streams, a switchable one, one behind a password,
an H.265 one and a /timecode mount fed by :class:`jingwu.video.testsrc.TimecodeStreamer`."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import quote

SERVER_SCRIPT = Path(__file__).resolve().parent / "rtsp_server.py"
SYSTEM_PYTHON = "/usr/bin/python3"
DEBIAN_PACKAGES = (
    "ffmpeg gir1.2-gst-rtsp-server-1.0 python3-gst-1.0 gstreamer1.0-plugins-good "
    "gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav"
)
START_TIMEOUT_S = 15.0
USER, PASSWORD = "admin", "s3cret"
_PROBE = (
    "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0'); "
    "from gi.repository import Gst, GstRtspServer; Gst.init(None); "
    "missing = [e for e in ('x264enc', 'x265enc', 'rtph264pay', 'tsdemux', 'clockoverlay', 'h264parse') "
    "if Gst.ElementFactory.find(e) is None]; print(' '.join(missing))"
)
_missing: str | None = None
_checked = False


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def video_deps_missing() -> str | None:
    """Why the RTSP server cannot run here, or None. Asked of Debian's python3 once per process."""
    global _missing, _checked
    if _checked:
        return _missing
    _checked = True
    problem: str | None = None
    if not Path(SYSTEM_PYTHON).exists():
        problem = f"no {SYSTEM_PYTHON}"
    else:
        probe = subprocess.run([SYSTEM_PYTHON, "-c", _PROBE], capture_output=True, text=True, timeout=30)
        if probe.returncode != 0:
            problem = "gi/GstRtspServer does not import under " + SYSTEM_PYTHON
        elif probe.stdout.strip():
            problem = f"GStreamer elements missing: {probe.stdout.strip()}"
    if problem:
        _missing = (
            f"{problem}: the video tests need Debian's {DEBIAN_PACKAGES}. "
            f"Run `make video-deps` as root, or `apt-get install -y {DEBIAN_PACKAGES}`."
        )
    return _missing


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RtspServer:
    """The RTSP server process. ``port`` and ``udp_port`` (the /timecode feed) never change, across
    ``stop()`` / ``start()`` too, so a reader can reconnect to the same URL."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.udp_port = free_port(socket.SOCK_DGRAM)
        self._process: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._pump_thread: threading.Thread | None = None

    def url(self, mount: str, user: str | None = None, password: str | None = None) -> str:
        auth = ""
        if user is not None:
            auth = (
                quote(user, safe="") + (f":{quote(password, safe='')}" if password is not None else "") + "@"
            )
        return f"rtsp://{auth}{self.host}:{self.port}/{mount.lstrip('/')}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start serving on the same port; returns once the server says ``ready``."""
        if self.running:
            raise RuntimeError("the RTSP server is already running")
        self._lines = queue.Queue()
        process = subprocess.Popen(
            [SYSTEM_PYTHON, str(SERVER_SCRIPT), "--port", str(self.port), "--udp-port", str(self.udp_port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
            start_new_session=True,  # its own process group: stop() takes the encoder child down too
        )
        self._process = process
        self._pump_thread = threading.Thread(target=self._pump, args=(process, self._lines), daemon=True)
        self._pump_thread.start()
        if self._answer(START_TIMEOUT_S) != "ready":
            self.stop()
            raise RuntimeError(f"the RTSP server did not start on port {self.port}")

    def stop(self) -> None:
        """Kill the server (SIGKILL, as a camera losing power): its streams are gone at once."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        if self._pump_thread is not None:
            self._pump_thread.join(5)  # it reads stdout to its end, which the kill has just made
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()
        # The kernel frees the listening port with the process; wait until nothing answers on it.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection((self.host, self.port), 0.2).close()
            except OSError:
                return
            time.sleep(0.05)

    def restart(self) -> None:
        self.stop()
        self.start()

    def switch(self, state: str) -> None:
        """Switch the /switch mount's picture: "moving", "black", "frozen" or "nosignal"."""
        process = self._process
        if process is None or process.stdin is None:
            raise RuntimeError("the RTSP server is stopped")
        process.stdin.write(f"switch {state}\n")
        process.stdin.flush()
        answer = self._answer(5.0)
        if answer != "ok":
            raise RuntimeError(f"switch {state}: {answer}")

    def _answer(self, timeout: float) -> str | None:
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            return None

    @staticmethod
    def _pump(process: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.strip())
        lines.put(None)


__all__ = ["DEBIAN_PACKAGES", "PASSWORD", "USER", "RtspServer", "free_port", "video_deps_missing"]
