"""The video workers of one server process: started when there are cameras to read, handed
their cameras, restarted when they die, their reports passed on (Frigate's watchdog, over the
camera leases that spread the cameras across a cluster's hosts).

Every TICK_S the supervisor renews its leases, plans which worker reads which camera (a camera
stays with its worker while both live), starts or restarts workers (backing off when one keeps
dying) and forwards the workers' state reports to ``on_state``; at once, too, when this process
changed a camera (``wake``): a camera just added starts being read without waiting for the tick.
A camera with a facade calibration (``calibrations``) is analysed for thrown objects by its worker;
a changed or removed calibration is sent again, which restarts or stops the analysis without
touching the camera's reader, and the worker's ``throw`` reports go to ``on_throw``."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from jingwu.domain.cameras import CameraState
from jingwu.service.video import leases

log = logging.getLogger(__name__)

TICK_S = 2.0
NO_ROOM = (
    "no video worker is free to read it: raise JINGWU_VIDEO_WORKERS or JINGWU_CAMERAS_PER_WORKER, "
    "or add a host"
)
RESTART_BACKOFF_MAX_S = 30.0

#: (camera id, state, detail, when) → stored and published by the video service.
StateReport = Callable[[str, CameraState, str | None, datetime], None]
#: A worker's ``throw`` report (see video.throws_feed) → an incident (service.video.throws).
ThrowReport = Callable[[dict[str, Any]], object]


@dataclass(slots=True)
class WorkerSlot:
    """One worker process as the supervisor knows it."""

    index: int
    process: BaseProcess | None = None
    conn: Connection | None = None
    relay: tuple[str, str] | None = None  # its relay's address and token, once it said ready
    cameras: dict[str, str] = field(default_factory=dict)  # camera id → URL it was handed
    throws: dict[str, Any] = field(default_factory=dict)  # camera id → facade calibration
    sent: dict[str, str] | None = None
    sent_throws: dict[str, Any] | None = None
    failures: int = 0
    restart_at: float = 0.0
    started_at: float = 0.0


class VideoSupervisor:
    """Owns this process's video workers; thread-safe start and stop."""

    def __init__(
        self,
        engine: Engine,
        readable: Callable[[], dict[str, str]],
        on_state: StateReport,
        *,
        workers: int,
        cameras_per_worker: int,
        buffer_dir: Path,
        keep_s: float,
        keep_bytes: int,
        relay_host: str = "127.0.0.1",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        calibrations: Callable[[], dict[str, Any]] | None = None,
        on_throw: ThrowReport | None = None,
    ) -> None:
        self.engine = engine
        self.readable = readable
        self.on_state = on_state
        self.calibrations = calibrations or dict
        self.on_throw = on_throw
        self.slots = [WorkerSlot(i) for i in range(workers)]
        self.per_worker = cameras_per_worker
        self.buffer_dir = buffer_dir
        self.keep_s = keep_s
        self.keep_bytes = keep_bytes
        self.relay_host = relay_host
        self.clock = clock
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._said_unread: set[str] = set()
        self._thread: threading.Thread | None = None
        self._context = multiprocessing.get_context("spawn")

    def start(self) -> None:
        if self._thread is None and self.slots:
            self._thread = threading.Thread(target=self._run, name="video-supervisor", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Plan again now, not at the next tick: a camera was added, changed, calibrated or
        retired in this process (another process's change is seen at the next tick)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        for slot in self.slots:
            self._end(slot)
        try:
            leases.release(self.engine, self.holder)
        except Exception:
            log.warning("could not release the camera leases of %s", self.holder, exc_info=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()  # before the tick: a change made during it wakes the next one
            try:
                self.tick()
            except Exception:
                log.exception("video supervisor tick failed")
            deadline = time.monotonic() + TICK_S
            while not self._stop.is_set() and not self._wake.is_set() and time.monotonic() < deadline:
                self._drain(timeout=min(0.2, max(0.0, deadline - time.monotonic())))

    # ------------------------------------------------------------ one round

    def tick(self) -> None:
        wanted = self.readable()
        if not wanted and not any(slot.cameras or slot.process for slot in self.slots):
            return  # nothing to read, nothing held: no write to the database every tick
        relays = {camera_id: slot.relay for slot in self.slots if slot.relay for camera_id in slot.cameras}
        held = leases.claim(
            self.engine,
            self.holder,
            wanted,
            capacity=len(self.slots) * self.per_worker,
            now=self.clock(),
            relays={k: r for k, r in relays.items() if r is not None},
        )
        self._plan({camera_id: wanted[camera_id] for camera_id in held})
        calibrations = self.calibrations()
        for slot in self.slots:
            slot.throws = {c: calibrations[c] for c in slot.cameras if c in calibrations}
        self._say_unread(wanted)
        for slot in self.slots:
            self._keep_alive(slot)
            self._assign(slot)

    def _assign(self, slot: WorkerSlot) -> None:
        """Send the worker its cameras if they changed, once it is ready; its relay goes on their
        leases first, so that a camera is never online with no address to reach it by."""
        if slot.conn is None or slot.relay is None:
            return
        if slot.sent == slot.cameras and slot.sent_throws == slot.throws:
            return
        leases.set_relay(self.engine, self.holder, list(slot.cameras), slot.relay)
        try:
            slot.conn.send({"type": "assign", "cameras": dict(slot.cameras), "throws": dict(slot.throws)})
            slot.sent, slot.sent_throws = dict(slot.cameras), dict(slot.throws)
        except OSError:
            self._died(slot)

    def _say_unread(self, wanted: dict[str, str]) -> None:
        """A camera no worker of the cluster has room for is said so (offline, with the settings
        to raise), not left "unknown" for ever; said once, until some worker takes it."""
        now = self.clock()
        unread = leases.unheld(self.engine, wanted, now)
        for camera_id in sorted(unread - self._said_unread):
            self.on_state(camera_id, CameraState.OFFLINE, NO_ROOM, now)
        if unread - self._said_unread:
            log.warning(
                "%d cameras have no video worker free to read them: raise JINGWU_VIDEO_WORKERS or "
                "JINGWU_CAMERAS_PER_WORKER, or add a host",
                len(unread),
            )
        self._said_unread = unread

    def _plan(self, held: dict[str, str]) -> None:
        """Cameras stay with their worker; a new one goes to the least loaded."""
        for slot in self.slots:
            slot.cameras = {c: u for c, u in slot.cameras.items() if held.get(c) == u}
        placed = {c for slot in self.slots for c in slot.cameras}
        for camera_id in sorted(set(held) - placed):
            slot = min(self.slots, key=lambda s: (len(s.cameras), s.index))
            if len(slot.cameras) < self.per_worker:
                slot.cameras[camera_id] = held[camera_id]

    def _keep_alive(self, slot: WorkerSlot) -> None:
        if slot.process is not None and not slot.process.is_alive():
            self._died(slot)
        if slot.process is None and slot.cameras and time.monotonic() >= slot.restart_at:
            self._spawn(slot)
        if slot.process is not None and not slot.cameras and slot.sent == {}:
            self._end(slot)  # nothing to read: the process is not kept idle

    def _spawn(self, slot: WorkerSlot) -> None:
        from jingwu.video.worker import worker_main  # the worker's code, loaded where it runs

        ours, theirs = self._context.Pipe()
        process = self._context.Process(
            target=worker_main,
            args=(
                theirs,
                f"{slot.index}",
                self.relay_host,
                str(self.buffer_dir),
                self.keep_s,
                self.keep_bytes,
            ),
            name=f"jingwu-video-{slot.index}",
            daemon=True,
        )
        process.start()
        theirs.close()
        slot.process, slot.conn, slot.relay, slot.sent, slot.sent_throws = process, ours, None, None, None
        slot.started_at = time.monotonic()

    def _died(self, slot: WorkerSlot) -> None:
        code = slot.process.exitcode if slot.process is not None else None
        log.warning("video worker %d died (exit %s); restarting", slot.index, code)
        now = self.clock()
        for camera_id in slot.cameras:
            self.on_state(camera_id, CameraState.OFFLINE, "its video worker stopped; restarting", now)
        # A worker that ran a good while before dying starts its back-off over; one that keeps
        # dying at once (a camera that crashes FFmpeg) waits longer each time.
        slot.failures = 1 if time.monotonic() - slot.started_at > 60 else slot.failures + 1
        slot.restart_at = time.monotonic() + min(RESTART_BACKOFF_MAX_S, 0.5 * 2 ** (slot.failures - 1))
        self._end(slot)

    def _end(self, slot: WorkerSlot) -> None:
        if slot.conn is not None:
            with contextlib.suppress(OSError):
                slot.conn.send({"type": "stop"})
        if slot.process is not None:
            slot.process.join(timeout=5)
            if slot.process.is_alive():
                slot.process.terminate()
                slot.process.join(timeout=2)
        if slot.conn is not None:
            slot.conn.close()
        slot.process, slot.conn, slot.relay, slot.sent, slot.sent_throws = None, None, None, None, None

    def _drain(self, timeout: float) -> None:
        conns = [s.conn for s in self.slots if s.conn is not None]
        if not conns:
            self._stop.wait(timeout)
            return
        from multiprocessing.connection import wait

        for ready in wait(conns, timeout=timeout):
            slot = next(s for s in self.slots if s.conn is ready)
            assert slot.conn is not None
            try:
                message: dict[str, Any] = slot.conn.recv()
            except (EOFError, OSError):
                self._died(slot)
                continue
            self._handle(slot, message)

    def _handle(self, slot: WorkerSlot, message: dict[str, Any]) -> None:
        if message.get("type") == "ready":
            slot.relay = (message["relay_url"], message["relay_token"])
            self._assign(slot)
        elif message.get("type") == "state":
            at = datetime.fromtimestamp(message["at"], UTC)
            self.on_state(message["camera_id"], CameraState(message["state"]), message.get("detail"), at)
        elif message.get("type") == "throw" and self.on_throw is not None:
            try:
                self.on_throw(message)
            except Exception:
                log.exception(
                    "the throw reported by camera %s could not be recorded", message.get("camera_id")
                )


__all__ = ["TICK_S", "VideoSupervisor"]
