"""``jingwu import stations|units|personnel|roster FILE``: a bureau's own city from its files.
Every row is checked first; a file with a bad row is refused whole, each bad row named."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from jingwu.cli.context import open_services, os_user

FORMATS = """file formats (CSV with a header line, UTF-8; or GeoJSON for stations):
  stations   id,name,district,address,jurisdiction   (jurisdiction: a GeoJSON Polygon or
             MultiPolygon as text) -- or a GeoJSON FeatureCollection whose features carry
             properties id, name, district, address and the jurisdiction as geometry
  units      callsign,kind,station_id,capabilities,radio_id,terminal_id
             (kind: patrol_car, motorcycle, foot, drone; capabilities separated by ;)
  personnel  police_number,name,rank,station_id,role   (role: officer if empty); each gets an
             account named by police number, its password printed once (or --passwords-out)
  roster     date,shift,starts_at,ends_at,station_id,unit,officers
             (shift: day 08:00-20:00, night 20:00-08:00, or custom with starts_at/ends_at;
             times without a zone are the bureau's; unit: call sign; officers: police numbers
             separated by ;). One row is one unit's crew on one shift."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "import",
        help="import stations, units, personnel or the roster from a CSV or GeoJSON file",
        description="Import a bureau's stations, units, personnel or roster. Each row is checked "
        "against the database and the rows above it; if any row is bad, each is reported with "
        "its line and reason and nothing of the file is written.",
        epilog=FORMATS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("kind", choices=("stations", "units", "personnel", "roster"))
    p.add_argument("file", type=Path)
    p.add_argument(
        "--format",
        choices=("csv", "geojson"),
        help="default: by the file's extension (.geojson/.json: GeoJSON)",
    )
    p.add_argument(
        "--passwords-out",
        type=Path,
        metavar="FILE",
        help="personnel: write the passwords made to FILE (mode 600) instead of printing them",
    )
    p.add_argument("--osm", help="OSM PBF of the city (default: the bundled Harbin extract)")
    p.set_defaults(func=run_import)


def run_import(args: argparse.Namespace) -> int:
    # The services (SQLAlchemy, the road network) load only when a file is imported.
    from jingwu.service.administration.imports import Importer, ImportRefused

    try:
        text = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    geojson = args.format == "geojson" or (
        args.format is None and args.file.suffix.lower() in (".geojson", ".json")
    )
    with open_services(args) as services:
        try:
            result = Importer(services.admin, services.bus).run(
                args.kind, text, geojson=geojson, actor=os_user()
            )
        except ImportRefused as refused:
            print(
                f"error: {args.file}: {len(refused.errors)} bad row(s); nothing was imported", file=sys.stderr
            )
            for error in refused.errors:
                print(f"  line {error.line}: {error.reason}", file=sys.stderr)
            return 2
    print(f"imported {result.rows} {args.kind} row(s) from {args.file}")
    if result.passwords:
        lines = "".join(f"{number}\t{password}\n" for number, password in result.passwords)
        if args.passwords_out:
            fd = os.open(args.passwords_out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(lines)
            print(
                f"their first passwords are in {args.passwords_out} (mode 600): hand them out, then delete it"
            )
        else:
            print("their first passwords, shown only this once (police number, password):")
            print(lines, end="")
    return 0


__all__ = ["register"]
