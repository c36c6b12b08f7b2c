"""The thrown-object analyser of a worker's camera, on a generated throw scene's packets as a
reader hands them out: the throw found with its floor and the wall times of its frames, a snapshot
of the landing with the track drawn; a full queue dropping to the next keyframe without ever
holding up the reader; a facade that does not fit the picture said as the camera's detail; and the
worker's analysers restarted or stopped as their calibrations change, their readers untouched."""

from __future__ import annotations

import io
import time
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import pytest
from PIL import Image

from jingwu.domain.cameras import CameraState
from jingwu.video.reader import LiveFeed
from jingwu.video.segments import StoredPacket, StreamInfo
from jingwu.video.throws_feed import ThrowAnalyser, _Item
from jingwu.video.worker import _analyse
from tests.video.throw_scene import Scene, throw_scene

T0_MS = 1_800_000_000_000


class FakeReader:
    """What an analyser needs of a camera's reader: its id, its live feed and its state."""

    def __init__(self, camera_id: str = "cam-1") -> None:
        self.camera_id = camera_id
        self.live = LiveFeed()
        self.state = CameraState.ONLINE


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Scene:
    return throw_scene(tmp_path_factory.mktemp("throw-scene"))


def _packets(video: Path) -> tuple[StreamInfo, list[StoredPacket]]:
    """The file's packets as a reader keeps them, the wall clock starting at T0_MS."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        assert stream.time_base is not None and stream.average_rate is not None
        time_base = Fraction(stream.time_base)
        info = StreamInfo(
            codec=ctx.name,
            width=ctx.width,
            height=ctx.height,
            time_base=time_base,
            extradata=bytes(ctx.extradata or b""),
            fps=float(stream.average_rate),
        )
        packets = [
            StoredPacket(
                bytes(p), p.pts, p.dts, T0_MS + round(float(p.dts * time_base) * 1000), bool(p.is_keyframe)
            )
            for p in container.demux(stream)
            if p.dts is not None and p.pts is not None and p.size
        ]
    return info, packets


def test_a_throw_is_found_with_its_floor_wall_times_and_a_snapshot_of_the_landing(scene: Scene) -> None:
    reports: list[dict[str, Any]] = []
    analyser = ThrowAnalyser(FakeReader(), scene.calibration, reports.append)  # type: ignore[arg-type]
    info, packets = _packets(scene.video)
    for packet in packets:
        analyser._take(_Item(info, packet, False))
    analyser._take(_Item(info, None, False))  # the stream ends: what is in the air is judged
    throws = [r for r in reports if r["type"] == "throw"]
    assert len(throws) == 1, reports
    [report] = throws
    truth = scene.throw
    event = report["event"]
    assert abs(event["floor"] - truth["floor"]) <= 1, (event, truth)
    assert event["column"] == truth["column"]
    # Wall times of the frames: first seen after the launch, landed at the truth's landing.
    fps = 25.0
    launch_ms, landing_ms = (
        T0_MS + truth["launch_frame"] * 1000 / fps,
        T0_MS + truth["landing_frame"] * 1000 / fps,
    )
    assert launch_ms - 50 <= report["first_wall_ms"] < report["landed_wall_ms"]
    assert abs(report["landed_wall_ms"] - landing_ms) <= 3 * 1000 / fps, (
        report["landed_wall_ms"],
        landing_ms,
    )
    assert event["last_frame"] >= event["frame"] and len(event["launch_px"]) == 2
    assert event["track"] and all(len(point) == 3 for point in event["track"])
    picture = Image.open(io.BytesIO(report["snapshot"]))
    assert picture.format == "JPEG" and picture.size == (info.width, info.height)
    assert analyser.frames >= len(packets) - 3


def test_an_analyser_stopped_while_the_object_falls_still_reports_it(scene: Scene) -> None:
    reports: list[dict[str, Any]] = []
    analyser = ThrowAnalyser(FakeReader(), scene.calibration, reports.append)  # type: ignore[arg-type]
    info, packets = _packets(scene.video)
    analyser.start()
    # Up to a few frames before the landing: the object is still in the air when it stops.
    for packet in packets[: scene.throw["landing_frame"] - 3]:
        analyser.queue.put(_Item(info, packet, False))
    deadline = time.monotonic() + 60
    while not analyser.queue.empty() and time.monotonic() < deadline:
        time.sleep(0.05)
    analyser.stop()  # the packet in hand is analysed before the loop sees the halt
    analyser.join(timeout=30)
    throws = [r for r in reports if r["type"] == "throw"]
    assert len(throws) == 1, reports
    assert abs(throws[0]["event"]["floor"] - scene.throw["floor"]) <= 1


def test_a_full_queue_drops_to_the_next_keyframe_and_never_blocks_the_reader(scene: Scene) -> None:
    reports: list[dict[str, Any]] = []
    analyser = ThrowAnalyser(FakeReader(), scene.calibration, reports.append, queue_packets=5)  # type: ignore[arg-type]
    info, packets = _packets(scene.video)
    started = time.monotonic()
    for packet in packets:  # the thread is not running: nothing is taken off the queue
        analyser.on_packet(info, packet)
    assert time.monotonic() - started < 1.0
    assert analyser.queue.qsize() == 5 and analyser.dropped == len(packets) - 5
    # Emptied, the queue takes packets again only from a keyframe, marked as after a gap.
    while not analyser.queue.empty():
        analyser.queue.get_nowait()
    keyframes = [i for i, p in enumerate(packets) if p.keyframe]
    assert len(keyframes) >= 2
    analyser.on_packet(info, packets[keyframes[1] + 1])
    assert analyser.queue.empty()
    analyser.on_packet(info, packets[keyframes[1]])
    item = analyser.queue.get_nowait()
    assert item.after_gap and item.packet is packets[keyframes[1]]
    analyser.on_packet(info, packets[keyframes[1] + 1])
    assert not analyser.queue.get_nowait().after_gap


def test_a_facade_outside_the_picture_is_said_as_the_cameras_detail_and_not_analysed(scene: Scene) -> None:
    reports: list[dict[str, Any]] = []
    now = [100.0]
    reader = FakeReader()
    analyser = ThrowAnalyser(reader, scene.calibration, reports.append, clock=lambda: now[0])  # type: ignore[arg-type]
    info, packets = _packets(scene.video)
    # The facade as drawn on a picture four times as wide: off this stream's picture.
    shifted = tuple((u + 5_000.0, v) for u, v in analyser.calibration.corners_px)
    analyser.calibration = replace(analyser.calibration, corners_px=shifted)
    for packet in packets[:30]:
        analyser._take(_Item(info, packet, False))
    assert analyser.frames == 0
    [report] = reports
    assert report["type"] == "state" and report["state"] == "online"
    assert "thrown-object detection is off" in report["detail"] and "outside" in report["detail"]
    # Said again a while later (a reconnect's "online" replaces the detail), never over a fault.
    now[0] += 31
    reader.state = CameraState.FROZEN
    analyser._take(_Item(info, packets[30], False))
    assert len(reports) == 1
    reader.state = CameraState.ONLINE
    analyser._take(_Item(info, packets[31], False))
    assert len(reports) == 2 and reports[1]["detail"] == report["detail"]


def test_a_fault_in_the_analysis_starts_it_afresh_and_repeated_faults_stop_it_saying_so(
    scene: Scene,
) -> None:
    reports: list[dict[str, Any]] = []
    analyser = ThrowAnalyser(FakeReader(), scene.calibration, reports.append)  # type: ignore[arg-type]
    info, packets = _packets(scene.video)
    # A picture of no size makes no detector (a camera's bad stream parameters): it fails.
    broken = replace(info, width=0, height=0)
    analyser.queue.put(_Item(broken, packets[0], False))
    for packet in packets[:40]:
        analyser.queue.put(_Item(info, packet, False))
    analyser.start()
    deadline = time.monotonic() + 10
    while analyser.frames < 30 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert analyser.is_alive() and analyser.frames >= 30  # started afresh on the good stream
    for _ in range(5):
        analyser.queue.put(_Item(replace(info, width=0, height=0), packets[0], False))
    analyser.join(timeout=10)
    assert not analyser.is_alive()
    assert reports and "failed again and again" in reports[-1]["detail"]


def test_the_worker_restarts_or_stops_an_analyser_as_its_calibration_changes_not_its_reader(
    scene: Scene,
) -> None:
    reports: list[dict[str, Any]] = []
    readers: dict[str, Any] = {"a": FakeReader("a"), "b": FakeReader("b")}
    analysers: dict[str, Any] = {}
    try:
        _analyse(readers, analysers, {"a": scene.calibration}, reports.append)
        first = analysers["a"]
        assert set(analysers) == {"a"} and first.is_alive() and first.on_packet in readers["a"].live.viewers
        _analyse(readers, analysers, {"a": scene.calibration}, reports.append)
        assert analysers["a"] is first  # the same calibration again: left running
        changed = {
            "facade": {**scene.calibration["facade"], "floors": scene.calibration["facade"]["floors"] + 1}
        }
        _analyse(readers, analysers, {"a": changed, "b": scene.calibration}, reports.append)
        assert analysers["a"] is not first and set(analysers) == {"a", "b"}
        assert first.on_packet not in readers["a"].live.viewers
        first.join(2)
        assert not first.is_alive()
        # A new reader (another URL) gets a new analyser; a removed calibration stops it.
        readers["a"] = FakeReader("a")
        second = analysers["a"]
        _analyse(readers, analysers, {"a": changed}, reports.append)
        assert analysers["a"] is not second and analysers["a"].reader is readers["a"]
        assert "b" not in analysers
        _analyse(readers, analysers, {}, reports.append)
        assert analysers == {} and readers["a"].live.viewers == []
    finally:
        for analyser in analysers.values():
            analyser.stop()
