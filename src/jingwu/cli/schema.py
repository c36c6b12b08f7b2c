"""``jingwu migrate``: bring the database's schema to this version's. The one command an operator
runs on purpose to change a schema (after a backup); the admin commands refuse an old one."""

from __future__ import annotations

import argparse

from jingwu.cli.context import settings_for


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "migrate",
        help="upgrade the database schema",
        description="Bring the database's schema to this version of Jingwu's (a no-op when it is "
        "already there). Back the database up first. `jingwu serve` and `jingwu demo` do this as "
        "they start; the admin commands refuse a schema that is not current.",
    )
    p.set_defaults(func=migrate)


def migrate(args: argparse.Namespace) -> int:
    from jingwu.store.db import make_engine, schema_revisions, upgrade_schema  # as context.py says

    engine = make_engine(settings_for(args).resolved_database_url)
    try:
        before, _ = schema_revisions(engine)
        upgrade_schema(engine)
        after, _ = schema_revisions(engine)
    finally:
        engine.dispose()
    now = ", ".join(sorted(after))
    if before == after:
        print(f"schema is up to date ({now})")
    elif not before:
        print(f"schema created ({now})")
    else:
        print(f"schema upgraded from {', '.join(sorted(before))} to {now}")
    return 0


__all__ = ["migrate", "register"]
