"""A video worker process: reads the cameras the supervisor hands it, keeps their buffers, and
answers the API through its relay. Its only link to the server is one pipe: assignments in,
ready, state and throw reports out (Frigate's shape: decoding never happens in the API's process,
and a worker that crashes takes no more than its own cameras with it, for the moment it is
restarted). A camera assigned with a facade calibration is also analysed for thrown objects
(:mod:`jingwu.video.throws_feed`), beside its reader and without touching it."""

from __future__ import annotations

import logging
import os
import queue
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jingwu.domain.cameras import CameraState
from jingwu.video.reader import CameraReader
from jingwu.video.relay import Relay

if TYPE_CHECKING:
    from jingwu.video.throws_feed import ThrowAnalyser

log = logging.getLogger(__name__)

POLL_S = 0.1


def worker_main(
    conn: Connection,
    worker_id: str,
    relay_host: str,
    buffer_dir: str,
    keep_s: float,
    keep_bytes: int,
) -> None:
    """The worker process's body; returns when told to stop or when its supervisor is gone."""
    logging.basicConfig(level=logging.WARNING, format=f"%(asctime)s video-worker {worker_id} %(message)s")
    parent = os.getppid()
    buffers = Path(buffer_dir)
    readers: dict[str, CameraReader] = {}
    urls: dict[str, str] = {}
    analysers: dict[str, ThrowAnalyser] = {}
    reports: queue.Queue[dict[str, Any]] = queue.Queue()
    token = secrets.token_urlsafe(24)
    relay = Relay(relay_host, token, lambda: dict(readers), buffers / ".clips")
    relay.start()
    conn.send({"type": "ready", "worker": worker_id, "relay_url": relay.url, "relay_token": token})

    def report(camera_id: str, state: CameraState, detail: str | None) -> None:
        # From reader threads: only this process's main loop writes to the pipe.
        reports.put(
            {
                "type": "state",
                "camera_id": camera_id,
                "state": str(state),
                "detail": detail,
                "at": time.time(),
            }
        )

    try:
        while os.getppid() == parent:
            while True:
                try:
                    conn.send(reports.get_nowait())
                except queue.Empty:
                    break
            if not conn.poll(POLL_S):
                continue
            message = conn.recv()
            if message.get("type") == "stop":
                break
            if message.get("type") == "assign":
                wanted: dict[str, str] = message["cameras"]
                for camera_id in [c for c in readers if wanted.get(c) != urls.get(c)]:
                    reader = readers.pop(camera_id)
                    reader.stop()
                    urls.pop(camera_id, None)
                    if camera_id not in wanted:
                        # Not read here any more (retired, disabled, moved to another host): its
                        # buffer goes too, once the reader has let go of it.
                        threading.Thread(target=_forget, args=(reader,), daemon=True).start()
                for camera_id, url in wanted.items():
                    if camera_id not in readers:
                        reader = CameraReader(
                            camera_id, url, buffers, keep_s=keep_s, keep_bytes=keep_bytes, report=report
                        )
                        readers[camera_id], urls[camera_id] = reader, url
                        reader.start()
                _analyse(readers, analysers, message.get("throws") or {}, reports.put)
    except (EOFError, OSError):
        pass  # the supervisor's end of the pipe is gone: stop with it
    finally:
        for analyser in analysers.values():
            analyser.stop()
        for reader in readers.values():
            reader.stop()
        deadline = time.monotonic() + 3
        for reader in readers.values():
            reader.join(timeout=max(0.1, deadline - time.monotonic()))
        relay.stop()
        log.info("video worker %s stopped (threads left: %d)", worker_id, threading.active_count())


def _analyse(
    readers: dict[str, CameraReader],
    analysers: dict[str, ThrowAnalyser],
    calibrations: dict[str, Any],
    report: Callable[[dict[str, Any]], None],
) -> None:
    """The thrown-object analysers as assigned: one per calibrated camera read here, started
    again when its calibration changed or its reader was replaced (a new URL), stopped when its
    calibration was removed. The readers themselves are left as they are."""
    for camera_id in list(analysers):
        analyser = analysers[camera_id]
        if (
            readers.get(camera_id) is not analyser.reader
            or calibrations.get(camera_id) != analyser.calibration_json
            or not analyser.is_alive()
        ):
            analysers.pop(camera_id).stop()
    wanted = {c: cal for c, cal in calibrations.items() if c in readers and c not in analysers}
    if not wanted:
        return
    # Loaded only where a camera is analysed: OpenCV and the detector stay out of other workers.
    from jingwu.video.throws_feed import start_analyser
    from jingwu.vision.throws.calibration import CalibrationError

    for camera_id, calibration in wanted.items():
        try:
            analysers[camera_id] = start_analyser(readers[camera_id], calibration, report)
        except CalibrationError as exc:
            log.error("camera %s: its facade calibration is refused here (%s)", camera_id, exc)


def _forget(reader: CameraReader) -> None:
    reader.join(timeout=30)
    shutil.rmtree(reader.writer.folder, ignore_errors=True)


__all__ = ["worker_main"]
