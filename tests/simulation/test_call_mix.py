from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from jingwu.domain.incident_types import INCIDENT_TYPES
from jingwu.simulation.call_mix import (
    NOPD_TYPE_MAP,
    ON_SCENE_MAX_S,
    ON_SCENE_MIN_S,
    CallMix,
    derive_call_mix,
    generate_calls,
    jingwu_priority,
    load_call_mix,
    main,
    render_call_mix,
)

NOPD_CSV = Path("/work/shared/data/calls/nola/nopd_calls_2025-01-01.csv")
PACKAGED = Path(__file__).resolve().parents[2] / "src" / "jingwu" / "data" / "nopd_call_mix.json"
FIELDS = [
    "NOPD_Item", "TypeText", "Priority", "TimeCreate", "TimeDispatch", "TimeArrive", "TimeClosed",
    "DispositionText", "SelfInitiated",
]  # fmt: skip


def _write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        for i, row in enumerate(rows):
            writer.writerow(
                {
                    "NOPD_Item": f"A{i:07d}",
                    "DispositionText": "Necessary Action Taken",
                    "SelfInitiated": "N",
                    "TimeDispatch": "",
                    "TimeArrive": "",
                    **row,
                }
            )
    return path


# ------------------------------------------------------------------------------------------- derivation


def test_priority_mapping() -> None:
    assert jingwu_priority("3", "other.officer_assist") == 1
    assert jingwu_priority("2C", "crim.firearm.shots") == 1  # emergency and life at risk
    assert jingwu_priority("2D", "order.suspicious_person") == 2  # emergency, no life at risk
    assert jingwu_priority("1J", "crim.firearm.shots") == 3
    assert jingwu_priority("1", "other.misc") == 3
    assert jingwu_priority("0G", "help.lost_property") == 4
    with pytest.raises(ValueError, match="NOPD priority"):
        jingwu_priority("X", "other.misc")


def test_type_map_targets_exist_in_registry() -> None:
    assert set(NOPD_TYPE_MAP.values()) <= set(INCIDENT_TYPES)


def test_derivation_excludes_officer_initiated_void_and_duplicate(tmp_path: Path) -> None:
    path = _write_csv(
        tmp_path / "calls.csv",
        [
            {"TypeText": "THEFT", "Priority": "1C", "TimeCreate": "2025-01-01T08:00:00",
             "TimeDispatch": "2025-01-01T08:01:00", "TimeArrive": "2025-01-01T08:06:00",
             "TimeClosed": "2025-01-01T08:36:00"},
            {"TypeText": "DISCHARGING FIREARM", "Priority": "2C", "TimeCreate": "2025-01-01T08:10:00",
             "TimeClosed": "2025-01-01T08:20:00"},
            {"TypeText": "SUSPICIOUS PERSON", "Priority": "2D", "TimeCreate": "2025-01-01T09:00:00",
             "TimeArrive": "2025-01-01T09:00:00", "TimeClosed": "2025-01-01T09:10:00", "SelfInitiated": "Y"},
            {"TypeText": "AREA CHECK", "Priority": "1", "TimeCreate": "2025-01-01T09:30:00",
             "TimeClosed": "2025-01-01T09:40:00"},
            {"TypeText": "THEFT", "Priority": "1C", "TimeCreate": "2025-01-01T10:00:00",
             "TimeClosed": "2025-01-01T10:01:00", "DispositionText": "DUPLICATE"},
        ],
    )  # fmt: skip
    mix = derive_call_mix(path)
    assert mix["derivation"] | {"priority_rule": "", "officer_initiated_rule": ""} == {
        "rows": 5, "citizen_calls": 2, "officer_initiated": 2, "void_or_duplicate": 1, "days": 1,
        "priority_rule": "", "officer_initiated_rule": "",
    }  # fmt: skip
    assert mix["calls"] == [
        {"type": "crim.theft", "priority": 3, "hour": 8, "on_scene_s": 1800.0},
        {"type": "crim.firearm.shots", "priority": 1, "hour": 8, "on_scene_s": None},
    ]
    theft = next(t for t in mix["nopd_types"] if t["nopd_type"] == "THEFT")
    assert theft == {"nopd_type": "THEFT", "jingwu_type": "crim.theft", "count": 2, "citizen_calls": 1,
                     "officer_initiated": 0, "void_or_duplicate": 1}  # fmt: skip
    area = next(t for t in mix["nopd_types"] if t["nopd_type"] == "AREA CHECK")
    assert area["jingwu_type"] is None and area["officer_initiated"] == 1
    assert mix["calls_per_hour"][8] == 2 and sum(mix["calls_per_hour"]) == 2
    assert mix["interarrival_s"]["p50"] == 600.0
    stages = mix["stage_durations_s"]
    assert stages["create_to_dispatch"]["overall"]["p50"] == 60.0
    assert stages["dispatch_to_arrive"]["by_priority"]["3"]["n"] == 1
    assert stages["arrive_to_close"]["by_priority"] == {"3": stages["arrive_to_close"]["overall"]}
    # the derived dict loads as a mix
    assert CallMix.from_dict(json.loads(render_call_mix(mix))).calls[1].type_code == "crim.firearm.shots"


