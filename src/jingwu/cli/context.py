"""The one way a command opens what it works on: its settings, the database (refused unless its
schema is current: only ``jingwu migrate`` and the server commands change a schema), and, for the
commands that need the road network too, the whole services bundle."""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine

from jingwu.domain.access import Jurisdiction
from jingwu.errors import NotFound, ValidationFailed
from jingwu.service.audit import AuditService
from jingwu.service.auth import AuthService
from jingwu.settings import Settings
from jingwu.store import repository as repo
from jingwu.store.db import make_engine, read_transaction, require_current_schema

if TYPE_CHECKING:
    from jingwu.composition import Services
    from jingwu.store.fieldcrypt import KeyRing

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


class AdminStore:
    """An admin command's database, at the current schema, and the services it works through."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with read_transaction(self.engine) as conn:
            yield conn

    def field_keys(self, *, check_indexes: bool = True) -> KeyRing:
        """The field-encryption keys, checked against what the database holds."""
        from jingwu.composition import field_keys  # the composition root loads every service

        return field_keys(self.settings, self.engine, check_indexes=check_indexes)

    @cached_property
    def auth(self) -> AuthService:
        """Accounts, log-in, sessions and the second factor, without the field keys: enough for
        everything but sealing a TOTP secret (``auth_with_keys``)."""
        return AuthService(self.engine)

    def auth_with_keys(self) -> AuthService:
        return AuthService(self.engine, keys=self.field_keys())

    @cached_property
    def audit(self) -> AuditService:
        return AuditService(self.engine)

    def bound_station(self, unit_id: str | None, station_id: str | None) -> str | None:
        """The station of a user or device bound to ``unit_id``: the one given, else the unit's
        own. An unknown unit is refused (NotFound), naming the unit's id when a call sign was given."""
        if unit_id is None:
            return station_id
        with self.read() as conn:
            try:
                unit = repo.get_unit(conn, unit_id)
            except NotFound:
                by_callsign = [u for u in repo.list_units(conn) if u.callsign.lower() == unit_id.lower()]
                hint = f"; did you mean its id {by_callsign[0].id!r}?" if by_callsign else ""
                raise NotFound(f"no unit {unit_id!r}{hint}", code="unit_not_found", unit_id=unit_id) from None
        return station_id or unit.station_id

    def known_station(self, station_id: str | None) -> str | None:
        """``station_id`` if it names a station (NotFound otherwise)."""
        if station_id is None:
            return None
        with self.read() as conn:
            if station_id not in {s.id for s in repo.list_stations(conn)}:
                raise NotFound(f"no station {station_id!r}", code="station_not_found", station_id=station_id)
        return station_id


@contextmanager
def open_store(args: argparse.Namespace) -> Iterator[AdminStore]:
    """The database of the settings, refused with a one-line error naming `jingwu migrate` when
    its schema is missing or not this version's; disposed when the command ends."""
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
    "AdminStore",
    "open_services",
    "open_store",
    "os_user",
    "parse_jurisdiction",
    "settings_for",
]
