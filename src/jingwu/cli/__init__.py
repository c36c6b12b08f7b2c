"""The ``jingwu`` command. Each command group is a module with ``register(commands)`` that adds its
subcommands and their handlers; the parser is built from ``GROUPS`` in the order ``--help`` shows.
A handler opens what it needs through :mod:`jingwu.cli.context`, and what goes wrong before a
server is up is told in one line, not a traceback."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from jingwu.cli import (
    analytics,
    audit,
    bench,
    cameras,
    community_devices,
    device_accounts,
    imports,
    keys,
    roads,
    schema,
    serve,
    throws,
    users,
)
from jingwu.errors import JingwuError
from jingwu.settings import Settings
from jingwu.store.fieldcrypt import FieldCryptError

#: The command groups, in the order of ``jingwu --help``.
GROUPS = (
    serve,
    schema,
    roads,
    imports,
    users,
    device_accounts,
    community_devices,
    cameras,
    throws,
    audit,
    keys,
    analytics,
    bench,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jingwu", description="Jingwu 警务 smart-policing platform")
    parser.add_argument(
        "--data-dir", help="state directory (default: $JINGWU_DATA_DIR or ~/.local/share/jingwu)"
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its INFO lines bury our start-up banner
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request would bury the rest
    if args.data_dir:
        # Processes the command starts (the benches' servers) read the same data directory.
        os.environ["JINGWU_DATA_DIR"] = args.data_dir
    try:
        return int(args.func(args))
    except (JingwuError, FieldCryptError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    except FileNotFoundError as exc:
        print(f"error: no such file: {exc.filename} (check --osm / JINGWU_OSM_FILE)", file=sys.stderr)
    except Exception as exc:
        reason = _database_fault(exc)
        if reason is None:
            raise
        print(f"error: cannot use the database at {_database_url_shown()}: {reason}", file=sys.stderr)
    return 2


def _database_fault(exc: Exception) -> str | None:
    """The reason a database could not be used (reached, logged in to, opened), in one line; None
    when ``exc`` is something else. SQLAlchemy is loaded by then: the command opened a database."""
    from sqlalchemy.exc import OperationalError

    if not isinstance(exc, OperationalError):
        return None
    return str(exc.orig or exc).strip().splitlines()[0]


def _database_url_shown() -> str:
    """The configured database, its password hidden, for an error message."""
    from sqlalchemy.engine import make_url

    try:
        url = Settings.from_environment().resolved_database_url
    except Exception:
        return "(unreadable JINGWU_DATABASE_URL)"
    return make_url(url).render_as_string(hide_password=True)


__all__ = ["GROUPS", "build_parser", "main"]
