"""People's accounts from the command line: ``user-add``, ``user-set``, ``user-password``,
``user-logout``, ``user-list`` and ``user-totp``. Every change is audited with the OS user who
made it; a secret (password, TOTP seed) is asked for or printed only once."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

from jingwu.cli.context import SOURCE, open_store, os_user, parse_jurisdiction
from jingwu.cli.output import table
from jingwu.domain.access import TOTP_ROLES, Role
from jingwu.errors import ValidationFailed

_JURISDICTION_HELP = "where the user may see and act: city, district:NAME, station:ID or own"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
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
    p.add_argument("--jurisdiction", metavar="SCOPE", help=_JURISDICTION_HELP)
    p.add_argument("--display-name", metavar="TEXT")
    p.set_defaults(func=user_add)

    p = commands.add_parser(
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
    p.add_argument("--jurisdiction", metavar="SCOPE", help=_JURISDICTION_HELP)
    bound = p.add_mutually_exclusive_group()
    bound.add_argument("--unit", metavar="ID", help="bind to this unit (and, unless --station, its station)")
    bound.add_argument("--no-unit", action="store_true", help="bind to no unit")
    place = p.add_mutually_exclusive_group()
    place.add_argument("--station", metavar="ID", help="the station the user belongs to")
    place.add_argument("--no-station", action="store_true", help="belong to no station")
    standing = p.add_mutually_exclusive_group()
    standing.add_argument("--disable", action="store_true", help="no more log-ins; every session ends")
    standing.add_argument("--enable", action="store_true", help="allow log-ins again")
    p.set_defaults(func=user_set)

    p = commands.add_parser(
        "user-password",
        help="set a user's password (from $JINGWU_NEW_PASSWORD or a prompt); their sessions end",
        description="Set a person's password: a forgotten one, or one others may know. The rules "
        "apply (at least 12 characters of two kinds, not the user name, not a common one). Every "
        "session of the user ends; the change is in the audit log with your OS user.",
    )
    p.add_argument("username")
    p.set_defaults(func=user_password)

    p = commands.add_parser(
        "user-logout",
        help="end every session of a user (a lost or stolen phone), a device's key included",
        description="Revoke every live session of the user at once: their next request is "
        "refused. They can log in again; to stop that, `jingwu user-set NAME --disable`. For a "
        "device, its key stops working; `jingwu device-key NAME` issues a new one.",
    )
    p.add_argument("username")
    p.set_defaults(func=user_logout)

    p = commands.add_parser(
        "user-unlock",
        help="let a user log in again at once after failed log-ins locked them out",
        description="Lift every lock-out of the account: each address that was locked out after "
        "failed log-ins (or was counting them) may try again at once, and the account's pause "
        "ends. The user is still told of the failed log-ins at their next log-in. Audited as "
        "auth.unlocked with your OS user.",
    )
    p.add_argument("username")
    p.set_defaults(func=user_unlock)

    p = commands.add_parser(
        "user-list", help="list the accounts: role, jurisdiction, station, unit, second factor, state"
    )
    p.set_defaults(func=user_list)

    p = commands.add_parser(
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
    p.set_defaults(func=user_totp)


def new_password() -> str:
    """A new password: $JINGWU_NEW_PASSWORD, else typed twice at a terminal. Without either
    (a script, a pipe, ``</dev/null``) it is refused in one line, as are two that differ."""
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


def user_add(args: argparse.Namespace) -> int:
    """Create a person's account; its role and jurisdiction are printed. Everything but the
    password is checked before the password is asked for."""
    role = Role(args.role)
    jurisdiction = parse_jurisdiction(args.jurisdiction)
    with open_store(args) as store:
        station_id = store.bound_station(args.unit, args.station)
        accounts = store.auth.accounts
        accounts.check_new_account(
            args.username, role, station_id=station_id, unit_id=args.unit, jurisdiction=jurisdiction
        )
        principal = accounts.create_user(
            args.username,
            new_password(),
            role,
            station_id=station_id,
            unit_id=args.unit,
            display_name=args.display_name,
            jurisdiction=jurisdiction,
            actor=os_user(),
            source=SOURCE,
        )
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


def _shown(field: str, value: object) -> str:
    if field == "disabled":
        return "disabled" if value else "enabled"
    return "-" if value is None else str(value)


def user_set(args: argparse.Namespace) -> int:
    """Change a user's role, jurisdiction, station, unit or standing; the changes are printed."""
    jurisdiction = parse_jurisdiction(args.jurisdiction)
    disabled = True if args.disable else False if args.enable else None
    asked = (args.role, jurisdiction, args.unit, args.station, disabled)
    if all(a is None for a in asked) and not (args.no_unit or args.no_station):
        raise ValidationFailed(
            "say what to change: --role, --jurisdiction, --unit, --station, --disable or --enable",
            code="nothing_to_change",
        )
    with open_store(args) as store:
        accounts = store.auth.accounts
        before = accounts.user_info(args.username)
        changes: dict[str, Any] = {}
        if args.no_unit:
            changes["unit_id"] = None
        elif args.unit is not None:
            # An officer bound to a unit belongs to its station unless --station says otherwise.
            changes["unit_id"] = args.unit
            changes["station_id"] = store.known_station(store.bound_station(args.unit, args.station))
        if args.no_station:
            changes["station_id"] = None
        elif args.station is not None:
            changes["station_id"] = store.known_station(args.station)
        accounts.update_user(
            args.username,
            role=Role(args.role) if args.role else None,
            jurisdiction=jurisdiction,
            disabled=disabled,
            actor=os_user(),
            source=SOURCE,
            **changes,
        )
        after = accounts.user_info(args.username)
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


