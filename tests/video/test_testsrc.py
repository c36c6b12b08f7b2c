"""The test-video generator: files decode at the right size and length, and every frame's strip reads
back its timecode through real compression."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from jingwu.video.testsrc import draw_timecode, frame_timecode_ms, read_timecode, write_test_video


def _decode(path: Path) -> tuple[str, list[np.ndarray], list[bool]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [(f.to_ndarray(format="gray"), f.key_frame) for f in container.decode(stream)]
        return stream.codec_context.name, [g for g, _ in frames], [k for _, k in frames]


@pytest.mark.parametrize(
    ("name", "codec", "expected"),
    [
        ("a.mp4", "h264", "h264"),
        ("a.ts", "h264", "h264"),
        ("a.mkv", "mpeg4", "mpeg4"),
        ("a.avi", "mjpeg", "mjpeg"),
    ],
)
def test_files_decode_with_their_timecodes(tmp_path: Path, name: str, codec: str, expected: str) -> None:
    path = write_test_video(tmp_path / name, codec=codec, seconds=2.0, start_ms=1_700_000_000_000)  # type: ignore[arg-type]
    decoded, grays, keys = _decode(path)
    assert decoded == expected
    assert len(grays) == 50
    assert grays[0].shape == (360, 640)
    assert [read_timecode(g) for g in grays] == [
        frame_timecode_ms(i, 25, 1_700_000_000_000) for i in range(50)
    ]
    if codec == "h264":
        assert [i for i, k in enumerate(keys) if k] == [0, 25]  # a keyframe each second, exactly


def test_gop_size_and_frame_rate(tmp_path: Path) -> None:
    _, grays, keys = _decode(
        write_test_video(tmp_path / "g.mp4", fps=10, seconds=3.0, gop=5, width=512, height=288)
    )
    assert len(grays) == 30 and grays[0].shape == (288, 512)
    assert [i for i, k in enumerate(keys) if k] == [0, 5, 10, 15, 20, 25]
    assert read_timecode(grays[7]) == 700


def test_black_and_frozen(tmp_path: Path) -> None:
    _, black, _ = _decode(write_test_video(tmp_path / "b.mp4", pattern="black", seconds=1.0))
    assert all(float(g.mean()) < 2 for g in black)  # Y=16, video range: black once made full range
    assert read_timecode(black[0]) is None
    _, frozen, _ = _decode(write_test_video(tmp_path / "f.mp4", pattern="frozen", seconds=2.0, start_ms=5000))
    assert max(float(np.abs(g.astype(int) - frozen[0].astype(int)).mean()) for g in frozen) < 1.0
    assert {read_timecode(g) for g in frozen} == {5000}
    _, moving, _ = _decode(write_test_video(tmp_path / "m.mp4", seconds=1.0))
    assert float(np.abs(moving[10].astype(int) - moving[0].astype(int)).mean()) > 1.0


def test_strip_rejects_what_is_not_a_strip() -> None:
    rgb = np.zeros((16, 640, 3), np.uint8)
    draw_timecode(rgb, 2**48 - 1)
    gray = rgb[:, :, 0]
    assert read_timecode(gray) == 2**48 - 1
    corrupted = gray.copy()
    corrupted[:8, 8 * 30 : 8 * 31] ^= 255  # one value bit flipped: the checksum no longer matches
    assert read_timecode(corrupted) is None
    assert read_timecode(np.full((16, 640), 16, np.uint8)) is None
    assert read_timecode(gray[:, :500]) is None
    with pytest.raises(ValueError):
        draw_timecode(rgb, 2**48)
