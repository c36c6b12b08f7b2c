"""The ``jingwu`` command: serve, demo, import-osm, migrate, user-add, user-set, user-password,
user-logout, user-list, user-totp, device-add, device-key, audit, keys, bench."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jingwu.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger("jingwu")


def _progress(stage: str, fraction: float) -> None:
    """Live progress on a terminal; one line per finished stage in a log file."""
    if sys.stderr.isatty():
        end = "" if fraction < 1 else "\n"
        print(f"\r  {stage:<24} {fraction * 100:5.1f} %", end=end, file=sys.stderr, flush=True)
    elif fraction >= 1:
        print(f"  {stage}: done", file=sys.stderr, flush=True)


class _RedactTokens(logging.Filter):
    """Live-stream URLs carry the bearer token (browsers cannot set WebSocket headers), and OsmAnd
    reports the device key as their ``id`` (phone apps cannot set headers either): keep both out
    of the server's logs."""

    _pattern = re.compile(r"(access_token=)[^&\s\"']+")
    _osmand_key = re.compile(r"([?&](?:id|deviceid)=)[^&\s\"']+")

    def _redact(self, text: str) -> str:
        text = self._pattern.sub(r"\1***", text)
        return self._osmand_key.sub(r"\1***", text) if "/api/osmand" in text else text

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(self._redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = self._redact(record.msg)
        return True


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = Path(args.data_dir)
    if getattr(args, "osm", None):
        overrides["osm_file"] = Path(args.osm)
    command = getattr(args, "command", None)
    if command == "demo":
        # The demo's users log in with the password alone, so that anyone can try it.
        overrides["require_totp"] = False
    elif command == "serve" and "JINGWU_REQUIRE_TOTP" not in os.environ:
        overrides["require_totp"] = True
    return Settings.from_environment(**overrides)


def cmd_import_osm(args: argparse.Namespace) -> int:
    from jingwu.routing import load_network

    settings = _settings(args)
    path = Path(args.file)
    if not path.is_file():
        print(f"error: no such OSM file: {path}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        network = load_network(path, settings.graph_cache_dir, _progress)
    except (RuntimeError, OSError) as exc:  # pyosmium reports a damaged file as RuntimeError
        print(f"\nerror: cannot read {path} as an OSM PBF file: {exc}", file=sys.stderr)
        return 2
    print(
        f"road graph of {path.name}: {network.node_count} nodes, {network.edge_count} edges, "
        f"bbox {network.bbox}; ready in {time.perf_counter() - started:.2f} s "
        f"(cached in {settings.graph_cache_dir})"
    )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from jingwu.store.db import make_engine, upgrade_schema

    settings = _settings(args)
    upgrade_schema(make_engine(settings.resolved_database_url))
    print("schema is up to date")
    return 0


def _bound_station(engine: Engine, unit_id: str | None, station_id: str | None) -> str | None:
    """The station of a user or device bound to ``unit_id``: the one given, else the unit's own.
    An unknown unit is refused (NotFound), naming the unit's id when a call sign was given."""
    from jingwu.errors import NotFound
    from jingwu.store import repository as repo
    from jingwu.store.db import read_transaction

    if unit_id is None:
        return station_id
    with read_transaction(engine) as conn:
        try:
            unit = repo.get_unit(conn, unit_id)
        except NotFound:
            by_callsign = [u for u in repo.list_units(conn) if u.callsign.lower() == unit_id.lower()]
            hint = f"; did you mean its id {by_callsign[0].id!r}?" if by_callsign else ""
            raise NotFound(f"no unit {unit_id!r}{hint}", code="unit_not_found", unit_id=unit_id) from None
    return station_id or unit.station_id


def _new_password() -> str:
    """A new password: $JINGWU_NEW_PASSWORD, else typed twice at a terminal. Without either
    (a script, a pipe, ``</dev/null``) it is refused in one line, as are two that differ."""
    import getpass

    from jingwu.errors import ValidationFailed

    given = os.environ.get("JINGWU_NEW_PASSWORD")
    if given:
        return given
    if not sys.stdin.isatty():
        raise ValidationFailed(
            "no terminal to ask for the password: set JINGWU_NEW_PASSWORD or run in a terminal",
            code="no_password",
        )
    try:
        password = getpass.getpass("new password: ")
        again = getpass.getpass("the same again: ")
    except (EOFError, KeyboardInterrupt):
        raise ValidationFailed("no password was given; nothing was changed", code="no_password") from None
    if again != password:
        raise ValidationFailed("the two passwords differ; nothing was changed", code="password_mismatch")
    return password


def cmd_user_add(args: argparse.Namespace) -> int:
    """Create a person's account; its role and jurisdiction are printed. Everything but the
    password is checked before the password is asked for."""
    import getpass

    from jingwu.domain.access import Jurisdiction, Role
    from jingwu.errors import ValidationFailed
    from jingwu.service.auth import AuthService
    from jingwu.store.db import make_engine, upgrade_schema

    role = Role(args.role)
    jurisdiction = None
    if args.jurisdiction is not None:
        try:
            jurisdiction = Jurisdiction.parse(args.jurisdiction)
        except ValueError as exc:
            raise ValidationFailed(str(exc), code="bad_jurisdiction") from None
    settings = _settings(args)
    engine = make_engine(settings.resolved_database_url)
    try:
        upgrade_schema(engine)
        station_id = _bound_station(engine, args.unit, args.station)
        auth = AuthService(engine)
        auth.check_new_account(
            args.username, role, station_id=station_id, unit_id=args.unit, jurisdiction=jurisdiction
        )
        password = _new_password()
        principal = auth.create_user(
            args.username,
            password,
            role,
            station_id=station_id,
            unit_id=args.unit,
            display_name=args.display_name,
            jurisdiction=jurisdiction,
            actor=getpass.getuser(),
            source="cli",
        )
    finally:
        engine.dispose()
    bound = "".join(
        f", {label} {value}"
        for label, value in (("unit", principal.unit_id), ("station", principal.station_id))
        if value
    )
    print(
        f"user {principal.username} created: role {principal.role}, "
        f"jurisdiction {principal.jurisdiction}{bound}"
    )
    return 0


def _print_device_key(username: str, key: str, *, new: bool) -> None:
    print(
        f"{'device' if new else 'new key for device'} {username}"
        + ("" if new else " (its previous keys no longer work)")
        + ". Its key is shown only this once:\n"
        f"  {key}\n"
        "Configure it in the device as its bearer token (Authorization: Bearer KEY; later also "
        "as its OsmAnd id). If it is lost, `jingwu device-key NAME` issues a new one."
    )


def cmd_device_add(args: argparse.Namespace) -> int:
    """Create a device account (alarm column, camera analytics, AVL box); its key is printed once."""
    import getpass

    from jingwu.service.auth import AuthService
    from jingwu.store.db import make_engine, upgrade_schema

    settings = _settings(args)
    engine = make_engine(settings.resolved_database_url)
    try:
        upgrade_schema(engine)
        station_id = _bound_station(engine, args.unit, args.station)
        _, key = AuthService(engine).create_device(
            args.name,
            unit_id=args.unit,
            station_id=station_id,
            display_name=args.display_name,
            actor=getpass.getuser(),
            source="cli",
        )
    finally:
        engine.dispose()
    _print_device_key(args.name, key, new=True)
    return 0


def cmd_device_key(args: argparse.Namespace) -> int:
    """Replace a device's key (rotation, a lost or stolen device); the new one is printed once."""
    import getpass

    from jingwu.service.auth import AuthService
    from jingwu.store.db import make_engine, upgrade_schema

    settings = _settings(args)
    engine = make_engine(settings.resolved_database_url)
    try:
        upgrade_schema(engine)
        key = AuthService(engine).issue_device_key(args.name, actor=getpass.getuser(), source="cli")
    finally:
        engine.dispose()
    _print_device_key(args.name, key, new=False)
    return 0


def _print_device_secret(device_id: str, secret: str, *, new: str | None) -> None:
    print(
        (f"community device {device_id} ({new})" if new else f"new secret for community device {device_id}")
        + ". Its secret is shown only this once:\n"
        f"  {secret}\n"
        "Configure it in the device, which signs every message with it (HMAC-SHA256) and publishes "
        f"to jingwu/v1/devices/{device_id}/{{alarm|access|heartbeat}} (docs/devices.md)."
        + ("" if new else " The old secret no longer works; the device's counter may start again at 1.")
        + f" If it is lost, `jingwu device-secret {device_id}` issues a new one."
    )


def cmd_device_register(args: argparse.Namespace) -> int:
    """Register a community device that reports over MQTT; its secret is printed once."""
    import getpass

    from jingwu.composition import build_services
    from jingwu.domain.devices import DeviceKind
    from jingwu.domain.gcj02 import gcj02_point_to_wgs84
    from jingwu.domain.geo import GeoPoint
    from jingwu.service.devices import NewDevice

    point = gcj02_point_to_wgs84(args.lat, args.lon) if args.crs == "gcj02" else GeoPoint(args.lat, args.lon)
    services = build_services(_settings(args))
    try:
        new = NewDevice(
            args.id,
            DeviceKind(args.kind),
            args.community,
            point,
            address=args.address,
            heartbeat_s=args.heartbeat,
        )
        device, secret = services.devices.register(new, actor=getpass.getuser(), source="cli")
    finally:
        services.close()
    _print_device_secret(
        device.id, secret, new=f"{device.kind}, station {device.station_id or 'none: the city'}"
    )
    return 0


def cmd_device_secret(args: argparse.Namespace) -> int:
    """A new secret for a community device (lost, leaked, a new controller); printed once."""
    import getpass

    from jingwu.composition import build_services

    services = build_services(_settings(args))
    try:
        secret = services.devices.issue_secret(args.id, actor=getpass.getuser(), source="cli")
    finally:
        services.close()
    _print_device_secret(args.id, secret, new=None)
    return 0


def _known_station(engine: Engine, station_id: str | None) -> str | None:
    """``station_id`` if it names a station (NotFound otherwise)."""
    from jingwu.errors import NotFound
    from jingwu.store import repository as repo
    from jingwu.store.db import read_transaction

    if station_id is None:
        return None
    with read_transaction(engine) as conn:
        if station_id not in {s.id for s in repo.list_stations(conn)}:
            raise NotFound(f"no station {station_id!r}", code="station_not_found", station_id=station_id)
    return station_id


def _shown(field: str, value: object) -> str:
    if field == "disabled":
        return "disabled" if value else "enabled"
    return "-" if value is None else str(value)


def cmd_user_set(args: argparse.Namespace) -> int:
    """Change a user's role, jurisdiction, station, unit or standing; the changes are printed."""
    import getpass

    from jingwu.domain.access import TOTP_ROLES, Jurisdiction, Role
    from jingwu.errors import ValidationFailed
    from jingwu.service.auth import AuthService
    from jingwu.store.db import make_engine, upgrade_schema

    jurisdiction = None
    if args.jurisdiction is not None:
        try:
            jurisdiction = Jurisdiction.parse(args.jurisdiction)
        except ValueError as exc:
            raise ValidationFailed(str(exc), code="bad_jurisdiction") from None
    disabled = True if args.disable else False if args.enable else None
    asked = (args.role, jurisdiction, args.unit, args.station, disabled)
    if all(a is None for a in asked) and not (args.no_unit or args.no_station):
        raise ValidationFailed(
            "say what to change: --role, --jurisdiction, --unit, --station, --disable or --enable",
            code="nothing_to_change",
        )
    settings = _settings(args)
    engine = make_engine(settings.resolved_database_url)
    try:
        upgrade_schema(engine)
        auth = AuthService(engine)
        before = auth.user_info(args.username)
        changes: dict[str, Any] = {}
        if args.no_unit:
            changes["unit_id"] = None
        elif args.unit is not None:
            # An officer bound to a unit belongs to its station unless --station says otherwise.
            changes["unit_id"] = args.unit
            changes["station_id"] = _known_station(engine, _bound_station(engine, args.unit, args.station))
        if args.no_station:
            changes["station_id"] = None
        elif args.station is not None:
            changes["station_id"] = _known_station(engine, args.station)
        auth.update_user(
            args.username,
            role=Role(args.role) if args.role else None,
            jurisdiction=jurisdiction,
            disabled=disabled,
            actor=getpass.getuser(),
            source="cli",
            **changes,
        )
        after = auth.user_info(args.username)
    finally:
        engine.dispose()
    old = {"role": before.role, "jurisdiction": before.jurisdiction, "station": before.station_id}
    old |= {"unit": before.unit_id, "disabled": before.disabled}
    new = {"role": after.role, "jurisdiction": after.jurisdiction, "station": after.station_id}
    new |= {"unit": after.unit_id, "disabled": after.disabled}
    changed = [f for f in old if old[f] != new[f]]
    if not changed:
        print(
            f"user {after.username} unchanged: "
            + ", ".join(f"{f} {_shown(f, new[f])}" for f in new if f != "disabled")
            + f", {_shown('disabled', after.disabled)}"
        )
        return 0
    print(
        f"user {after.username} changed: "
        + ", ".join(
            f"{_shown(f, old[f])} → {_shown(f, new[f])}"
            if f == "disabled"
            else f"{f} {_shown(f, old[f])} → {_shown(f, new[f])}"
            for f in changed
        )
        + ("; their sessions have ended" if {"role", "jurisdiction", "disabled"} & set(changed) else "")
    )
    if after.role in TOTP_ROLES and after.totp == "none" and not after.disabled:
        print(
            f"note: the role {after.role} needs a second factor under `jingwu serve`: "
            f"jingwu user-totp {after.username}"
        )
    if after.role is Role.DEVICE and "disabled" in changed and not after.disabled:
        print(f"note: the device has no key any more: jingwu device-key {after.username}")
    return 0


def cmd_user_password(args: argparse.Namespace) -> int:
    """Set a user's password (from $JINGWU_NEW_PASSWORD or a prompt); their sessions end."""
    import getpass

    from jingwu.domain.access import Role
    from jingwu.errors import ValidationFailed
    from jingwu.service.auth import AuthService
    from jingwu.store.db import make_engine, upgrade_schema

    settings = _settings(args)
    engine = make_engine(settings.resolved_database_url)
    try:
        upgrade_schema(engine)
        auth = AuthService(engine)
        user = auth.user_info(args.username)  # an unknown user is refused before the prompt
        if user.role is Role.DEVICE:
            raise ValidationFailed(
                f"{user.username!r} is a device: it has a key, not a password (jingwu device-key NAME)",
                code="device_has_no_password",
            )
        password = _new_password()
        auth.set_password(user.username, password, actor=getpass.getuser(), source="cli")
    finally:
        engine.dispose()
    print(f"password of {user.username} changed; their sessions have ended")
    return 0


def cmd_user_logout(args: argparse.Namespace) -> int:
    """End every session of a user (a lost or stolen phone), a device's key included."""
    import getpass

    from jingwu.domain.access import Role
    from jingwu.service.auth import AuthService
    from jingwu.store.db import make_engine, upgrade_schema

    settings = _settings(args)
    engine = make_engine(settings.resolved_database_url)
    try:
        upgrade_schema(engine)
        auth = AuthService(engine)
        ended = auth.end_sessions(args.username, actor=getpass.getuser(), source="cli")
        user = auth.user_info(args.username)
    finally:
        engine.dispose()
    print(
        f"ended {ended} session{'' if ended == 1 else 's'} of {user.username}"
        + (
            "; the device's key no longer works (jingwu device-key NAME issues a new one)"
            if user.role is Role.DEVICE
            else "; they can log in again (to stop that: jingwu user-set NAME --disable)"
        )
    )
    return 0


def _text_width(text: str) -> int:
    """Columns a text takes on a terminal: Chinese characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(_text_width(r[i]) for r in (header, *rows)) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            cell + " " * (width - _text_width(cell)) for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in (header, *rows)
    )


def cmd_user_list(args: argparse.Namespace) -> int:
    """Every account: role, jurisdiction, station, unit, second factor and standing."""
    from jingwu.service.auth import AuthService
    from jingwu.store.db import make_engine, upgrade_schema

    settings = _settings(args)
    engine = make_engine(settings.resolved_database_url)
    try:
        upgrade_schema(engine)
        users = AuthService(engine).list_users()
    finally:
        engine.dispose()
    rows = [
        (
            u.username,
            u.display_name or "-",
            str(u.role),
            str(u.jurisdiction),
            u.station_id or "-",
            u.unit_id or "-",
            u.totp,
            "disabled"
            if u.disabled
            else f"locked until {u.locked_until.isoformat(timespec='minutes')}"
            if u.locked_until
            else "enabled",
            u.created_at.date().isoformat(),
        )
        for u in users
    ]
    header = ("user", "name", "role", "jurisdiction", "station", "unit", "totp", "state", "created")
    print(_table(header, rows))
    return 0


def cmd_user_totp(args: argparse.Namespace) -> int:
    """Enrol a user in the TOTP second factor; the secret is printed this once."""
    import getpass

    from jingwu.composition import field_keys
    from jingwu.service.auth import AuthService
    from jingwu.store.db import make_engine, upgrade_schema

    settings = _settings(args)
    engine = make_engine(settings.resolved_database_url)
    try:
        upgrade_schema(engine)
        auth = AuthService(engine, keys=field_keys(settings, engine))
        enrolment = auth.enrol_totp(
            args.username,
            source="cli",
            replace_active=args.reset,
            details={"os_user": getpass.getuser()},
        )
    finally:
        engine.dispose()
    print(
        f"second factor (TOTP) for {args.username}: add it to an authenticator app, by QR code "
        f"of the URI or by typing the secret. It is shown only this once.\n"
        f"  otpauth URI: {enrolment.otpauth_uri}\n"
        f"  secret:      {enrolment.secret}\n"
        f"It becomes active at the user's first log-in with a code from the app."
    )
    return 0


def _anchor(text: str) -> tuple[int, str]:
    record_id, sep, digest = text.partition(":")
    if not sep or not record_id.isdigit() or not re.fullmatch(r"[0-9a-fA-F]{64}", digest):
        raise argparse.ArgumentTypeError("an anchor is ID:HASH (a record id and its 64-hex-digit hash)")
    return int(record_id), digest.lower()


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Exit 0 with the record count when the chain is intact; 1 with the first damage otherwise."""
    from jingwu.service.audit import AuditService
    from jingwu.store.db import make_engine

    settings = _settings(args)
    engine = make_engine(settings.resolved_database_url)
    try:
        result = AuditService(engine).verify(anchors=args.anchor or ())
    finally:
        engine.dispose()
    if result.finding is not None:
        print(f"audit chain BROKEN at record {result.finding.record_id}: {result.finding.message}")
        return 1
    print(f"audit chain intact: {result.count} records")
    if result.base_id:
        print(
            f"base: {result.base_id}:{result.base_hash} (records up to {result.base_id} were pruned; "
            "the chain is checked from there)"
        )
    for anchor_id in result.unchecked_anchors:
        print(f"anchor {anchor_id}: not checked (pruned; it is before the base)")
    # Keep this line somewhere the database's administrators cannot reach (a printed log, a ticket):
    # `--anchor ID:HASH` later proves that nothing up to it was rewritten or cut off.
    print(f"head: {result.last_id}:{result.last_hash}")
    return 0


def cmd_audit_prune(args: argparse.Namespace) -> int:
    """Delete audit records older than the retention period (a prefix of the chain); exit 0."""
    import getpass
    from datetime import timedelta

    from jingwu.service.audit import AuditService
    from jingwu.store.db import make_engine, upgrade_schema

    settings = _settings(args)
    days = settings.audit_retention_days
    before = datetime.now(UTC) - timedelta(days=days)
    engine = make_engine(settings.resolved_database_url)
    try:
        upgrade_schema(engine)
        service = AuditService(engine)
        if args.dry_run:
            result = service.prunable(before=before)
        else:
            result = service.prune(
                before=before,
                source="cli",
                details={"os_user": getpass.getuser(), "retention_days": days},
            )
    finally:
        engine.dispose()
    cutoff = f"older than {before.isoformat(timespec='seconds')} ({days} days)"
    span = f" (ids {result.first_id}–{result.last_id})" if result.count else ""
    if args.dry_run:
        print(f"dry run: {result.count} audit records {cutoff} would be pruned{span}")
        return 0
    print(f"pruned {result.count} audit records {cutoff}{span}")
    # Like verify's head line: keep it off-site, `verify --anchor ID:HASH` checks it against the base.
    print(f"base: {result.base_id}:{result.base_hash}")
    if result.record is not None:
        print(f"head: {result.record.id}:{result.record.hash}")
    return 0


def _other_demo_accounts(accounts: Sequence[Any]) -> str:
    """The demo's other users, one per role and jurisdiction, for the start-up banner: lines of
    at most about 100 characters, no entry split."""
    entries = [
        f"{a.username} ({a.jurisdiction})"
        if a.username == a.role
        else f"{a.username} ({a.role}, {a.jurisdiction})"
        for a in accounts
        if a.username not in ("admin", "dispatcher")
    ]
    lines = ["  other roles:"]
    for i, entry in enumerate(entries):
        entry += "," if i < len(entries) - 1 else ""
        if len(lines[-1]) + 1 + len(entry) > 100 and lines[-1].strip() != "other roles:":
            lines.append("   ")
        lines[-1] += " " + entry
    return "\n".join(lines)


def cmd_keys_new(args: argparse.Namespace) -> int:
    from jingwu.store.fieldcrypt import generate_key_file

    if args.file.exists():
        print(f"error: {args.file} exists; `jingwu keys add` appends a key to it", file=sys.stderr)
        return 2
    generate_key_file(args.file, kid=args.kid)
    print(
        f"wrote a new field-encryption key ({args.kid}) to {args.file}; set JINGWU_FIELD_KEY_FILE={args.file}"
    )
    return 0


def cmd_keys_add(args: argparse.Namespace) -> int:
    from jingwu.store.fieldcrypt import KeyRing

    ring = KeyRing.from_file(args.file)
    _, line = ring.with_new_key(args.kid)
    with args.file.open("a", encoding="utf-8") as f:
        f.write(line.rstrip("\n") + "\n")
        f.flush()
        os.fsync(f.fileno())
    print(
        f"added key {args.kid} to {args.file}; it encrypts from the next start. Restart every "
        "server process, then run `jingwu keys rotate`."
    )
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    import getpass

    from jingwu.composition import field_keys
    from jingwu.service.devices import reseal_device_fields
    from jingwu.service.personal_data import PersonalDataService
    from jingwu.store.db import make_engine, upgrade_schema

    settings = _settings(args)
    engine = make_engine(settings.resolved_database_url)
    try:
        upgrade_schema(engine)
        # The indexes are what rotation rebuilds: only that the keys open the data is checked.
        keys = field_keys(settings, engine, check_indexes=False)
        report = PersonalDataService(engine, keys).rotate(actor=getpass.getuser(), source="cli")
        devices = reseal_device_fields(engine, keys)
    finally:
        engine.dispose()
    print(
        f"re-encrypted {report.fields_resealed} fields under key {keys.current}; "
        f"filled {report.indexes_filled} phone indexes; updated {devices} device secrets and gate plates"
    )
    return 0


def _serve(args: argparse.Namespace, *, demo: bool) -> int:
    import uvicorn

    from jingwu.api.factory import WEBSOCKETS, create_app
    from jingwu.composition import build_services, settle_heap

    settings = _settings(args)
    print(f"Jingwu 警务 — loading the road network of {settings.osm_file.name} …", file=sys.stderr)
    services = build_services(settings, demo=demo, progress=_progress)
    background = []
    banner = ""
    if demo:
        import numpy as np

        from jingwu.simulation.seed import seed_demo_city
        from jingwu.simulation.simulator import CitySimulator, SimConfig

        logins = seed_demo_city(
            services,
            units=args.units,
            password=os.environ.get("JINGWU_DEMO_PASSWORD"),
            rng=np.random.default_rng(args.seed),
            now=datetime.now(UTC),
        )
        simulator = CitySimulator(
            services,
            np.random.default_rng(args.seed + 1),
            SimConfig(call_rate_scale=args.call_rate, auto_dispatch_after_s=args.auto_dispatch_after),
        )

        async def run_simulator(_services: object) -> None:
            await simulator.run()

        background.append(run_simulator)
        shown = logins.password if logins.generated else "(the value of JINGWU_DEMO_PASSWORD)"
        officers = ", ".join(logins.officer_usernames[:4])
        banner = (
            "  DEMO: log-in is password-only (no second factor)\n"
            f"  Demo city: {len(logins.officer_usernames)} units on duty at "
            f"{len(services.dispatch.stations)} stations; simulated calls arriving\n"
            f"  console: log in as 'dispatcher' (or 'admin'); terminal: as an officer by call sign "
            f"({officers}, …)\n"
            f"{_other_demo_accounts(logins.accounts)}\n"
            f"  password: {shown}\n"
        )
    elif settings.require_totp:
        missing = services.auth.users_without_totp()
        banner = (
            "  second factor: TOTP required for admin, commander and dispatcher (JINGWU_REQUIRE_TOTP)\n"
        ) + (
            f"  not enrolled yet, cannot log in: {', '.join(missing[:10])}"
            f"{' …' if len(missing) > 10 else ''} (enrol: jingwu user-totp USERNAME)\n"
            if missing
            else ""
        )
    else:
        banner = "  second factor: not required (JINGWU_REQUIRE_TOTP=false)\n"
    app = create_app(services, background=background)
    for name in ("uvicorn.access", "uvicorn.error"):
        logging.getLogger(name).addFilter(_RedactTokens())
    host_shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    print(
        f"\nJingwu is up.\n"
        f"  dispatcher's console (指挥台):      http://{host_shown}:{args.port}/\n"
        f"  officer's terminal (移动终端, PWA): http://{host_shown}:{args.port}/terminal/\n"
        f"  API docs:                          http://{host_shown}:{args.port}/docs\n"
        f"{banner}"
        f"  data: {settings.resolved_database_url}\n",
        file=sys.stderr,
        flush=True,
    )
    settle_heap()
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, ws=WEBSOCKETS)
    finally:
        services.close()
    return 0


def cmd_bench_ingest(args: argparse.Namespace) -> int:
    from jingwu.bench.ingest import IngestConfig, check_config, run_ingest_bench

    settings = _settings(args)
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
    result = run_ingest_bench(config, settings.graph_cache_dir)
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


def cmd_bench(args: argparse.Namespace) -> int:
    from jingwu.bench.dispatch import run_dispatch_bench

    settings = _settings(args)
    osm = Path(args.osm) if args.osm else None
    results = run_dispatch_bench(
        osm=osm,
        units=args.units,
        queries=args.queries,
        k=args.k,
        seed=args.seed,
        cache_dir=settings.graph_cache_dir,
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


def build_parser() -> argparse.ArgumentParser:
    from jingwu.domain.access import Role

    parser = argparse.ArgumentParser(prog="jingwu", description="Jingwu 警务 smart-policing platform")
    parser.add_argument(
        "--data-dir", help="state directory (default: $JINGWU_DATA_DIR or ~/.local/share/jingwu)"
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    serve_epilog = (
        "Log-in policy: `jingwu serve` requires a second factor (TOTP, RFC 6238) of admins, "
        "commanders and dispatchers: JINGWU_REQUIRE_TOTP is on unless the environment sets it (e.g. "
        "JINGWU_REQUIRE_TOTP=false for a trial without authenticator apps). Enrol each such user "
        "first with `jingwu user-totp USERNAME`; they log in with password and code. "
        "`jingwu demo` is always password-only."
    )
    for name, demo in (("serve", False), ("demo", True)):
        p = sub.add_parser(
            name,
            help="run the platform" + (" on the simulated demo city" if demo else ""),
            description="Run the platform"
            + (
                " on a simulated demo city; its users log in with the password alone."
                if demo
                else " (TOTP second factor required of admins, commanders and dispatchers; see below)."
            ),
            epilog=None if demo else serve_epilog,
        )
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)
        p.add_argument("--osm", help="OSM PBF of the city (default: the bundled Harbin extract)")
        p.add_argument("--log-level", default="warning")
        if demo:
            p.add_argument("--units", type=int, default=60, help="patrol units on duty (default 60)")
            p.add_argument("--seed", type=int, default=7)
            p.add_argument("--call-rate", type=float, default=3.0, help="× the real hourly call rate")
            p.add_argument(
                "--auto-dispatch-after",
                type=float,
                default=45.0,
                help="seconds before the stand-in dispatcher takes a waiting incident",
            )
        p.set_defaults(func=lambda a, demo=demo: _serve(a, demo=demo))

    p = sub.add_parser("import-osm", help="compile an OSM PBF into the cached road graph")
    p.add_argument("file")
    p.set_defaults(func=cmd_import_osm)

    p = sub.add_parser("migrate", help="upgrade the database schema")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser(
        "user-add",
        help="create a user (password from $JINGWU_NEW_PASSWORD or a prompt at a terminal)",
        description="Create a person's account. Its jurisdiction, unless given, is its station "
        "when it has one, the city otherwise, and its own reports only for a resident. An officer "
        "bound to a unit belongs to that unit's station unless --station says otherwise. A resident "
        "is always own and nobody else is; an officer has a station or a district, never the city "
        "(give --unit, --station or --jurisdiction district:NAME). The password is asked twice "
        "unless $JINGWU_NEW_PASSWORD is set, and must not contain the user name.",
    )
    p.add_argument("username")
    p.add_argument("role", choices=[str(r) for r in Role if r is not Role.DEVICE])
    p.add_argument("--unit", metavar="ID", help="the unit an officer's terminal is bound to")
    p.add_argument("--station", metavar="ID", help="the station the user belongs to")
    p.add_argument(
        "--jurisdiction",
        metavar="SCOPE",
        help="where the user may see and act: city, district:NAME, station:ID or own",
    )
    p.add_argument("--display-name", metavar="TEXT")
    p.set_defaults(func=cmd_user_add)

    p = sub.add_parser(
        "device-add",
        help="create a device account (prints its key once)",
        description="Create a machine account (an alarm column, a camera's analytics, a car's AVL "
        "box). It has no password: its key, printed this once, is its bearer token.",
    )
    p.add_argument("name")
    p.add_argument("--unit", metavar="ID", help="the unit the device rides in")
    p.add_argument("--station", metavar="ID", help="the station the device belongs to")
    p.add_argument("--display-name", metavar="TEXT")
    p.set_defaults(func=cmd_device_add)

    p = sub.add_parser(
        "device-key",
        help="issue a new key for a device (prints it once; the old ones stop working)",
    )
    p.add_argument("name")
    p.set_defaults(func=cmd_device_key)

    p = sub.add_parser(
        "device-register",
        help="register a community device that reports over MQTT (prints its secret once)",
        description="Register an alarm column, door reader or vehicle gate of a community at the "
        "place it stands (within JINGWU_MAX_SNAP_DISTANCE_M of a road). It publishes signed "
        "messages to the broker of JINGWU_MQTT_URL; see docs/devices.md.",
    )
    p.add_argument("id", help="its id in its topics: 3-48 of a-z, 0-9, '-', '_'")
    p.add_argument("kind", choices=["alarm_column", "door_reader", "vehicle_gate"])
    p.add_argument("--community", required=True, help="the community (小区/社区) it serves")
    p.add_argument("--lat", type=float, required=True)
    p.add_argument("--lon", type=float, required=True)
    p.add_argument(
        "--crs", choices=["wgs84", "gcj02"], default="wgs84", help="of --lat/--lon (default wgs84)"
    )
    p.add_argument("--address")
    p.add_argument("--heartbeat", type=int, default=60, help="its heartbeat interval in seconds (default 60)")
    p.add_argument("--osm", help="OSM PBF of the city (default: the bundled Harbin extract)")
    p.set_defaults(func=cmd_device_register)

    p = sub.add_parser(
        "device-secret",
        help="issue a new secret for a community device (prints it once; the old one stops working)",
    )
    p.add_argument("id")
    p.add_argument("--osm", help="OSM PBF of the city (default: the bundled Harbin extract)")
    p.set_defaults(func=cmd_device_secret)

    p = sub.add_parser(
        "user-set",
        help="change a user's role, jurisdiction, station or unit, or disable/enable the account",
        description="Change what an account may do, and where. Each change is in the audit log "
        "(auth.user_changed, before and after, with your OS user). A change of role or "
        "jurisdiction, or disabling or enabling, ends the user's sessions: they log in again. "
        "Unless --jurisdiction is given, a default jurisdiction follows the new role or station; "
        "one set on purpose stays. The last enabled admin cannot be demoted or disabled, and a "
        "person's account cannot become a device's or the other way round.",
    )
    p.add_argument("username")
    p.add_argument("--role", choices=[str(r) for r in Role])
    p.add_argument(
        "--jurisdiction",
        metavar="SCOPE",
        help="where the user may see and act: city, district:NAME, station:ID or own",
    )
    bound = p.add_mutually_exclusive_group()
    bound.add_argument("--unit", metavar="ID", help="bind to this unit (and, unless --station, its station)")
    bound.add_argument("--no-unit", action="store_true", help="bind to no unit")
    place = p.add_mutually_exclusive_group()
    place.add_argument("--station", metavar="ID", help="the station the user belongs to")
    place.add_argument("--no-station", action="store_true", help="belong to no station")
    standing = p.add_mutually_exclusive_group()
    standing.add_argument("--disable", action="store_true", help="no more log-ins; every session ends")
    standing.add_argument("--enable", action="store_true", help="allow log-ins again")
    p.set_defaults(func=cmd_user_set)

    p = sub.add_parser(
        "user-password",
        help="set a user's password (from $JINGWU_NEW_PASSWORD or a prompt); their sessions end",
        description="Set a person's password: a forgotten one, or one others may know. The rules "
        "apply (at least 12 characters of two kinds, not the user name, not a common one). Every "
        "session of the user ends; the change is in the audit log with your OS user.",
    )
    p.add_argument("username")
    p.set_defaults(func=cmd_user_password)

    p = sub.add_parser(
        "user-logout",
        help="end every session of a user (a lost or stolen phone), a device's key included",
        description="Revoke every live session of the user at once: their next request is "
        "refused. They can log in again; to stop that, `jingwu user-set NAME --disable`. For a "
        "device, its key stops working; `jingwu device-key NAME` issues a new one.",
    )
    p.add_argument("username")
    p.set_defaults(func=cmd_user_logout)

    p = sub.add_parser(
        "user-list", help="list the accounts: role, jurisdiction, station, unit, second factor, state"
    )
    p.set_defaults(func=cmd_user_list)

    p = sub.add_parser(
        "user-totp",
        help="enrol a user in the TOTP second factor (prints the otpauth URI and secret once)",
        description="Draw a new TOTP secret for USERNAME and print it once, as an otpauth:// URI "
        "(for a QR code) and in base32. The enrolment is pending until the user's first log-in "
        "with a code from their app, which makes it active.",
    )
    p.add_argument("username")
    p.add_argument(
        "--reset",
        action="store_true",
        help="replace an active second factor (a lost or replaced phone); the old one stops working",
    )
    p.set_defaults(func=cmd_user_totp)

    audit = sub.add_parser("audit", help="the tamper-evident audit log")
    audit_sub = audit.add_subparsers(dest="audit", required=True)
    p = audit_sub.add_parser(
        "verify", help="check the hash chain: exit 0 when intact, 1 naming the first damaged record"
    )
    p.add_argument(
        "--anchor",
        type=_anchor,
        action="append",
        metavar="ID:HASH",
        help="a head printed by an earlier verify and kept off-site; it must still be in the chain",
    )
    p.set_defaults(func=cmd_audit_verify)
    p = audit_sub.add_parser(
        "prune",
        help="delete audit records older than JINGWU_AUDIT_RETENTION_DAYS (never done automatically)",
        description="Delete the oldest audit records, those older than the retention period "
        "(JINGWU_AUDIT_RETENTION_DAYS), up to the first record that is not. The chain stays "
        "verifiable from the printed base (ID:HASH), which is worth keeping off-site like a head; "
        "the prune is itself recorded (audit.pruned). Run it from cron or a systemd timer.",
    )
    p.add_argument("--dry-run", action="store_true", help="only say how many records would be pruned")
    p.set_defaults(func=cmd_audit_prune)

    keys = sub.add_parser("keys", help="the field-encryption keys of personal data")
    keys_sub = keys.add_subparsers(dest="keys", required=True)
    p = keys_sub.add_parser(
        "new",
        help="write a new key file (mode 600); point JINGWU_FIELD_KEY_FILE at it",
        description="Write a new key file with one random 256-bit key. Keep it on the application "
        "servers and in a backup of its own, never beside the database's backups.",
    )
    p.add_argument("file", type=Path)
    p.add_argument("--kid", default="k1", help="the key's id (default k1)")
    p.set_defaults(func=cmd_keys_new)
    p = keys_sub.add_parser(
        "add",
        help="append a new current key to a key file (then restart and run `jingwu keys rotate`)",
    )
    p.add_argument("file", type=Path)
    p.add_argument("--kid", required=True, help="the new key's id, e.g. k2 or 2027")
    p.set_defaults(func=cmd_keys_add)
    p = keys_sub.add_parser(
        "rotate",
        help="re-encrypt every protected field under the current key (and seal older plaintext)",
        description="Re-encrypt reporters' names and phone numbers and users' TOTP secrets under "
        "the current (last) key, seal values stored before encryption, and fill missing phone "
        "indexes. Safe to run while the platform runs, and again after an interruption. Once it "
        "has run, an old key may leave the key file; but the first (oldest) key is also the "
        "blind-index key of phone numbers: after removing it, restart every server process and "
        "run `jingwu keys rotate` again to rebuild the phone indexes (until then, a search by "
        "phone finds none of the older incidents).",
    )
    p.set_defaults(func=cmd_keys_rotate)

    bench = sub.add_parser("bench", help="benchmarks")
    bench_sub = bench.add_subparsers(dest="bench", required=True)
    p = bench_sub.add_parser("dispatch", help="recommendation latency vs a full-Dijkstra baseline")
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
    p.set_defaults(func=cmd_bench)
    p = bench_sub.add_parser(
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
    p.set_defaults(func=cmd_bench_ingest)
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
        os.environ["JINGWU_DATA_DIR"] = args.data_dir
    from sqlalchemy.exc import OperationalError

    from jingwu.errors import JingwuError
    from jingwu.store.fieldcrypt import FieldCryptError

    # What goes wrong before the server is up is told in one line, not a traceback.
    try:
        return int(args.func(args))
    except (JingwuError, FieldCryptError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    except FileNotFoundError as exc:
        print(f"error: no such file: {exc.filename} (check --osm / JINGWU_OSM_FILE)", file=sys.stderr)
    except OperationalError as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0]
        print(f"error: cannot use the database at {_database_url_shown()}: {reason}", file=sys.stderr)
    return 2


def _database_url_shown() -> str:
    """The configured database, its password hidden, for an error message."""
    from sqlalchemy.engine import make_url

    try:
        url = Settings.from_environment().resolved_database_url
    except Exception:
        return "(unreadable JINGWU_DATABASE_URL)"
    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    sys.exit(main())
