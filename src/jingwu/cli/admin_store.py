"""What an admin command works through once its database is open (``context.open_store``): the
engine, the account and audit services over it, the field keys, and the lookups the commands
share (a unit's station, a station that exists)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property

from sqlalchemy import Connection, Engine

from jingwu.errors import NotFound
from jingwu.service.audit import AuditService
from jingwu.service.auth import AuthService
from jingwu.settings import Settings
from jingwu.store import repository as repo
from jingwu.store.db import read_transaction
from jingwu.store.fieldcrypt import KeyRing


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
        from jingwu.composition import field_keys  # the composition root loads every service too

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


__all__ = ["AdminStore"]
