"""``jingwu bench dispatch|ingest|geocode|checks|analytics``: the benchmarks, measured on this machine and
printed (or one JSON object with ``--json``). The bench modules are loaded only when one runs: they bring the
whole server with them."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from jingwu.cli.context import settings_for


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bench = commands.add_parser("bench", help="benchmarks")
    kinds = bench.add_subparsers(dest="bench", required=True)
    p = kinds.add_parser("dispatch", help="recommendation latency vs a full-Dijkstra baseline")
    p.add_argument("--osm", help="OSM PBF (default: the bundled Harbin extract)")
    p.add_argument(
        "--units", type=int, action="append", help="on-duty units (repeatable; default 1, 100 and 2000)"
    )
    p.add_argument("--queries", type=int, default=500)
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--json", action="store_true", help="one JSON object (the largest roster; all of them under 'runs')"
    )
    p.set_defaults(func=dispatch)
    p = kinds.add_parser(
        "ingest", help="unit positions per second accepted and stored, and their lag to the live stream"
    )
    p.add_argument("--units", type=int, default=5000)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--batch", type=int, default=500, help="fixes per request (a gateway's batch)")
    p.add_argument("--connections", type=int, default=4)
    p.add_argument(
        "--database-url",
        help="an empty database (the bench fills in its units); default: a fresh SQLite database in a "
        "temporary directory",
    )
    p.add_argument(
        "--bus-url", help="NATS with JetStream, e.g. nats://127.0.0.1:4222 (needed by --processes)"
    )
    p.add_argument(
        "--processes",
        type=int,
        default=1,
        help="serve processes sharing the load, as a cluster (PostgreSQL and NATS; docs/deploy.md)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=ingest)
    p = kinds.add_parser(
        "geocode",
        help="address search: top-1 accuracy on clean and noisy queries drawn from the OSM data, latency",
    )
    p.add_argument("--osm", help="OSM PBF (default: the bundled Harbin extract)")
    p.add_argument("--queries", type=int, default=1000, help="addresses drawn from the index (default 1000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=geocode)
    p = kinds.add_parser(
        "checks", help="patrol checks per second and p50/p99 latency against watch lists of 1,000,000 entries"
    )
    p.add_argument("--entries", type=int, default=1_000_000, help="watch-list entries (default 1,000,000)")
    p.add_argument("--queries", type=int, default=2000, help="checks through the service (half people)")
    p.add_argument("--api-queries", type=int, default=500, help="checks through the API in process (0: none)")
    p.add_argument("--hit-rate", type=float, default=0.05, help="share of checks that hit (default 0.05)")
    p.add_argument("--units", type=int, default=200, help="free units on the roads, for backup on a hit")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--osm", help="OSM PBF (default: the bundled Harbin extract)")
    p.add_argument(
        "--store-dir",
        help="where the temporary store lies (default: the system's temporary folder; /dev/shm "
        "takes the disk's fsync out of the figures)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=checks)
    p = kinds.add_parser(
        "analytics",
        help="CompStat and response-time queries over 10 M synthetic incidents; CSV import rates",
    )
    p.add_argument("--incidents", type=int, default=10_000_000, help="synthetic incidents (default 10 M)")
    p.add_argument(
        "--import-rows",
        type=int,
        default=200_000,
        help="rows of each CSV format read (default 200,000; 0: none)",
    )
    p.add_argument(
        "--over-parquet",
        action="store_true",
        help="query the Parquet file as it lies instead of a copy in DuckDB",
    )
    p.add_argument("--repeats", type=int, default=3, help="warm runs of each query, their median told")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=analytics)
    p = kinds.add_parser(
        "video",
        help="streams decoded per core (1080p, 720p), a worker's cost a camera, live-view latency and "
        "the time a camera that comes back takes to be live again",
    )
    p.add_argument("--seconds", type=float, default=4.0, help="length of the generated clips")
    p.add_argument("--samples", type=int, default=200, help="frames whose latency is measured")
    p.add_argument("--no-live", action="store_true", help="skip the RTSP + Chromium figures")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=video)
    p = kinds.add_parser(
        "throws",
        help="thrown-object detection on generated scenes: recall, precision, floor and window "
        "accuracy, false alarms per camera-hour, 1080p frames a second",
    )
    p.add_argument(
        "--dir", type=Path, help="where the scenes are generated once (default: under the data dir)"
    )
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--positives", type=int, default=40, help="scenes with throws")
    p.add_argument("--negatives", type=int, default=12, help="scenes with distractors only")
    p.add_argument("--width", type=int, default=1920)
    p.add_argument("--height", type=int, default=1080)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=throws)


def dispatch(args: argparse.Namespace) -> int:
    from jingwu.bench.dispatch import run_dispatch_bench

    results = run_dispatch_bench(
        osm=Path(args.osm) if args.osm else None,
        units=args.units,
        queries=args.queries,
        k=args.k,
        seed=args.seed,
        cache_dir=settings_for(args).graph_cache_dir,
    )
    if args.json:
        # Always one object: the largest roster's figures at the top, every roster under "runs".
        summary = dict(max(results, key=lambda r: int(r["units"])))
        if len(results) > 1:
            summary["runs"] = results
        print(json.dumps(summary, ensure_ascii=False))
        return 0 if all(r["agree"] for r in results) else 1
    for r in results:
        print(
            f"{r['units']:>5} units, {r['queries']} queries, k={r['k']}: "
            f"p50 {r['p50_ms']:.3f} ms, p99 {r['p99_ms']:.3f} ms | baseline (full Dijkstra) "
            f"p50 {r['baseline_p50_ms']:.3f} ms, p99 {r['baseline_p99_ms']:.3f} ms | "
            f"speed-up p50 ×{r['speedup_p50']:.1f}, p99 ×{r['speedup_p99']:.1f}; agree={r['agree']}\n"
            f"{'':>6} road search alone: p50 {r['search_p50_ms']:.3f} ms vs "
            f"{r['search_baseline_p50_ms']:.3f} ms "
            f"(×{r['search_speedup_p50']:.1f}), p99 {r['search_p99_ms']:.3f} ms vs "
            f"{r['search_baseline_p99_ms']:.3f} ms (×{r['search_speedup_p99']:.1f})"
        )
    return 0 if all(r["agree"] for r in results) else 1


def ingest(args: argparse.Namespace) -> int:
    from jingwu.bench.ingest import IngestConfig, check_config, run_ingest_bench

    config = IngestConfig(
        units=args.units,
        seconds=args.seconds,
        batch=args.batch,
        connections=args.connections,
        database_url=args.database_url,
        bus_url=args.bus_url,
        processes=args.processes,
    )
    try:
        check_config(config)
    except ValueError as exc:
        print(f"jingwu bench ingest: {exc}", file=sys.stderr)
        return 2
    result = run_ingest_bench(config, settings_for(args).graph_cache_dir)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(
            f"{result['units']} units, {result['seconds']} s, batches of {result['batch']} on "
            f"{result['connections']} connections to {result['processes']} process(es) "
            f"({result['database']}, {result['bus']} bus): "
            f"{result['positions_per_s']:.0f} positions/s accepted and stored "
            f"({result['positions']} in all, {result['refused']} refused); live-stream lag "
            f"p50 {result['lag_p50_ms']} ms, p99 {result['lag_p99_ms']} ms; server CPU "
            f"{result['server_cpu_us_per_position']} µs per position"
        )
    return 0 if result["positions"] and not result["refused"] else 1


def geocode(args: argparse.Namespace) -> int:
    from jingwu.bench.geocode import run_geocode_bench

    if args.queries < 1:
        print("jingwu bench geocode: --queries must be at least 1", file=sys.stderr)
        return 2
    result = run_geocode_bench(
        osm=Path(args.osm) if args.osm else None,
        queries=args.queries,
        seed=args.seed,
        cache_dir=settings_for(args).graph_cache_dir,
    )
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    noises = ", ".join(f"{k} {v['top1']:.1%}" for k, v in result["by_noise"].items())
    print(
        f"{result['queries']} addresses of {result['index_entries']} (seed {result['seed']}): top-1 within "
        f"50 m {result['top1_clean']:.1%} clean, {result['top1_noisy']:.1%} noisy ({noises}); "
        f"p50 {result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms; index loaded in "
        f"{result['index_load_s']:.2f} s"
    )
    return 0


def checks(args: argparse.Namespace) -> int:
    from jingwu.bench.checks import run_checks_bench

    if args.entries < 2 or args.queries < 2 or args.api_queries < 0 or not 0 <= args.hit_rate <= 1:
        print(
            "jingwu bench checks: --entries and --queries at least 2, --api-queries at least 0, "
            "--hit-rate between 0 and 1",
            file=sys.stderr,
        )
        return 2
    result = run_checks_bench(
        entries=args.entries,
        queries=args.queries,
        api_queries=args.api_queries,
        hit_rate=args.hit_rate,
        units=args.units,
        seed=args.seed,
        osm=Path(args.osm) if args.osm else None,
        cache_dir=settings_for(args).graph_cache_dir,
        store_dir=Path(args.store_dir) if args.store_dir else None,
    )
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    every, api = result["all"], result.get("api")
    print(
        f"{result['queries']} checks against {result['entries']:,} entries ({result['database']}, "
        f"{result['hit_rate']:.0%} hits): {every['per_s']:.0f}/s, p50 {every['p50_ms']} ms, "
        f"p99 {every['p99_ms']} ms (people p99 {result['person']['p99_ms']} ms, plates p99 "
        f"{result['plate']['p99_ms']} ms; the bare look-up p99 {result['lookup_only']['p99_ms']} ms); "
        f"goal p99 ≤ {result['goal_p99_ms']} ms: {'met' if result['meets_goal'] else 'NOT met'} (the "
        f"disk's own fsync: p50 {result['disk_fsync']['p50_ms']} ms, p99 {result['disk_fsync']['p99_ms']} ms)"
        + (
            f"; through the API: {api['per_s']:.0f}/s, p50 {api['p50_ms']} ms, p99 {api['p99_ms']} ms"
            if api
            else ""
        )
    )
    return 0


def video(args: argparse.Namespace) -> int:
    from jingwu.bench.video import run_video_bench

    result = run_video_bench(seconds=args.seconds, latency_samples=args.samples, live=not args.no_live)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    for name in ("1080p", "720p"):
        r = result[name]
        print(
            f"{name}@25: {r['decode_fps_one_core']} frames/s decoded on one core = "
            f"{r['streams_decoded_per_core']} streams a core; a worker's camera takes "
            f"{r['worker_cpu_share_per_camera'] * 100:.1f} % of a core"
        )
    live = result.get("live") or {}
    if "missing" in live:
        print(f"live view: not measured ({live['missing']})")
    elif live:
        lat = live["latency_ms"]
        print(
            f"live view glass to glass: p50 {lat['p50']} ms, p99 {lat['p99']} ms ({lat['samples']} frames); "
            f"a camera back after a restart is live in {live['back_after_restart_s']} s"
        )
    return 0


def throws(args: argparse.Namespace) -> int:
    from jingwu.bench.throws import run_throws_bench

    if args.positives < 0 or args.negatives < 0 or args.positives + args.negatives == 0:
        print("error: --positives and --negatives must not be negative, nor both 0", file=sys.stderr)
        return 2
    directory = args.dir or (
        settings_for(args).data_dir
        / "bench"
        / f"throws-{args.seed}-{args.width}x{args.height}-{args.positives}-{args.negatives}"
    )
    result = run_throws_bench(
        directory=directory,
        seed=args.seed,
        width=args.width,
        height=args.height,
        positives=args.positives,
        negatives=args.negatives,
    )
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    r = result
    print(
        f"{r['scenes']} scenes, {r['throws']} throws ({r['throws_3px_or_more']} of ≥ 3 px), "
        f"{r['camera_hours']} camera-hours, {r['resolution']}"
    )
    print(
        f"recall {r['recall']} (all sizes {r['recall_all_sizes']}), precision {r['precision']}, F1 {r['f1']}"
    )
    print(
        f"floor exact {r['floor_exact']}, within 1 {r['floor_within_1']}, window exact {r['window_exact']}, "
        f"column exact {r['column_exact']}"
    )
    print(
        f"false alarms {r['false_alarms']} = {r['false_alarms_per_camera_hour']} per camera-hour "
        f"(95 % upper bound {r['false_alarms_per_camera_hour_95_upper']})"
    )
    print(
        f"{r['processing_fps']} frames/s for one stream on one core; {r['concurrent_fps']} frames/s on "
        f"{r['workers']} cores = {r['concurrent_streams_at_25fps']} streams at 25 fps"
    )
    return 0


def analytics(args: argparse.Namespace) -> int:
    from jingwu.bench.analytics import run_analytics_bench

    if args.incidents < 1000 or args.import_rows < 0 or args.repeats < 1:
        print(
            "jingwu bench analytics: --incidents at least 1000, --import-rows at least 0, "
            "--repeats at least 1",
            file=sys.stderr,
        )
        return 2
    result = run_analytics_bench(
        incidents=args.incidents,
        import_rows=args.import_rows,
        repeats=args.repeats,
        in_memory=not args.over_parquet,
    )
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(
        f"{result['incidents']:,} synthetic incidents ({result['store']}; made in {result['made_s']} s, "
        f"loaded in {result['loaded_s']} s); each query, median of warm runs:"
    )
    for name, timing in result["queries"].items():
        print(f"  {name:<36} {timing['warm_s']:.3f} s (first run {timing['cold_s']:.3f} s)")
    print(
        f"goal ≤ {result['goal_s']} s a query: {'met' if result['meets_goal'] else 'NOT met'}; the whole "
        f"response-time report (several queries) {result['response_times_whole_report']['warm_s']:.3f} s"
    )
    for name, rate in result["imports"].items():
        print(
            f"  import {name}: {rate['rows_per_s']:,} rows/s ({rate['rows']:,} rows in {rate['seconds']} s)"
        )
    return 0


__all__ = ["register"]
