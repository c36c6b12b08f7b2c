"""``jingwu audit verify|prune``: the tamper-evident audit log. Verify prints a head to keep
off-site; a later ``--anchor ID:HASH`` proves nothing up to it was rewritten or cut off."""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime, timedelta

from jingwu.cli.context import SOURCE, open_store, os_user


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = commands.add_parser("audit", help="the tamper-evident audit log")
    actions = audit.add_subparsers(dest="audit", required=True)
    p = actions.add_parser(
        "verify", help="check the hash chain: exit 0 when intact, 1 naming the first damaged record"
    )
    p.add_argument(
        "--anchor",
        type=anchor,
        action="append",
        metavar="ID:HASH",
        help="a head printed by an earlier verify and kept off-site; it must still be in the chain",
    )
    p.set_defaults(func=verify)
    p = actions.add_parser(
        "prune",
        help="delete audit records older than JINGWU_AUDIT_RETENTION_DAYS (never done automatically)",
        description="Delete the oldest audit records, those older than the retention period "
        "(JINGWU_AUDIT_RETENTION_DAYS), up to the first record that is not. The chain stays "
        "verifiable from the printed base (ID:HASH), which is worth keeping off-site like a head; "
        "the prune is itself recorded (audit.pruned). Run it from cron or a systemd timer.",
    )
    p.add_argument("--dry-run", action="store_true", help="only say how many records would be pruned")
    p.set_defaults(func=prune)


def anchor(text: str) -> tuple[int, str]:
    """An ``--anchor`` value: a record id and its hash."""
    record_id, sep, digest = text.partition(":")
    if not sep or not record_id.isdigit() or not re.fullmatch(r"[0-9a-fA-F]{64}", digest):
        raise argparse.ArgumentTypeError("an anchor is ID:HASH (a record id and its 64-hex-digit hash)")
    return int(record_id), digest.lower()


def verify(args: argparse.Namespace) -> int:
    """Exit 0 with the record count when the chain is intact; 1 with the first damage otherwise."""
    with open_store(args) as store:
        result = store.audit.verify(anchors=args.anchor or ())
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


def prune(args: argparse.Namespace) -> int:
    """Delete audit records older than the retention period (a prefix of the chain); exit 0."""
    with open_store(args) as store:
        days = store.settings.audit_retention_days
        before = datetime.now(UTC) - timedelta(days=days)
        if args.dry_run:
            result = store.audit.prunable(before=before)
        else:
            result = store.audit.prune(
                before=before,
                source=SOURCE,
                details={"os_user": os_user(), "retention_days": days},
            )
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


__all__ = ["anchor", "register"]
