"""The one way a command opens what it works on: its settings, the database (refused unless its
schema is current: only ``jingwu migrate`` and the server commands change a schema), and, for the
commands that need the road network too, the whole services bundle.

The command modules import only what building the parser needs; the database and the services
(SQLAlchemy, argon2, the road network: a second or more) are loaded here, when a command opens
them, so that ``jingwu --help`` and the commands without a database answer at once."""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jingwu.domain.access import Jurisdiction
from jingwu.errors import ValidationFailed
from jingwu.settings import Settings

if TYPE_CHECKING:
    from jingwu.cli.admin_store import AdminStore
    from jingwu.composition import Services

#: What the audit log names as the source of every change made from the command line.
SOURCE = "cli"


def settings_for(args: argparse.Namespace, **overrides: Any) -> Settings:
    """The settings of the environment, with the command line's --data-dir and --osm over them."""
    if getattr(args, "data_dir", None):
        overrides.setdefault("data_dir", Path(args.data_dir))
    if getattr(args, "osm", None):
        overrides.setdefault("osm_file", Path(args.osm))
    return Settings.from_environment(**overrides)


def os_user() -> str:
    """Who ran the command, for the audit log: the operating system's user."""
    return getpass.getuser()


def parse_jurisdiction(text: str | None) -> Jurisdiction | None:
    """A --jurisdiction option's scope (None when not given), refused in one line when malformed."""
    if text is None:
        return None
    try:
        return Jurisdiction.parse(text)
    except ValueError as exc:
        raise ValidationFailed(str(exc), code="bad_jurisdiction") from None


@contextmanager
def open_store(args: argparse.Namespace) -> Iterator[AdminStore]:
    """The database of the settings, refused with a one-line error naming `jingwu migrate` when
    its schema is missing or not this version's; disposed when the command ends."""
    from jingwu.cli.admin_store import AdminStore
    from jingwu.store.db import make_engine, require_current_schema

    settings = settings_for(args)
    engine = make_engine(settings.resolved_database_url)
    try:
        require_current_schema(engine)
        yield AdminStore(settings, engine)
    finally:
        engine.dispose()


@contextmanager
def open_services(args: argparse.Namespace) -> Iterator[Services]:
    """Every service over the database and the road network (a community device is placed on a
    road), for the commands that need them; the schema must be current, as for ``open_store``."""
    from jingwu.composition import build_services  # loads the road network and every service

    services = build_services(settings_for(args), migrate=False)
    try:
        yield services
    finally:
        services.close()


__all__ = [
    "SOURCE",
    "open_services",
    "open_store",
    "os_user",
    "parse_jurisdiction",
    "settings_for",
]
