"""An audit record, its hash, and the verification of a chain of them. Pure: nothing here reads a
clock or a store, so the records checked may come from the database, a backup or an export.

Each record's ``hash`` is the SHA-256 of a canonical serialisation (JSON with sorted keys, no
spaces, UTC ISO-8601 timestamps with microseconds) of all its fields — its id included — and the
previous record's hash (``prev_hash``; 64 zeros for the first record). Editing a record breaks its
own hash; deleting one leaves a gap in the ids and a ``prev_hash`` that points at nothing;
swapping two records' contents leaves each with a hash that fits the other's id. The head row names
the newest record, so cutting records off the tail shows too; records anchored off-site (``jingwu
audit verify --anchor ID:HASH``) must still be there with the same hash.

After a prune (service.audit.storage) the chain starts at the head's *base*, the last pruned
record: the first remaining record must be base id + 1 with ``prev_hash`` equal to the base hash,
so records deleted from the start of what remains still show as a gap, and the newest
``audit.pruned`` record must name that base. Anchors older than the base cannot be checked any more
and are reported so.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

GENESIS_HASH = "0" * 64
PRUNED_ACTION = "audit.pruned"


class Outcome(StrEnum):
    OK = "ok"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    ts: datetime
    actor: str | None
    action: str
    target: str | None
    outcome: str
    source: str | None
    reason: str | None
    details: Mapping[str, Any]
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ts": iso_utc(self.ts),
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "outcome": self.outcome,
            "source": self.source,
            "reason": self.reason,
            "details": dict(self.details),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def iso_utc(ts: datetime) -> str:
    if ts.tzinfo is None:
        raise ValueError("audit timestamps are UTC instants")
    return ts.astimezone(UTC).isoformat(timespec="microseconds")


def record_hash(
    *,
    id: int,
    ts: datetime,
    actor: str | None,
    action: str,
    target: str | None,
    outcome: str,
    source: str | None,
    reason: str | None,
    details: Mapping[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of the record's canonical serialisation, chained to ``prev_hash``."""
    canonical = json.dumps(
        {
            "id": id,
            "ts": iso_utc(ts),
            "actor": actor,
            "action": action,
            "target": target,
            "outcome": outcome,
            "source": source,
            "reason": reason,
            "details": details,
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _hash_of(record: AuditRecord, *, as_id: int | None = None) -> str:
    return record_hash(
        id=record.id if as_id is None else as_id,
        ts=record.ts,
        actor=record.actor,
        action=record.action,
        target=record.target,
        outcome=record.outcome,
        source=record.source,
        reason=record.reason,
        details=record.details,
        prev_hash=record.prev_hash,
    )


# ------------------------------------------------------------------------------ verification


class Damage(StrEnum):
    EDITED = "edited"  # the record's fields no longer give its hash
    DELETED = "deleted"  # a record is missing: a gap in the ids, or prev_hash points at nothing
    REORDERED = "reordered"  # the record holds another position's content, or links out of order
    TRUNCATED = "truncated"  # the newest records are gone (the head names a later record)
    HEAD = "head_mismatch"  # the head names a record the chain does not end with
    BASE = "base_mismatch"  # the chain does not start at the head's pruning base, or it is unrecorded
    ANCHOR = "anchor_mismatch"  # a record anchored off-site is gone or different


@dataclass(frozen=True, slots=True)
class Finding:
    record_id: int
    damage: Damage
    message: str


@dataclass(frozen=True, slots=True)
class Verification:
    count: int
    last_id: int
    last_hash: str
    finding: Finding | None = None
    # Where the checked chain starts: the last pruned record (0 and GENESIS_HASH: none pruned).
    base_id: int = 0
    base_hash: str = GENESIS_HASH
    # Anchors naming records pruned before the base: gone legitimately, so they cannot be checked.
    unchecked_anchors: tuple[int, ...] = ()

    @property
    def intact(self) -> bool:
        return self.finding is None


@dataclass(frozen=True, slots=True)
class Head:
    last_id: int
    last_hash: str
    # The pruning base: the last record removed by retention (0 and GENESIS_HASH: none yet).
    base_id: int = 0
    base_hash: str = GENESIS_HASH


@dataclass(slots=True)
class _Walk:
    expected_id: int = 1
    expected_prev: str = GENESIS_HASH
    count: int = 0


def verify_chain(
    records: Iterable[AuditRecord],
    head: Head | None = None,
    *,
    anchors: Iterable[tuple[int, str]] = (),
) -> Verification:
    """Check records given in id order; report the first broken record and why.

    Pure: ``records`` may come from the database, a backup or an export. ``head`` is the stored
    head row (``None``: not checked, and the chain must start at record 1); the chain starts at
    its pruning base. ``anchors`` are (id, hash) pairs recorded off-site earlier; one naming the
    base is checked against the base hash, and ones before it (pruned since) are listed in
    ``unchecked_anchors``.
    """
    rows = list(records)
    by_id = {r.id: r for r in rows}
    hash_positions = {r.hash: r.id for r in rows}
    base_id, base_hash = (0, GENESIS_HASH) if head is None else (head.base_id, head.base_hash)
    walk = _Walk(expected_id=base_id + 1, expected_prev=base_hash)

    def found(record_id: int, damage: Damage, message: str) -> Verification:
        return Verification(
            walk.count,
            walk.expected_id - 1,
            walk.expected_prev,
            Finding(record_id, damage, message),
            base_id=base_id,
            base_hash=base_hash,
        )

    for record in rows:
        if record.id != walk.expected_id:
            missing = walk.expected_id
            span = (
                f"records {missing}–{record.id - 1} are"
                if record.id - 1 > missing
                else f"record {missing} is"
            )
            return found(
                missing, Damage.DELETED, f"record {missing}: deleted ({span} missing before {record.id})"
            )
        if _hash_of(record) != record.hash:
            other = next(
                (i for i in by_id if i != record.id and _hash_of(record, as_id=i) == record.hash), None
            )
            if other is not None:
                return found(
                    record.id,
                    Damage.REORDERED,
                    f"record {record.id}: re-ordered (it holds the content of record {other})",
                )
            return found(
                record.id, Damage.EDITED, f"record {record.id}: edited (its fields do not match its hash)"
            )
        if record.prev_hash != walk.expected_prev:
            if walk.count == 0 and base_id > 0:
                return found(
                    record.id,
                    Damage.BASE,
                    f"record {record.id}: base mismatch (its prev_hash is not the base hash kept when "
                    f"records up to {base_id} were pruned: the base was changed or the record replaced)",
                )
            later = hash_positions.get(record.prev_hash)
            if later is not None and later >= record.id:
                return found(
                    record.id,
                    Damage.REORDERED,
                    f"record {record.id}: re-ordered (it links to record {later}, which comes after it)",
                )
            return found(
                record.id,
                Damage.DELETED,
                f"record {record.id}: chain broken (its prev_hash is not the hash of record "
                f"{record.id - 1}: a record before it was deleted or replaced)",
            )
        walk.expected_prev = record.hash
        walk.expected_id += 1
        walk.count += 1

    last_id = walk.expected_id - 1
    if base_id > 0:
        # Only a prune moves the base, and it records so in the chain in the same transaction.
        pruned = next(
            (r for r in reversed(rows) if r.action == PRUNED_ACTION and r.outcome == Outcome.OK), None
        )
        said = None if pruned is None else (pruned.details.get("last_id"), pruned.details.get("base_hash"))
        if said != (base_id, base_hash):
            return found(
                base_id,
                Damage.BASE,
                f"record {base_id}: base mismatch (the head says records up to {base_id} were pruned, "
                + (
                    f"but no {PRUNED_ACTION} record says so)"
                    if pruned is None
                    else f"but the newest {PRUNED_ACTION} record, {pruned.id}, names another base)"
                ),
            )
    unchecked: list[int] = []
    for anchor_id, anchor_hash in anchors:
        if anchor_id < base_id:
            unchecked.append(anchor_id)
            continue
        if anchor_id == base_id:
            if anchor_hash.lower() != base_hash:
                return found(
                    anchor_id,
                    Damage.ANCHOR,
                    f"record {anchor_id}: anchor mismatch (the anchored record is the pruning base, "
                    "and the base hash is different)",
                )
            continue
        anchored = by_id.get(anchor_id)
        if anchored is None or anchored.hash != anchor_hash.lower():
            return found(
                anchor_id,
                Damage.ANCHOR,
                f"record {anchor_id}: anchor mismatch (the record anchored off-site is "
                + ("missing)" if anchored is None else "different)"),
            )
    if head is not None and (head.last_id, head.last_hash) != (last_id, walk.expected_prev):
        if head.last_id > last_id:
            return found(
                last_id + 1,
                Damage.TRUNCATED,
                f"record {last_id + 1}: truncated (the head names record {head.last_id}; "
                f"the chain ends at {last_id})",
            )
        return found(
            last_id,
            Damage.HEAD,
            f"record {last_id}: head mismatch (the head names record {head.last_id} with another hash)",
        )
    return Verification(
        walk.count,
        last_id,
        walk.expected_prev,
        base_id=base_id,
        base_hash=base_hash,
        unchecked_anchors=tuple(unchecked),
    )


__all__ = [
    "GENESIS_HASH",
    "PRUNED_ACTION",
    "AuditRecord",
    "Damage",
    "Finding",
    "Head",
    "Outcome",
    "Verification",
    "iso_utc",
    "record_hash",
    "verify_chain",
]
