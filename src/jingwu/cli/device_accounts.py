"""``device-add`` and ``device-key``: machine accounts that call the API with a bearer key (an
alarm column's controller, a camera's analytics, a car's AVL box). Not the MQTT community
devices of ``device-register``, which sign their messages with a secret instead."""

from __future__ import annotations

import argparse

from jingwu.cli.context import SOURCE, open_store, os_user


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "device-add",
        help="create a device account (prints its key once)",
        description="Create a machine account (an alarm column, a camera's analytics, a car's AVL "
        "box). It has no password: its key, printed this once, is its bearer token.",
    )
    p.add_argument("name")
    p.add_argument("--unit", metavar="ID", help="the unit the device rides in")
    p.add_argument("--station", metavar="ID", help="the station the device belongs to")
    p.add_argument("--display-name", metavar="TEXT")
    p.set_defaults(func=device_add)

    p = commands.add_parser(
        "device-key",
        help="issue a new key for a device (prints it once; the old ones stop working)",
    )
    p.add_argument("name")
    p.set_defaults(func=device_key)


def _print_key(username: str, key: str, *, new: bool) -> None:
    print(
        f"{'device' if new else 'new key for device'} {username}"
        + ("" if new else " (its previous keys no longer work)")
        + ". Its key is shown only this once:\n"
        f"  {key}\n"
        "Configure it in the device as its bearer token (Authorization: Bearer KEY; later also "
        "as its OsmAnd id). If it is lost, `jingwu device-key NAME` issues a new one."
    )


def device_add(args: argparse.Namespace) -> int:
    """Create a device account; its key is printed once."""
    with open_store(args) as store:
        _, key = store.auth.accounts.create_device_account(
            args.name,
            unit_id=args.unit,
            station_id=store.bound_station(args.unit, args.station),
            display_name=args.display_name,
            actor=os_user(),
            source=SOURCE,
        )
    _print_key(args.name, key, new=True)
    return 0


def device_key(args: argparse.Namespace) -> int:
    """Replace a device's key (rotation, a lost or stolen device); the new one is printed once."""
    with open_store(args) as store:
        key = store.auth.accounts.issue_device_key(args.name, actor=os_user(), source=SOURCE)
    _print_key(args.name, key, new=False)
    return 0


__all__ = ["register"]
