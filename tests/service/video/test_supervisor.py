"""The video supervisor and its leases, with real worker processes reading generated files as
cameras: each camera read by exactly one worker across supervisors (a cluster's hosts), a
worker that dies restarted with its cameras, a host that stops giving its cameras up."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from jingwu.composition import Services
from jingwu.domain.cameras import CameraState
from jingwu.service.video import supervisor as supervisor_module
from jingwu.service.video.supervisor import VideoSupervisor
from jingwu.store import video_tables as v
from jingwu.store.db import read_transaction
from jingwu.video.testsrc import write_test_video
from tests.conftest import ServicesFactory

pytestmark = pytest.mark.slow


def _register(services: Services, count: int) -> list[str]:
    folder = services.settings.resolved_video_file_dir
    folder.mkdir(parents=True, exist_ok=True)
    video = write_test_video(folder / "loop.mp4", seconds=2.0)
    ids = []
    for i in range(count):
        fields = {
            "name": f"cam {i}",
            "kind": "fixed",
            "stream_url": f"file://{video}",
            "lat": 45.756,
            "lon": 126.642 + i * 0.001,
            "heading_deg": 90,
        }
        ids.append(services.video.add(fields, actor="test", source=None, probe=False).id)
    return ids


def _supervisor(
    services: Services, reports: list[tuple[str, CameraState]], tmp: Path, name: str
) -> VideoSupervisor:
    def on_state(camera_id: str, state: CameraState, _detail: str | None, _at: datetime) -> None:
        reports.append((camera_id, state))

    return VideoSupervisor(
        services.engine,
        services.video.registry.readable,
        on_state,
        workers=1,
        cameras_per_worker=2,
        buffer_dir=tmp / name,
        keep_s=30,
        keep_bytes=10**8,
    )


def _holders(services: Services) -> dict[str, str]:
    with read_transaction(services.engine) as conn:
        return {r.camera_id: r.holder for r in conn.execute(select(v.camera_leases))}


def _until(condition: Callable[[], bool], within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_each_camera_is_read_by_exactly_one_worker_and_a_stopped_host_hands_its_cameras_over(
    make_services: ServicesFactory, tmp_path: Path
) -> None:
    services = make_services(use_clock=False)
    ids = _register(services, 3)
    reports_a: list[tuple[str, CameraState]] = []
    reports_b: list[tuple[str, CameraState]] = []
    a = _supervisor(services, reports_a, tmp_path, "a")
    b = _supervisor(services, reports_b, tmp_path, "b")
    a.start()
    b.start()
    try:
        # Two hosts of capacity two share three cameras: each held once, all three read.
        assert _until(lambda: len(_holders(services)) == 3, 15), _holders(services)
        assert _until(
            lambda: {c for c, s in reports_a + reports_b if s is CameraState.ONLINE} == set(ids), 20
        )
        holders = _holders(services)
        assert set(holders.values()) == {a.holder, b.holder}
        read_by_a = {c for s in a.slots for c in s.cameras}
        read_by_b = {c for s in b.slots for c in s.cameras}
        assert not read_by_a & read_by_b and read_by_a | read_by_b == set(ids)
        # Host a stops: its leases go at once, and b takes what it has room for.
        a.stop()
        assert _until(lambda: list(_holders(services).values()) == [b.holder, b.holder], 10), _holders(
            services
        )
        # The third has no worker with room now: it is said so, not left as it was.
        [left] = set(ids) - set(_holders(services))
        assert _until(lambda: (left, CameraState.OFFLINE) in reports_b, 6), reports_b
    finally:
        a.stop()
        b.stop()


def test_a_worker_that_dies_is_restarted_and_its_camera_comes_back(
    make_services: ServicesFactory, tmp_path: Path
) -> None:
    services = make_services(use_clock=False)
    [camera_id] = _register(services, 1)
    reports: list[tuple[str, CameraState]] = []
    supervisor = _supervisor(services, reports, tmp_path, "solo")
    supervisor.start()
    try:
        assert _until(lambda: (camera_id, CameraState.ONLINE) in reports, 20), reports
        process = supervisor.slots[0].process
        assert process is not None and process.pid is not None
        os.kill(process.pid, signal.SIGKILL)
        assert _until(lambda: (camera_id, CameraState.OFFLINE) in reports, 10), reports
        reports.clear()
        assert _until(lambda: (camera_id, CameraState.ONLINE) in reports, 20), reports
        assert supervisor.slots[0].process is not process
    finally:
        supervisor.stop()
    assert _holders(services) == {}


def test_a_camera_added_or_retired_is_taken_up_at_once_not_at_the_next_tick(
    make_services: ServicesFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ticks a minute apart: only the wake-up of the change itself can be quick.
    monkeypatch.setattr(supervisor_module, "TICK_S", 60.0)
    ticks: list[float] = []
    tick = VideoSupervisor.tick

    def counted(self: VideoSupervisor) -> None:
        ticks.append(time.monotonic())
        tick(self)

    monkeypatch.setattr(VideoSupervisor, "tick", counted)
    services = make_services(use_clock=False)
    services.video.start_workers()
    try:
        assert _until(lambda: len(ticks) == 1, 5), ticks  # its first tick: nothing to read yet
        [camera_id] = _register(services, 1)
        assert _until(lambda: camera_id in _holders(services), 5), _holders(services)
        services.video.registry.retire(camera_id, actor="test", source=None)
        assert _until(lambda: camera_id not in _holders(services), 5), _holders(services)
        assert len(ticks) >= 3
    finally:
        services.video.stop_workers()
