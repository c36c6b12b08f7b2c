"""``jingwu import-osm``: compile a city's OpenStreetMap extract into the cached road graph, ahead
of the first start (which would otherwise do it, for a large city in minutes)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from jingwu.cli.context import settings_for
from jingwu.cli.output import progress


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser("import-osm", help="compile an OSM PBF into the cached road graph")
    p.add_argument("file")
    p.set_defaults(func=import_osm)


def import_osm(args: argparse.Namespace) -> int:
    from jingwu.routing import load_network  # scipy and osmium: only for the command that needs them

    settings = settings_for(args)
    path = Path(args.file)
    if not path.is_file():
        print(f"error: no such OSM file: {path}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        network = load_network(path, settings.graph_cache_dir, progress)
    except (RuntimeError, OSError) as exc:  # pyosmium reports a damaged file as RuntimeError
        print(f"\nerror: cannot read {path} as an OSM PBF file: {exc}", file=sys.stderr)
        return 2
    print(
        f"road graph of {path.name}: {network.node_count} nodes, {network.edge_count} edges, "
        f"{len(network.restrictions)} turn restrictions, "
        f"bbox {network.bbox}; ready in {time.perf_counter() - started:.2f} s "
        f"(cached in {settings.graph_cache_dir})"
    )
    return 0


__all__ = ["import_osm", "register"]
