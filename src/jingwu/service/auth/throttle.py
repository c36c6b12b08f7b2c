"""How failed log-ins slow down further tries: per account and source address, not per account.

A lock per account let anyone who knew a call sign lock its officer out with five wrong passwords.
Here each source address of an account has its own count: after ``SOURCE_THRESHOLD`` consecutive
failures that source is locked out of that account for the lock-out time (CJIS 5.5.3 allows
locking the "account/node"), and each further failure from it doubles the wait, up to
``MAX_SOURCE_WAIT``. The owner at another address is not slowed by it. Against guessing from
many addresses, an account-wide ceiling: past ``ACCOUNT_CEILING`` failures since the account's
last success, addresses that never logged in to it get one try per ``ACCOUNT_PAUSE``; an address
the owner logged in from is spared. Nothing here locks an account for good, and an admin lifts
any of it (``unlock``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from jingwu.store import tables as t

SOURCE_THRESHOLD = 5  # consecutive failures from one address that lock it out (CJIS 5.5.3)
MAX_SOURCE_WAIT = timedelta(days=1)
ACCOUNT_CEILING = 20  # failures since the last success, from all addresses, before the pause
ACCOUNT_PAUSE = timedelta(seconds=60)
# How long an address the owner logged in from stays "known" (spared the account's pause).
KNOWN_FOR = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class FailedTries:
    """Failed log-ins from one address since the owner's last successful log-in."""

    source: str
    count: int
    last_at: datetime


@dataclass(frozen=True, slots=True)
class Block:
    """Why a try is refused unchecked: ``scope`` "source" (this address) or "account"."""

    until: datetime
    scope: str


def source_key(source: str | None) -> str:
    """The stored key of a source address: "" when unknown (a log-in from the command line)."""
    return (source or "")[:64]


def source_wait(failures: int, lockout: timedelta) -> timedelta | None:
    """How long an address is locked out after its ``failures``-th consecutive failure: nothing
    below the threshold, the lock-out time at it, doubling with each failure after."""
    if failures < SOURCE_THRESHOLD:
        return None
    doublings = failures - SOURCE_THRESHOLD
    if doublings >= 20:  # 2**20 lock-outs is years: the cap, without a huge multiplication
        return MAX_SOURCE_WAIT
    return min(lockout * (2**doublings), MAX_SOURCE_WAIT)


def block_of(conn: Connection, user: Any, source: str, now: datetime) -> Block | None:
    """The block in force for a try from ``source`` on the account ``user`` (its users row)."""
    columns = t.login_throttle.c
    row = conn.execute(
        select(columns.blocked_until, columns.last_success_at).where(
            columns.user_id == user.id,
            columns.source == source,
        )
    ).first()
    if row is not None and row.blocked_until is not None and row.blocked_until > now:
        return Block(row.blocked_until, "source")
    known = row is not None and row.last_success_at is not None and row.last_success_at > now - KNOWN_FOR
    until = user.locked_until
    if not known and until is not None and until > now:
        return Block(until, "account")
    return None


def count_failure(
    conn: Connection, user_id: str, source: str, now: datetime, lockout: timedelta
) -> tuple[int, int, Block | None]:
    """Count one failure from ``source``, in the caller's write transaction. Returns (consecutive
    failures from this source, failures on the account since its last success, the block begun
    now if any)."""
    # The account's row first, locked: concurrent failures on one account are counted in turn.
    account_failures = conn.execute(
        update(t.users)
        .where(t.users.c.id == user_id)
        .values(failed_logins=t.users.c.failed_logins + 1)
        .returning(t.users.c.failed_logins)
    ).scalar_one()
    columns = t.login_throttle.c
    where = (columns.user_id == user_id) & (columns.source == source)
    failures = conn.execute(
        update(t.login_throttle)
        .where(where)
        .values(failures=columns.failures + 1, unseen=columns.unseen + 1, last_failed_at=now)
        .returning(columns.failures)
    ).scalar()
    if failures is None:
        failures = 1
        conn.execute(
            insert(t.login_throttle).values(
                user_id=user_id, source=source, failures=1, unseen=1, last_failed_at=now
            )
        )
    block = None
    wait = source_wait(failures, lockout)
    if wait is not None:
        block = Block(now + wait, "source")
        conn.execute(update(t.login_throttle).where(where).values(blocked_until=block.until))
    elif account_failures >= ACCOUNT_CEILING:
        block = Block(now + ACCOUNT_PAUSE, "account")
        conn.execute(update(t.users).where(t.users.c.id == user_id).values(locked_until=block.until))
    return failures, account_failures, block


def record_success(conn: Connection, user_id: str, source: str, now: datetime) -> list[FailedTries]:
    """A successful log-in from ``source``: this address starts afresh and is known from now on,
    the account's count ends, and the failures the owner was not told of yet are returned."""
    columns = t.login_throttle.c
    told = [
        FailedTries(row.source, row.unseen, row.last_failed_at)
        for row in conn.execute(
            select(columns.source, columns.unseen, columns.last_failed_at)
            .where(columns.user_id == user_id, columns.unseen > 0)
            .order_by(columns.last_failed_at.desc(), columns.source)
        )
    ]
    conn.execute(update(t.login_throttle).where(columns.user_id == user_id).values(unseen=0))
    mine = (columns.user_id == user_id) & (columns.source == source)
    fresh = {"failures": 0, "blocked_until": None, "last_success_at": now}
    if conn.execute(update(t.login_throttle).where(mine).values(**fresh)).rowcount == 0:
        conn.execute(insert(t.login_throttle).values(user_id=user_id, source=source, unseen=0, **fresh))
    conn.execute(update(t.users).where(t.users.c.id == user_id).values(failed_logins=0, locked_until=None))
    return told


def lift(conn: Connection, user_id: str) -> int:
    """An admin's unlock: every address may try again at once, and the account's count ends (the
    owner is still told of the failures at the next log-in). Returns the addresses unblocked."""
    columns = t.login_throttle.c
    lifted = conn.execute(
        update(t.login_throttle)
        .where(columns.user_id == user_id, (columns.failures > 0) | columns.blocked_until.is_not(None))
        .values(failures=0, blocked_until=None)
    ).rowcount
    conn.execute(update(t.users).where(t.users.c.id == user_id).values(failed_logins=0, locked_until=None))
    return lifted


__all__ = [
    "ACCOUNT_CEILING",
    "ACCOUNT_PAUSE",
    "MAX_SOURCE_WAIT",
    "SOURCE_THRESHOLD",
    "Block",
    "FailedTries",
    "block_of",
    "count_failure",
    "lift",
    "record_success",
    "source_key",
    "source_wait",
]
