"""A camera read by a worker's reader from the real RTSP server: its state follows the picture
(black, frozen, no signal, back to online), a wrong password and a dead server are told apart,
and a buffer fills that clips can be cut from."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from jingwu.domain.cameras import CameraState
from jingwu.video.clips import buffered_span, cut_clip
from jingwu.video.reader import CameraReader
from tests.video.rig import PASSWORD, USER, RtspServer

pytestmark = pytest.mark.slow


class States:
    def __init__(self) -> None:
        self.seen: list[tuple[CameraState, str | None]] = []

    def __call__(self, _camera_id: str, state: CameraState, detail: str | None) -> None:
        self.seen.append((state, detail))

    @property
    def last(self) -> CameraState | None:
        return self.seen[-1][0] if self.seen else None


def _until(condition: Callable[[], bool], within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _reader(url: str, tmp_path: Path, states: States) -> CameraReader:
    reader = CameraReader("cam", url, tmp_path, keep_s=60, keep_bytes=10**8, report=states)
    reader.start()
    return reader


def test_the_state_follows_the_picture_black_frozen_silent_and_back(
    rtsp_server: RtspServer, tmp_path: Path
) -> None:
    states = States()
    reader = _reader(rtsp_server.url("switch"), tmp_path, states)
    try:
        assert _until(lambda: states.last is CameraState.ONLINE, 15), states.seen
        for picture, state, within in (
            ("black", CameraState.BLACK, 10),
            ("moving", CameraState.ONLINE, 6),
            ("frozen", CameraState.FROZEN, 14),
            ("moving", CameraState.ONLINE, 6),
            ("nosignal", CameraState.NO_SIGNAL, 15),
        ):
            rtsp_server.switch(picture)
            assert _until(lambda state=state: states.last is state, within), (picture, states.seen)
        rtsp_server.switch("moving")
        assert _until(lambda: states.last is CameraState.ONLINE, 20), states.seen
        time.sleep(3.5)  # three seconds of moving picture since it came back
        # The buffer holds what came, and a clip cuts from it.
        span = buffered_span(tmp_path / "cam")
        assert span is not None and span[1] - span[0] > 10_000
        clip = cut_clip(tmp_path / "cam", span[1] - 3000, span[1], tmp_path / "clip.mp4")
        assert clip.frames >= 50 and clip.path.read_bytes()[4:8] == b"ftyp"
    finally:
        reader.stop()
        reader.join(5)


def test_a_wrong_password_and_a_dead_server_are_told_apart_and_a_server_back_is_read_again(
    rtsp_server: RtspServer, tmp_path: Path
) -> None:
    wrong, right = States(), States()
    refused = _reader(rtsp_server.url("secure", USER, "wrong"), tmp_path / "a", wrong)
    allowed = _reader(rtsp_server.url("secure", USER, PASSWORD), tmp_path / "b", right)
    try:
        assert _until(lambda: wrong.last is CameraState.OFFLINE, 15), wrong.seen
        assert "401" in (wrong.seen[-1][1] or "")
        assert _until(lambda: right.last is CameraState.ONLINE, 15), right.seen
        rtsp_server.stop()
        assert _until(lambda: right.last is CameraState.OFFLINE, 15), right.seen
        rtsp_server.start()
        back = time.monotonic()
        assert _until(lambda: right.last is CameraState.ONLINE, 15), right.seen
        assert time.monotonic() - back < 12  # the back-off never waits more than 8 s
    finally:
        for reader in (refused, allowed):
            reader.stop()
            reader.join(5)
