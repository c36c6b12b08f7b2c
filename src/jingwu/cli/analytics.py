"""``jingwu analytics compstat|response-times|hotspots|score|formats``: the analyses over other
forces' and years' CSV exports, read through a column mapping (docs/analytics.md). These commands
read files only: they need no database and no server, so an analyst can run them on a laptop."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from jingwu.cli.output import table

FORMAT_HELP = (
    "a built-in format (police-uk, nopd, berkeley; `jingwu analytics formats` lists them) "
    "or the path of a mapping .toml file"
)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = commands.add_parser("analytics", help="CompStat tables and hotspot forecasts from CSV exports")
    kinds = group.add_subparsers(dest="analytics", required=True)

    p = kinds.add_parser(
        "compstat",
        help="cases of a period against the same period a year earlier, by category",
        description="Counts of a period beside the same period a year earlier, with the change in per "
        "cent, by category (or --by another column). Bad rows are counted by reason and reported.",
    )
    _inputs(p)
    p.add_argument(
        "--period",
        required=True,
        help="2019-07 (month), 2019 (year), 2019-W27 (ISO week), 28d:2019-07-31, ytd:2019-07 or "
        "ytd:2019-07-15",
    )
    p.add_argument(
        "--by", default="category", help="category (default), group, district, station, area, priority"
    )
    p.add_argument(
        "--basis",
        choices=("records", "cases"),
        default="records",
        help="records (default): every record by when it happened; cases: cases by when filed (立案)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=run_compstat)

    p = kinds.add_parser(
        "response-times",
        help="call→dispatch, dispatch→arrival and call→arrival percentiles, by priority, district, hour",
        description="Percentiles (50, 75, 90) of each stage, overall and by priority, district, station "
        "and hour of the call; the share of arrivals within 5 minutes; the trend. Officer-initiated "
        "records are left out; stages that end before they start are counted, not used.",
    )
    _inputs(p)
    p.add_argument("--period", help="only calls in this period (default: all); forms as for compstat")
    p.add_argument("--trend", default="auto", choices=("auto", "day", "week", "month"))
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=run_response_times)

    p = kinds.add_parser(
        "hotspots",
        help="forecast where a month's incidents concentrate, as GeoJSON polygons",
        description="Learns from the input's records before the month asked for (never from the month "
        "itself) and writes the cells that cover --area-share of the study area where the next "
        "month's incidents are forecast to concentrate.",
    )
    _inputs(p)
    p.add_argument("--for", dest="month", required=True, metavar="YYYY-MM", help="the month to forecast")
    p.add_argument("--area-share", type=float, default=0.05, help="share of the study area (default 0.05)")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.geojson")
    p.add_argument(
        "--method",
        default="auto",
        help="auto (default: the best of the methods back-tested on the input's last months), or a method",
    )
    p.add_argument("--cell", type=float, default=150.0, metavar="METRES", help="grid cell side (default 150)")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.set_defaults(func=run_hotspots)

    p = kinds.add_parser(
        "score",
        help="back-test every hotspot method on months of the data: hit rate, PAI and PEI*",
        description="For each month given, trains every method on the records before it and scores "
        "its hotspots on the records in it, at 1 %%, 3 %% and 5 %% of the study area.",
    )
    _inputs(p)
    p.add_argument("--months", required=True, nargs="+", metavar="YYYY-MM", help="the months to score")
    p.add_argument("--cell", type=float, default=150.0, metavar="METRES", help="grid cell side (default 150)")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=run_score)

    p = kinds.add_parser("formats", help="the built-in column mappings and the columns they need")
    p.set_defaults(func=run_formats)


def _inputs(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", required=True, help=FORMAT_HELP)
    p.add_argument("--input", required=True, nargs="+", type=Path, metavar="FILE", help="CSV files")


def _load(args: argparse.Namespace) -> Any:
    from jingwu.analytics.mapping import load_mapping
    from jingwu.analytics.reader import read_files

    return read_files(args.input, load_mapping(args.format))


def run_compstat(args: argparse.Namespace) -> int:
    from jingwu.analytics.compstat import compstat
    from jingwu.analytics.periods import parse_period
    from jingwu.analytics.store import AnalyticStore

    period = parse_period(args.period)  # a bad period is told before the files are read
    loaded = _load(args)
    store = AnalyticStore.of_table(loaded.table)
    try:
        result = compstat(store, period, by=args.by, basis=args.basis)
    finally:
        store.close()
    answer = result.as_json()
    answer["records"] = loaded.report.as_json()
    if args.json:
        print(json.dumps(answer, ensure_ascii=False))
        return 0
    print(f"CompStat {answer['period']} against {answer['previous_period']}")
    rows = [
        [str(r[args.by]), str(r["current"]), str(r["previous"]), _pct(r["change_pct"])]
        for r in answer["rows"]
    ]
    total = answer["total"]
    rows.append(["total", str(total["current"]), str(total["previous"]), _pct(total["change_pct"])])
    print(table([args.by, answer["period"], answer["previous_period"], "change"], rows))
    if answer["solved"]:
        solved = answer["solved"]["total"]
        print(f"solved: {solved['current']} against {solved['previous']} ({_pct(solved['change_pct'])})")
    _print_report(answer["records"])
    for caveat in answer["caveats"]:
        print(f"note: {caveat}")
    return 0


def run_response_times(args: argparse.Namespace) -> int:
    from jingwu.analytics.periods import parse_period
    from jingwu.analytics.response_times import Scope, response_times
    from jingwu.analytics.store import AnalyticStore

    period = parse_period(args.period) if args.period else None
    loaded = _load(args)
    store = AnalyticStore.of_table(loaded.table)
    try:
        report = response_times(store, Scope(period=period), trend=args.trend)
    finally:
        store.close()
    report["records_read"] = loaded.report.as_json()
    if args.json:
        print(json.dumps(report, ensure_ascii=False, default=str))
        return 0
    print(f"response times of {report['records']} calls (officer-initiated left out)")
    rows = [
        [stage.replace("_", " "), str(s["n"]), *(_minutes(s[k]) for k in ("p50_s", "p75_s", "p90_s"))]
        for stage, s in report["overall"].items()
    ]
    print(table(["stage", "n", "p50", "p75", "p90"], rows))
    within = report["within_5_min"]
    if within["share"] is not None:
        print(
            f"within 5 minutes: {within['within']} of {within['arrivals']} {within['of']} "
            f"({within['share'] * 100:.1f} %)"
        )
    print("\ncall → arrival by priority")
    rows = [
        [
            str(r["priority"]),
            str(r["call_to_arrival"]["n"]),
            _minutes(r["call_to_arrival"]["p50_s"]),
            _minutes(r["call_to_arrival"]["p90_s"]),
        ]
        for r in report["by"]["priority"]
    ]
    print(table(["priority", "n", "p50", "p90"], rows))
    _print_report(report["records_read"])
    return 0


def _minutes(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 60:.1f} min"


def run_hotspots(args: argparse.Namespace) -> int:
    from jingwu.analytics.hotspot_forecast import forecast_file

    if not 0 < args.area_share <= 1:
        print("error: --area-share is a share of the study area, above 0 and at most 1", file=sys.stderr)
        return 2

    loaded = _load(args)
    summary = forecast_file(
        loaded.table,
        month=args.month,
        area_share=args.area_share,
        method=args.method,
        cell_m=args.cell,
        out=args.out,
    )
    summary["records"] = loaded.report.as_json()
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(
            f"{summary['cells']} cells ({summary['area_share'] * 100:.1f} % of "
            f"{summary['study_area_m2'] / 1e6:.2f} km²) by {summary['method']} → {args.out}"
        )
        _print_report(summary["records"])
    return 0


def run_score(args: argparse.Namespace) -> int:
    from jingwu.analytics.hotspot_forecast import score_months

    loaded = _load(args)
    result = score_months(loaded.table, args.months, cell_m=args.cell)
    result["records"] = loaded.report.as_json()
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    rows = []
    for method, by_share in result["mean"].items():
        rows.append([method, *(f"{s['pai']:.2f} / {s['pei_star']:.2f}" for s in by_share.values())])
    shares = next(iter(result["mean"].values())).keys()
    print(
        f"mean over {', '.join(m['month'] for m in result['months'])}: PAI / PEI* at each share of the area"
    )
    print(table(["method", *(f"{float(s) * 100:g} %" for s in shares)], rows))
    _print_report(result["records"])
    return 0


def run_formats(args: argparse.Namespace) -> int:
    from jingwu.analytics.mapping import builtin_formats, load_mapping

    for name in builtin_formats():
        mapping = load_mapping(name)
        columns = ", ".join(f"{c} ({f})" for c, (f, _) in mapping.columns().items())
        print(f"{name}: {mapping.title}\n  columns: {columns}")
    return 0


def _where(bad: dict[str, Any]) -> str:
    return f" {bad['column']}" if bad["reason"] == "wrong_field_count" else f" in column {bad['column']}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:+.2f} %"


def _print_report(report: dict[str, Any]) -> None:
    print(
        f"rows read {report['read']}, counted {report['loaded']}, bad {report['bad']}, "
        f"without coordinates {report['without_coordinates']} (counted, not mapped)",
        file=sys.stderr,
    )
    for bad in report["bad_by_reason"]:
        lines = ", ".join(str(n) for n in bad["lines"])
        print(
            f"  {bad['count']} × {bad['reason']}{_where(bad)} of {bad['file']} (lines {lines}…)",
            file=sys.stderr,
        )
