"""`jingwu bench video` measures what it says on short clips (the figures themselves belong to
the bench's runs, not to a test)."""

from __future__ import annotations

from pathlib import Path

from jingwu.bench.video import decode_rate, reader_cpu_share, run_video_bench
from jingwu.video.testsrc import write_test_video


def test_decode_rate_counts_every_frame_of_a_clip(tmp_path: Path) -> None:
    clip = write_test_video(tmp_path / "c.mp4", seconds=1.0, noise=3.0, profile="high", bitrate_kbps=800)
    assert decode_rate(clip) > 25  # any machine decodes a 360p clip faster than it plays
    share = reader_cpu_share(clip, 1.0)
    assert 0 < share < 1.0


def test_the_bench_reports_both_sizes_without_the_live_chain() -> None:
    result = run_video_bench(seconds=0.5, live=False)
    for size in ("1080p", "720p"):
        figures = result[size]
        assert abs(figures["streams_decoded_per_core"] - figures["decode_fps_one_core"] / 25) < 0.01
        assert figures["bitrate_mbps"] > 0.1
    assert "live" not in result
