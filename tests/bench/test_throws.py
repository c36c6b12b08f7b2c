"""``jingwu bench throws`` on a tiny suite: it generates the scenes once, scores the detector
against their truth (a miss, a wrong floor and a false alarm each counted) and measures speed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jingwu.bench.throws import _match, run_throws_bench
from jingwu.cli import main


def test_the_bench_scores_the_detector_on_generated_scenes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "scenes"
    args = ["bench", "throws", "--dir", str(folder), "--positives", "2", "--negatives", "1"]
    assert main([*args, "--width", "480", "--height", "270", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["scenes"] == 3 and result["resolution"] == "480x270"
    assert result["throws"] >= 2
    for key in ("recall", "precision", "f1"):
        assert 0.0 <= result[key] <= 1.0
    assert result["camera_hours"] > 0 and result["processing_fps"] > 0 and result["concurrent_fps"] > 0
    assert result["false_alarms_per_camera_hour_95_upper"] >= 3 / result["camera_hours"] - 0.01
    written = sorted(p.name for p in folder.iterdir())
    assert len([n for n in written if n.endswith(".truth.json")]) == 3
    # The scenes are generated once: a second run reads them back.
    again = run_throws_bench(directory=folder, positives=2, negatives=1, width=480, height=270)
    assert again["generate_s"] < 1.0 and again["throws"] == result["throws"]


def _truth(track: list[list[float]]) -> dict[str, Any]:
    return {"throws": [{"launch_frame": track[0][0], "landing_frame": track[-1][0], "track": track}]}


def test_an_event_matches_a_throw_only_near_its_track_and_time() -> None:
    truth = _truth([[10, 100.0, 100.0], [11, 100.0, 110.0], [12, 100.0, 125.0]])
    near = {"track": [[9, 101.0, 99.0]], "floor": 5, "column": 2}  # a B-frame ghost, a frame early
    far = {"track": [[11, 400.0, 110.0]], "floor": 5, "column": 2}
    late = {"track": [[40, 100.0, 125.0]], "floor": 5, "column": 2}
    matched, unmatched = _match(truth, [far, near, late], 1.0)
    assert matched[0][1] is near and unmatched == 2
    matched, unmatched = _match(truth, [], 1.0)
    assert matched[0][1] is None and unmatched == 0
