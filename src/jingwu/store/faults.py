"""Which database errors are worth another try: the one rule every write path follows.

Two questions, one answer built on the other:

* :func:`rolled_back_by_conflict`: the database refused the transaction as a whole (a deadlock, a
  serialisation failure, a lock it would not wait for, SQLite's busy or locked file). Nothing was
  written, so the command may simply run again at once: the command path and the position ingest
  do.
* :func:`is_transient`: that, or any other fault that may pass by itself (a dropped or refused
  connection, a full pool, a server restarting). After a connection drops in the middle of a
  commit nobody knows whether it committed, so only work that is idempotent by itself may be
  retried on it: a community device's message, whose counter is claimed in the same transaction.

Anything else (a bug, a schema mismatch, a constraint) would only fail again: never retried.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

#: PostgreSQL: deadlock detected, serialisation failure, lock not available (all rolled back).
_POSTGRES_CONFLICT = frozenset({"40P01", "40001", "55P03"})
#: SQLite's primary result codes for a busy or locked database (nothing was written).
_SQLITE_CONFLICT = frozenset({5, 6})
#: ...and those that pass by themselves too: IOERR (a full disk being cleared, a network file
#: system's hiccup), CANTOPEN (the file moved under a backup's rename).
_SQLITE_TRANSIENT = _SQLITE_CONFLICT | {10, 14}
#: PostgreSQL's SQLSTATE classes that pass: connection exceptions (08), transaction rollback (40),
#: insufficient resources (53); and the server shutting down or restarting (57P01-57P03).
_POSTGRES_TRANSIENT_CLASSES = frozenset({"08", "40", "53"})
_POSTGRES_TRANSIENT = _POSTGRES_CONFLICT | {"57P01", "57P02", "57P03"}
#: Causes are followed this deep: a chain that loops must not loop forever.
_MAX_CAUSES = 8


def rolled_back_by_conflict(exc: DBAPIError) -> bool:
    """The database gave up this transaction for another's sake; running it again is safe."""
    sqlite_code = getattr(exc.orig, "sqlite_errorcode", None)
    if sqlite_code is not None:
        return sqlite_code & 0xFF in _SQLITE_CONFLICT
    state = getattr(exc.orig, "sqlstate", None)
    if state:
        return state in _POSTGRES_CONFLICT
    # SQLite's lock raised without its code (as the driver does for some statements).
    return "database is locked" in str(exc.orig)


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc``, or anything in its chain of causes, is a database fault that may pass by
    itself. The chain is followed because a service wraps the database's error in a SystemFault."""
    seen: BaseException | None = exc
    for _ in range(_MAX_CAUSES):
        if seen is None:
            return False
        if isinstance(seen, PoolTimeout):
            return True
        if isinstance(seen, DBAPIError):
            if seen.connection_invalidated or rolled_back_by_conflict(seen):
                return True
            sqlite_code = getattr(seen.orig, "sqlite_errorcode", None)
            if sqlite_code is not None:
                return sqlite_code & 0xFF in _SQLITE_TRANSIENT
            state = getattr(seen.orig, "sqlstate", None)
            if state:
                return state[:2] in _POSTGRES_TRANSIENT_CLASSES or state in _POSTGRES_TRANSIENT
            # No code at all: psycopg's "connection failed" (the server is not there).
            return isinstance(seen, OperationalError)
        seen = seen.__cause__ or seen.__context__
    return False


def is_missing_partition(exc: DBAPIError) -> bool:
    """PostgreSQL refused a row for want of a partition of the position history (another process
    dropped the day, or never made it): once the partition is made, the insert may run again."""
    return getattr(exc.orig, "sqlstate", None) == "23514" and "no partition" in str(exc.orig)


__all__ = ["is_missing_partition", "is_transient", "rolled_back_by_conflict"]