def user_password(args: argparse.Namespace) -> int:
    """Set a user's password (from $JINGWU_NEW_PASSWORD or a prompt); their sessions end."""
    with open_store(args) as store:
        accounts = store.auth.accounts
        user = accounts.user_info(args.username)  # an unknown user is refused before the prompt
        if user.role is Role.DEVICE:
            raise ValidationFailed(
                f"{user.username!r} is a device: it has a key, not a password (jingwu device-key NAME)",
                code="device_has_no_password",
            )
        accounts.set_password(user.username, new_password(), actor=os_user(), source=SOURCE)
    print(f"password of {user.username} changed; their sessions have ended")
    return 0


def user_logout(args: argparse.Namespace) -> int:
    """End every session of a user (a lost or stolen phone), a device's key included."""
    with open_store(args) as store:
        accounts = store.auth.accounts
        ended = accounts.end_sessions(args.username, actor=os_user(), source=SOURCE)
        user = accounts.user_info(args.username)
    print(
        f"ended {ended} session{'' if ended == 1 else 's'} of {user.username}"
        + (
            "; the device's key no longer works (jingwu device-key NAME issues a new one)"
            if user.role is Role.DEVICE
            else "; they can log in again (to stop that: jingwu user-set NAME --disable)"
        )
    )
    return 0


def user_unlock(args: argparse.Namespace) -> int:
    """Lift every lock-out of an account after failed log-ins."""
    with open_store(args) as store:
        lifted = store.auth.logins.unlock(args.username, actor=os_user(), source=SOURCE)
        user = store.auth.accounts.user_info(args.username)
    print(
        f"{user.username} unlocked: {lifted} address{'' if lifted == 1 else 'es'} may try again at once"
        if lifted
        else f"{user.username} was not locked out; nothing changed but the audit record"
    )
    return 0


def user_list(args: argparse.Namespace) -> int:
    """Every account: role, jurisdiction, station, unit, second factor and standing."""
    with open_store(args) as store:
        users = store.auth.accounts.list_users()
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
    print(table(header, rows))
    return 0


def user_totp(args: argparse.Namespace) -> int:
    """Enrol a user in the TOTP second factor; the secret is printed this once."""
    with open_store(args) as store:
        enrolment = store.auth_with_keys().second_factor.enrol(
            args.username,
            source=SOURCE,
            replace_active=args.reset,
            details={"os_user": os_user()},
        )
    print(
        f"second factor (TOTP) for {args.username}: add it to an authenticator app, by QR code "
        f"of the URI or by typing the secret. It is shown only this once.\n"
        f"  otpauth URI: {enrolment.otpauth_uri}\n"
        f"  secret:      {enrolment.secret}\n"
        f"It becomes active at the user's first log-in with a code from the app."
    )
    return 0


__all__ = ["new_password", "register"]
