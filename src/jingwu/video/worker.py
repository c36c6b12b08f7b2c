"""A video worker process: reads the cameras the supervisor hands it, keeps their buffers, and
answers the API through its relay. Its only link to the server is one pipe: assignments in,
ready and state reports out (Frigate's shape: decoding never happens in the API's process, and a
worker that crashes takes no more than its own cameras with it, for the moment it is restarted)."""

from __future__ import annotations

import logging
import os
import queue
import secrets
import shutil
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from jingwu.domain.cameras import CameraState
from jingwu.video.reader import CameraReader
from jingwu.video.relay import Relay

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
    except (EOFError, OSError):
        pass  # the supervisor's end of the pipe is gone: stop with it
    finally:
        for reader in readers.values():
            reader.stop()
        deadline = time.monotonic() + 3
        for reader in readers.values():
            reader.join(timeout=max(0.1, deadline - time.monotonic()))
        relay.stop()
        log.info("video worker %s stopped (threads left: %d)", worker_id, threading.active_count())


def _forget(reader: CameraReader) -> None:
    reader.join(timeout=30)
    shutil.rmtree(reader.writer.folder, ignore_errors=True)


__all__ = ["worker_main"]
