"""Dispatch benchmark: exact k-nearest units by road time, bounded search vs one full Dijkstra.

``run()`` places ``units`` unit positions and ``queries`` incident positions uniformly over the
road length (seeded), warms up, then times ``nearest_by_time`` and ``baseline_nearest_by_time``
on every incident (interleaved, so machine noise hits both alike) and checks that they agree.

    PYTHONPATH=src python bench/dispatch.py            # JSON for 1, 100 and 2,000 units
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from jingwu.routing import Reach, RoadNetwork, load_network

_WARMUP_QUERIES = 20
_ETA_TOLERANCE_S = 1e-6


def default_osm() -> Path:
    """The Harbin extract bundled with the package (© OpenStreetMap contributors, ODbL)."""
    import jingwu.routing

    return Path(jingwu.routing.__file__).resolve().parent.parent / "data" / "harbin.osm.pbf"


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }


def _same_etas(a: list[Reach], b: list[Reach]) -> bool:
    if len(a) != len(b):
        return False
    return all(abs(x.eta_s - y.eta_s) <= _ETA_TOLERANCE_S for x, y in zip(a, b, strict=True))


def _percentiles(ns: list[int]) -> tuple[float, float, float]:
    ms = np.asarray(ns, dtype=np.float64) / 1e6
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99)), float(ms.mean())


def run(osm: Path, units: int, queries: int = 200, k: int = 5, seed: int = 1,
        cache_dir: Path | None = None, network: RoadNetwork | None = None,
        with_routes: bool = True) -> dict[str, Any]:
    """Benchmark one roster size; ``network`` reuses an already loaded graph (``load_s`` is then 0)."""
    started = time.perf_counter()
    net = network if network is not None else load_network(Path(osm), cache_dir)
    load_s = time.perf_counter() - started if network is None else 0.0

    rng = np.random.default_rng(seed)
    roster = [net.random_road_point(rng) for _ in range(units)]
    incidents = [net.random_road_point(rng) for _ in range(queries)]
    for target in incidents[:_WARMUP_QUERIES]:
        net.nearest_by_time(target, roster, k, with_routes=with_routes)
        net.baseline_nearest_by_time(target, roster, k, with_routes=with_routes)

    fast_ns: list[int] = []
    base_ns: list[int] = []
    agree = True
    same_units = True
    clock = time.perf_counter_ns
    for q, target in enumerate(incidents):
        # Alternate which method runs first, so neither always finds the caches warmed by the other.
        if q % 2 == 0:
            t0 = clock()
            fast = net.nearest_by_time(target, roster, k, with_routes=with_routes)
            t1 = clock()
            base = net.baseline_nearest_by_time(target, roster, k, with_routes=with_routes)
            t2 = clock()
            fast_ns.append(t1 - t0)
            base_ns.append(t2 - t1)
        else:
            t0 = clock()
            base = net.baseline_nearest_by_time(target, roster, k, with_routes=with_routes)
            t1 = clock()
            fast = net.nearest_by_time(target, roster, k, with_routes=with_routes)
            t2 = clock()
            base_ns.append(t1 - t0)
            fast_ns.append(t2 - t1)
        agree = agree and _same_etas(fast, base)
        same_units = same_units and [r.index for r in fast] == [r.index for r in base]

    p50, p99, mean = _percentiles(fast_ns)
    b50, b99, bmean = _percentiles(base_ns)
    return {
        "units": units,
        "queries": queries,
        "k": k,
        "seed": seed,
        "with_routes": with_routes,
        "p50_ms": round(p50, 4),
        "p99_ms": round(p99, 4),
        "mean_ms": round(mean, 4),
        "baseline_p50_ms": round(b50, 4),
        "baseline_p99_ms": round(b99, 4),
        "baseline_mean_ms": round(bmean, 4),
        "speedup_p50": round(b50 / p50, 2),
        "speedup_p99": round(b99 / p99, 2),
        "speedup_mean": round(bmean / mean, 2),
        "graph_nodes": net.node_count,
        "graph_edges": net.edge_count,
        "load_s": round(load_s, 4),
        "machine": machine(),
        "agree": agree,
        "same_units": same_units,
    }


def main(argv: list[str]) -> int:
    osm = Path(argv[1]) if len(argv) > 1 else default_osm()
    cache_dir = Path(tempfile.gettempdir()) / "jingwu-bench-cache"
    started = time.perf_counter()
    net = load_network(osm, cache_dir)
    load_s = time.perf_counter() - started
    results = []
    for units in (1, 100, 2000):
        result = run(osm, units, cache_dir=cache_dir, network=net)
        result["load_s"] = round(load_s, 4)
        results.append(result)
    print(json.dumps(results, indent=2, ensure_ascii=False))
    return 0 if all(r["agree"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
