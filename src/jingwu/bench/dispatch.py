"""`jingwu bench dispatch`: recommendation latency on a real road graph, against a baseline.

What is timed is the production path of ``GET /api/incidents/{id}/recommendations`` after the
incident is read: eligibility over the live unit board, snapping the incident to its road, the
exact top-k search by road travel time, and drawing the k routes as GeoJSON. The baseline runs
the very same path with one full one-to-all Dijkstra per query (scipy csgraph, same graph), so the
only difference measured is the bounded search. Queries alternate which variant runs first, and
every query checks that both gave the same units and ETAs.

The incident is snapped to its road before timing, as the service does when the incident is
opened. The ``search_*`` figures time the road search alone (eligibility mask given, no routes
drawn) for both variants, to show how much of each query the shared fixed costs take.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from jingwu.domain.geo import GeoPoint
from jingwu.domain.model import Incident, Position, Unit
from jingwu.domain.status import IncidentStatus, SourceChannel, UnitKind, UnitStatus
from jingwu.routing import RoadNetwork, load_network
from jingwu.service.unit_board import UnitBoard
from jingwu.settings import bundled_osm_file
from jingwu.simulation.call_mix import load_call_mix

DEFAULT_UNITS = (1, 100, 2000)
WARMUP_QUERIES = 20
_T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }


def on_duty_units(network: RoadNetwork, count: int, rng: np.random.Generator) -> list[Unit]:
    """Patrol cars spread uniformly over the road length; every third one armed (the first too)."""
    units = []
    for i in range(count):
        p = network.random_road_point(rng)
        capabilities = frozenset({"traffic", "armed"} if i % 3 == 0 else {"traffic"})
        units.append(
            Unit(
                id=f"bench-{i:05d}",
                callsign=f"B{i:05d}",
                kind=UnitKind.PATROL_CAR,
                station_id="bench",
                status=UnitStatus.AVAILABLE,
                capabilities=capabilities,
                position=Position(p.lat, p.lon, _T0),
            )
        )
    return units


def incidents(network: RoadNetwork, count: int, rng: np.random.Generator) -> list[Incident]:
    """Incidents on random roads with the type and priority mix of real police calls."""
    calls = load_call_mix().calls
    result = []
    for i in range(count):
        call = calls[int(rng.integers(len(calls)))]
        p = network.random_road_point(rng)
        result.append(
            Incident(
                id=f"bench-{i}",
                type_code=call.type_code,
                priority=call.priority,
                location=GeoPoint(p.lat, p.lon),
                source=SourceChannel.CALL_110,
                status=IncidentStatus.PENDING,
                created_at=_T0,
            )
        )
    return result


def _percentiles(samples_ns: Sequence[int]) -> tuple[float, float]:
    ms = np.asarray(samples_ns, dtype=np.float64) / 1e6
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def run(network: RoadNetwork, units: int, queries: int = 500, k: int = 5, seed: int = 1) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    board = UnitBoard(network)
    board.load(on_duty_units(network, units, rng))
    load = incidents(network, queries + WARMUP_QUERIES, rng)
    targets = {}
    for incident in load:
        targets[incident.id] = network.snap(incident.location.lat, incident.location.lon)
        board.remember_incident(incident.id, incident.location, targets[incident.id])
    roster = board.roster()
    for incident in load[:WARMUP_QUERIES]:
        board.recommend(incident, limit=k)
        board.recommend(incident, limit=k, baseline=True)
    fast_ns: list[int] = []
    base_ns: list[int] = []
    search_ns: list[int] = []
    search_base_ns: list[int] = []
    agree = True
    clock = time.perf_counter_ns
    for q, incident in enumerate(load[WARMUP_QUERIES:]):
        order = (False, True) if q % 2 == 0 else (True, False)
        answers = {}
        for baseline in order:
            started = clock()
            answers[baseline] = board.recommend(incident, limit=k, baseline=baseline)
            (base_ns if baseline else fast_ns).append(clock() - started)
        fast, base = answers[False], answers[True]
        mask = roster.eligible(incident)
        for baseline in order:
            search = network.baseline_nearest_by_time if baseline else network.nearest_by_time
            started = clock()
            search(targets[incident.id], roster.points, k, with_routes=False, allowed=mask)
            (search_base_ns if baseline else search_ns).append(clock() - started)
        agree = (
            agree
            and [r.unit.id for r in fast] == [r.unit.id for r in base]
            and all(abs(a.eta_s - b.eta_s) < 1e-6 for a, b in zip(fast, base, strict=True))
        )
    p50, p99 = _percentiles(fast_ns)
    b50, b99 = _percentiles(base_ns)
    s50, s99 = _percentiles(search_ns)
    sb50, sb99 = _percentiles(search_base_ns)
    return {
        "units": units,
        "queries": queries,
        "k": k,
        "seed": seed,
        "p50_ms": round(p50, 4),
        "p99_ms": round(p99, 4),
        "baseline_p50_ms": round(b50, 4),
        "baseline_p99_ms": round(b99, 4),
        "speedup_p50": round(b50 / p50, 2),
        "speedup_p99": round(b99 / p99, 2),
        "agree": agree,
        "search_p50_ms": round(s50, 4),
        "search_p99_ms": round(s99, 4),
        "search_baseline_p50_ms": round(sb50, 4),
        "search_baseline_p99_ms": round(sb99, 4),
        "search_speedup_p50": round(sb50 / s50, 2),
        "search_speedup_p99": round(sb99 / s99, 2),
        "graph_nodes": network.node_count,
        "graph_edges": network.edge_count,
        "machine": machine(),
    }


def run_dispatch_bench(
    *,
    osm: Path | None = None,
    units: Sequence[int] | None = None,
    queries: int = 500,
    k: int = 5,
    seed: int = 1,
    cache_dir: Path | None = None,
) -> list[dict[str, Any]]:
    started = time.perf_counter()
    network = load_network(osm or bundled_osm_file(), cache_dir)
    load_s = time.perf_counter() - started
    results = []
    for count in units or DEFAULT_UNITS:
        result = run(network, count, queries=queries, k=k, seed=seed)
        result["load_s"] = round(load_s, 3)
        results.append(result)
    return results


__all__ = ["DEFAULT_UNITS", "run", "run_dispatch_bench"]
