"""Loading: progress reporting, the on-disk cache and its round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from jingwu.routing import RoadNetwork, load_network
from jingwu.routing.graph import FORMAT_VERSION

HARBIN = Path(__file__).resolve().parents[2] / "src" / "jingwu" / "data" / "harbin.osm.pbf"


def _fingerprint(network: RoadNetwork) -> list[object]:
    rng = np.random.default_rng(17)
    roster = [network.random_road_point(rng) for _ in range(200)]
    out: list[object] = [network.node_count, network.edge_count, network.bbox, roster[:5]]
    out.append(network.snap(45.7775, 126.62))
    for _ in range(10):
        target = network.random_road_point(rng)
        reaches = network.nearest_by_time(target, roster, 3)
        out.append([(r.index, r.eta_s, r.distance_m, r.route) for r in reaches])
    return out


def test_load_network_cold_then_warm_identical_results(tmp_path: Path) -> None:
    stages_cold: list[str] = []
    stages_warm: list[str] = []
    cold = load_network(HARBIN, tmp_path, lambda stage, _fraction: stages_cold.append(stage))
    files = list(tmp_path.glob("*.npz"))
    assert len(files) == 1
    assert files[0].name.startswith("harbin.") and files[0].name.endswith(f".v{FORMAT_VERSION}.npz")
    warm = load_network(HARBIN, tmp_path, lambda stage, _fraction: stages_warm.append(stage))

    assert _fingerprint(cold) == _fingerprint(warm)
    assert list(dict.fromkeys(stages_cold)) == ["reading OSM", "building graph", "indexing"]
    assert list(dict.fromkeys(stages_warm)) == ["indexing"]


def test_load_network_corrupt_cache_rebuilt(tmp_path: Path) -> None:
    load_network(HARBIN, tmp_path)
    (cache_file,) = tmp_path.glob("*.npz")
    cache_file.write_bytes(b"not a zip file")
    network = load_network(HARBIN, tmp_path)
    assert network.node_count > 10_000
    assert cache_file.stat().st_size > 1_000_000  # rewritten


def test_load_network_without_cache_dir_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    network = load_network(HARBIN)
    assert network.edge_count > 20_000
    assert list(tmp_path.iterdir()) == []


def test_load_network_keeps_largest_strongly_connected_component(network: RoadNetwork) -> None:
    # Every road point reaches every other one: that is what the component filter buys.
    rng = np.random.default_rng(23)
    points = [network.random_road_point(rng) for _ in range(30)]
    for target in points[:3]:
        assert len(network.nearest_by_time(target, points, 30, with_routes=False)) == 30


def test_load_network_cache_of_another_format_version_rebuilt(tmp_path: Path) -> None:
    load_network(HARBIN, tmp_path)
    (cache_file,) = tmp_path.glob("*.npz")
    with np.load(cache_file, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    arrays["format_version"] = np.int64(FORMAT_VERSION - 1)  # as an older Jingwu wrote it
    del arrays["trans_from"]
    with cache_file.open("wb") as fh:
        np.savez(fh, **arrays)
    network = load_network(HARBIN, tmp_path)
    assert len(network.restrictions) == 5
    with np.load(cache_file, allow_pickle=False) as data:
        assert int(data["format_version"]) == FORMAT_VERSION and "trans_from" in data.files
