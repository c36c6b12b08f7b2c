"""The real video test rig's fixtures (the rig itself is :mod:`jingwu.bench.video_rig`, which
``jingwu bench video`` uses too).

Importable from any test folder: ``from tests.video.rig import rtsp_server, timecode_streamer`` in a
conftest makes the fixtures available there (tests/video/conftest.py does just that).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from jingwu.bench.video_rig import DEBIAN_PACKAGES, PASSWORD, USER, RtspServer, free_port, video_deps_missing
from jingwu.video.testsrc import TimecodeStreamer

__all__ = [
    "DEBIAN_PACKAGES",
    "PASSWORD",
    "USER",
    "RtspServer",
    "free_port",
    "require_video_deps",
    "rtsp_server",
    "timecode_streamer",
    "video_deps_missing",
]


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_video_deps() -> None:
    """Skip the test when the rig cannot run; under CI=true fail instead, naming the packages."""
    problem = video_deps_missing()
    if problem:
        if _under_ci():
            pytest.fail(problem + " Under CI a missing video stack is a failure.")
        pytest.skip(problem)


@pytest.fixture
def rtsp_server() -> Iterator[RtspServer]:
    """A fresh RTSP server for the test (a free port each, so xdist workers never meet)."""
    require_video_deps()
    server = RtspServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def timecode_streamer(rtsp_server: RtspServer) -> Iterator[TimecodeStreamer]:
    """The live "camera" feeding the server's /timecode mount (wall-clock timecodes)."""
    with TimecodeStreamer(rtsp_server.udp_port) as streamer:
        yield streamer
