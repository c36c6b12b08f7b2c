"""``jingwu keys new|add|rotate``: the field-encryption keys of personal data (reporters' names
and phones, TOTP secrets, community devices' secrets and gate plates)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from jingwu.cli.context import SOURCE, open_store, os_user
from jingwu.store.fieldcrypt import KeyRing, generate_key_file


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = commands.add_parser("keys", help="the field-encryption keys of personal data")
    actions = keys.add_subparsers(dest="keys", required=True)
    p = actions.add_parser(
        "new",
        help="write a new key file (mode 600); point JINGWU_FIELD_KEY_FILE at it",
        description="Write a new key file with one random 256-bit key. Keep it on the application "
        "servers and in a backup of its own, never beside the database's backups.",
    )
    p.add_argument("file", type=Path)
    p.add_argument("--kid", default="k1", help="the key's id (default k1)")
    p.set_defaults(func=new)
    p = actions.add_parser(
        "add",
        help="append a new current key to a key file (then restart and run `jingwu keys rotate`)",
    )
    p.add_argument("file", type=Path)
    p.add_argument("--kid", required=True, help="the new key's id, e.g. k2 or 2027")
    p.set_defaults(func=add)
    p = actions.add_parser(
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
    p.set_defaults(func=rotate)


def new(args: argparse.Namespace) -> int:
    if args.file.exists():
        print(f"error: {args.file} exists; `jingwu keys add` appends a key to it", file=sys.stderr)
        return 2
    generate_key_file(args.file, kid=args.kid)
    print(
        f"wrote a new field-encryption key ({args.kid}) to {args.file}; set JINGWU_FIELD_KEY_FILE={args.file}"
    )
    return 0


def add(args: argparse.Namespace) -> int:
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


def rotate(args: argparse.Namespace) -> int:
    # Loaded here, as context.py says; the community devices' package brings the road network's code.
    from jingwu.service.checks.rotation import rotate_checks
    from jingwu.service.community_devices import reseal_device_fields
    from jingwu.service.disputes.rotation import rotate_disputes
    from jingwu.service.personal_data import PersonalDataService
    from jingwu.service.records.rotation import rotate_records
    from jingwu.service.self_service.sealing import rotate_self_service
    from jingwu.service.video.registry import reseal_camera_credentials

    with open_store(args) as store:
        # The indexes are what rotation rebuilds: only that the keys open the data is checked.
        keys = store.field_keys(check_indexes=False)
        report = PersonalDataService(store.engine, keys).rotate(actor=os_user(), source=SOURCE)
        devices = reseal_device_fields(store.engine, keys)
        cameras = reseal_camera_credentials(store.engine, keys)
        # The community's personal data: the registry, watch lists and checks, dispute parties,
        # residents' applications.
        community = [
            rotate_records(store.engine, keys),
            rotate_checks(store.engine, keys),
            rotate_disputes(store.engine, keys),
            rotate_self_service(store.engine, keys),
        ]
    resealed = sum(r for r, _ in community)
    reindexed = sum(i for _, i in community)
    print(
        f"re-encrypted {report.fields_resealed} fields under key {keys.current}; "
        f"filled {report.indexes_filled} phone indexes; updated {devices} device secrets and gate plates "
        f"and {cameras} camera credentials; "
        f"community records: re-encrypted {resealed} fields, rewrote {reindexed} indexes"
    )
    return 0


__all__ = ["register"]
