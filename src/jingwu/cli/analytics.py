"""``jingwu analytics compstat|formats``: the analyses over other forces' and years' CSV
exports, read through a column mapping (docs/analytics.md). These commands read files only: they
need no database and no server, so an analyst can run them on a laptop."""

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
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=run_compstat)

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
        result = compstat(store, period, by=args.by)
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


def run_formats(args: argparse.Namespace) -> int:
    from jingwu.analytics.mapping import builtin_formats, load_mapping

    for name in builtin_formats():
        mapping = load_mapping(name)
        columns = ", ".join(f"{c} ({f})" for c, (f, _) in mapping.columns().items())
        print(f"{name}: {mapping.title}\n  columns: {columns}")
    return 0


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
            f"  {bad['count']} × {bad['reason']} in column {bad['column']} of {bad['file']} (lines {lines}…)",
            file=sys.stderr,
        )
