"""The real RTSP rig works as the video tests assume: each mount reads with PyAV, /switch changes its
picture under a connected reader, /secure refuses a wrong password, stop/start takes the stream away
and brings it back, and /timecode carries wall-clock timecodes with little delay."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import av
import av.container
import numpy as np
import pytest

from jingwu.video.source import StreamFault, probe
from jingwu.video.testsrc import TimecodeStreamer, read_timecode
from tests.video.rig import RtspServer

OPTIONS = {"rtsp_transport": "tcp", "timeout": "5000000", "fflags": "nobuffer", "flags": "low_delay"}


def _open(url: str, read_timeout: float = 5.0) -> av.container.InputContainer:
    return av.open(url, options=OPTIONS, timeout=(10.0, read_timeout))


def _frames(container: av.container.InputContainer) -> Iterator[np.ndarray]:
    stream = container.streams.video[0]
    stream.codec_context.thread_type = "NONE"  # frame threads would hold frames back: latency
    for frame in container.decode(stream):
        yield frame.to_ndarray(format="gray")


def _take(container: av.container.InputContainer, n: int) -> list[np.ndarray]:
    out = []
    for gray in _frames(container):
        out.append(gray)
        if len(out) == n:
            break
    return out


@pytest.mark.parametrize(("mount", "size"), [("moving", (360, 640)), ("hd", (720, 1280))])
def test_h264_mounts_read(rtsp_server: RtspServer, mount: str, size: tuple[int, int]) -> None:
    started = time.monotonic()
    with _open(rtsp_server.url(mount)) as c:
        opened = time.monotonic() - started
        assert c.streams.video[0].codec_context.name == "h264"
        frames = _take(c, 10)
    print(f"/{mount}: opened in {opened * 1000:.0f} ms")
    assert len(frames) == 10 and frames[0].shape == size
    assert float(np.abs(frames[-1].astype(int) - frames[0].astype(int)).mean()) > 0.5  # it moves


def test_h265_mount_is_h265_and_jingwu_refuses_it_by_name(rtsp_server: RtspServer) -> None:
    with pytest.raises(StreamFault) as refused:
        probe(rtsp_server.url("h265"))
    assert refused.value.code == "unsupported_codec", refused.value.message
    assert refused.value.params["codec"] == "hevc" and "H.264" in refused.value.message


def test_switch_black_frozen_nosignal(rtsp_server: RtspServer) -> None:
    with _open(rtsp_server.url("switch"), read_timeout=3.0) as c:
        frames = _frames(c)
        assert next(frames).shape == (360, 640)
        rtsp_server.switch("black")
        time.sleep(0.3)
        black = [next(frames) for _ in range(40)][-5:]  # what was in flight before the switch is skipped
        assert all(float(g.mean()) < 20 for g in black)
        rtsp_server.switch("frozen")
        time.sleep(0.3)
        # Up to ~1.2 s of frames were on their way, then the next keyframe renews the still picture.
        # From there on frames decode the same, but for one odd frame about a keyframe, once a second.
        frozen = [next(frames) for _ in range(75)][-12:]
        diffs = sorted(
            float(np.abs(b.astype(int) - a.astype(int)).mean()) for a, b in itertools.pairwise(frozen)
        )
        assert diffs[-2] < 0.5, diffs
        rtsp_server.switch("nosignal")
        time.sleep(0.3)
        start = time.monotonic()
        with pytest.raises(av.error.ExitError):  # the read timeout: connected, yet nothing comes
            for _ in range(100):
                next(frames)
        assert time.monotonic() - start > 2.0
        rtsp_server.switch("moving")


def test_secure_needs_the_password(rtsp_server: RtspServer) -> None:
    with pytest.raises(av.error.FFmpegError) as refused:
        _open(rtsp_server.url("secure", "admin", "wrong"))
    assert "401" in str(refused.value) or "auth" in str(refused.value).lower()
    with _open(rtsp_server.url("secure", "admin", "s3cret")) as c:
        assert len(_take(c, 3)) == 3


def test_stop_and_start(rtsp_server: RtspServer) -> None:
    with _open(rtsp_server.url("moving"), read_timeout=3.0) as c:
        frames = _frames(c)
        next(frames)
        rtsp_server.stop()
        read = 0
        with pytest.raises((av.error.FFmpegError, OSError, StopIteration)):  # an error, or the end
            while read < 200:
                next(frames)
                read += 1
        assert read < 50  # what was in flight, no more
    with pytest.raises((av.error.FFmpegError, OSError)):
        _open(rtsp_server.url("moving"))
    rtsp_server.start()
    with _open(rtsp_server.url("moving")) as c:
        assert len(_take(c, 3)) == 3


def test_timecode_mount_is_close_to_now(rtsp_server: RtspServer, timecode_streamer: TimecodeStreamer) -> None:
    time.sleep(0.3)  # the first keyframe reaches the server
    started = time.monotonic()
    with _open(rtsp_server.url("timecode")) as c:
        opened = time.monotonic() - started
        delays = []
        for gray in _frames(c):
            value = read_timecode(gray)
            if value is not None:
                delays.append(time.time() * 1000 - value)
            if len(delays) >= 50:
                break
    assert timecode_streamer.error is None
    settled = sorted(delays[25:])  # the first ones were buffered while the stream was probed
    median = settled[len(settled) // 2]
    print(
        f"/timecode: opened in {opened * 1000:.0f} ms, delay median {median:.0f} ms, max {settled[-1]:.0f} ms"
    )
    assert 0 <= median < 1000