def test_derivation_refuses_unmapped_types(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "calls.csv", [
        {"TypeText": "ALIEN ABDUCTION", "Priority": "1", "TimeCreate": "2025-01-01T08:00:00",
         "TimeClosed": "2025-01-01T08:30:00"},
    ])  # fmt: skip
    with pytest.raises(ValueError, match="ALIEN ABDUCTION"):
        derive_call_mix(path)


@pytest.mark.skipif(not NOPD_CSV.exists(), reason="the shared NOPD sample is not on this machine")
def test_packaged_file_is_the_derivation_of_the_nopd_sample(tmp_path: Path) -> None:
    out = tmp_path / "mix.json"
    assert main([str(NOPD_CSV), str(out)]) == 0
    assert out.read_text(encoding="utf-8") == PACKAGED.read_text(encoding="utf-8")


def test_cli_usage() -> None:
    assert main([]) == 2


# ------------------------------------------------------------------------------------------- packaged mix


def test_packaged_mix_loads_and_is_consistent() -> None:
    mix = load_call_mix()
    assert load_call_mix() is mix  # read once
    assert len(mix.calls_per_hour) == 24
    assert sum(mix.calls_per_hour) == len(mix.calls) > 500
    assert all(c.type_code in INCIDENT_TYPES for c in mix.calls)
    assert {c.priority for c in mix.calls} == {1, 2, 3, 4}
    assert "New Orleans" in mix.source["title"]
    assert set(mix.on_scene_quantiles) == {1, 2, 3, 4}
    shares = mix.type_shares()
    assert abs(sum(shares.values()) - 1.0) < 1e-9
    assert shares["crim.firearm.shots"] > 0.05


# ------------------------------------------------------------------------------------------- generator


def test_same_seed_same_calls_different_seed_different_calls() -> None:
    mix = load_call_mix()
    a = generate_calls(mix, np.random.default_rng(7), start_hour=8.0, duration_s=6 * 3600)
    b = generate_calls(mix, np.random.default_rng(7), start_hour=8.0, duration_s=6 * 3600)
    c = generate_calls(mix, np.random.default_rng(8), start_hour=8.0, duration_s=6 * 3600)
    assert a == b
    assert a != c
    assert len(a) > 50


def test_calls_are_ordered_in_window_and_well_formed() -> None:
    mix = load_call_mix()
    calls = generate_calls(mix, np.random.default_rng(1), start_hour=22.5, duration_s=5 * 3600, rate_scale=3)
    assert calls
    times = [c.at_s for c in calls]
    assert times == sorted(times)
    assert times[0] >= 0 and times[-1] < 5 * 3600
    for c in calls:
        assert c.type_code in INCIDENT_TYPES
        assert c.priority in (1, 2, 3, 4)
        assert ON_SCENE_MIN_S <= c.on_scene_s <= ON_SCENE_MAX_S


def test_type_shares_approach_the_mix() -> None:
    mix = load_call_mix()
    calls = generate_calls(mix, np.random.default_rng(42), start_hour=0, duration_s=24 * 3600, rate_scale=60)
    assert len(calls) > 25_000
    observed = Counter(c.type_code for c in calls)
    for code, share in mix.type_shares().items():
        assert abs(observed[code] / len(calls) - share) < 0.01, code
    # priorities travel with their calls: shots fired keep NOPD's split between 1 and 3
    shots = Counter(c.priority for c in calls if c.type_code == "crim.firearm.shots")
    real = Counter(c.priority for c in mix.calls if c.type_code == "crim.firearm.shots")
    assert set(shots) == set(real)


def test_hourly_profile_is_respected() -> None:
    mix = load_call_mix()
    scale = 40.0
    calls = generate_calls(mix, np.random.default_rng(3), start_hour=0, duration_s=86_400, rate_scale=scale)
    per_hour = Counter(int(c.at_s // 3600) for c in calls)
    for hour, rate in enumerate(mix.calls_per_hour):
        expected = rate * scale
        assert abs(per_hour[hour] - expected) <= 5 * expected**0.5 + 1, hour


def test_start_hour_sets_the_clock() -> None:
    mix = load_call_mix()
    busiest = max(range(24), key=lambda h: mix.calls_per_hour[h])
    quietest = min(range(24), key=lambda h: mix.calls_per_hour[h])
    rng = np.random.default_rng(11)
    busy = generate_calls(mix, rng, start_hour=busiest, duration_s=3600, rate_scale=50)
    quiet = generate_calls(mix, rng, start_hour=quietest, duration_s=3600, rate_scale=50)
    assert len(busy) > 2 * len(quiet)
    # a window that crosses midnight wraps to hour 0
    wrap = generate_calls(mix, np.random.default_rng(5), start_hour=23.0, duration_s=2 * 3600, rate_scale=50)
    after_midnight = sum(1 for c in wrap if c.at_s >= 3600)
    assert abs(after_midnight - mix.calls_per_hour[0] * 50) <= 5 * (mix.calls_per_hour[0] * 50) ** 0.5


def test_calls_without_on_scene_time_draw_from_their_priority() -> None:
    mix = load_call_mix()
    calls = generate_calls(mix, np.random.default_rng(9), start_hour=0, duration_s=24 * 3600, rate_scale=5)
    recorded = {c.on_scene_s for c in mix.calls if c.on_scene_s is not None}
    clipped = {min(max(x, ON_SCENE_MIN_S), ON_SCENE_MAX_S) for x in recorded}
    drawn = [c for c in calls if c.on_scene_s not in clipped]
    assert drawn  # about a third of the real calls have no arrive→close
    assert len({c.on_scene_s for c in drawn}) > len(drawn) // 2  # continuous draws, not a constant


def test_empty_window_and_bad_arguments() -> None:
    mix = load_call_mix()
    rng = np.random.default_rng(0)
    assert generate_calls(mix, rng, start_hour=3, duration_s=0) == []
    with pytest.raises(ValueError):
        generate_calls(mix, rng, start_hour=3, duration_s=-1)
    with pytest.raises(ValueError):
        generate_calls(mix, rng, start_hour=3, duration_s=60, rate_scale=0)
    with pytest.raises(ValueError):
        generate_calls(mix, rng, start_hour=float("nan"), duration_s=60)


def test_from_dict_rejects_unknown_types() -> None:
    data = json.loads(PACKAGED.read_text(encoding="utf-8"))
    data["calls"][0]["type"] = "crim.nonsense"
    with pytest.raises(ValueError, match=r"crim\.nonsense"):
        CallMix.from_dict(data)
