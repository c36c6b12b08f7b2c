"""Cluster-wide locks: PostgreSQL advisory locks, so that several server processes over one
database agree on who does what. On SQLite (one process) they are no-ops that always succeed.

* :func:`lock_event_log` — taken in every transaction that appends events, just before the
  append and until the commit, so that log ids are given in commit order across the cluster
  (see bus.ordering for why a live client's resume depends on that).
* :func:`migration_lock` — held while the schema is upgraded, so that processes started together
  do not run the same migration twice.
* :class:`Leadership` — one process of the cluster at a time runs the jobs that must run once
  (purges, maintenance): it holds a session lock on a connection of its own, and the database
  frees it when that process dies or loses its connection, so another takes over at its next try.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
from collections.abc import Iterator

from sqlalchemy import Connection, Engine, func, select

log = logging.getLogger(__name__)


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (advisory locks are keyed by bigint)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


EVENT_LOG_KEY = advisory_key("jingwu.event-log")
MIGRATION_KEY = advisory_key("jingwu.migrations")
CAMERA_LEASES_KEY = advisory_key("jingwu.camera-leases")


def _is_postgres(bind: Connection | Engine) -> bool:
    return bind.dialect.name == "postgresql"


def lock_event_log(conn: Connection) -> None:
    """Until this transaction ends, no other transaction of the cluster appends events."""
    if _is_postgres(conn):
        conn.execute(select(func.pg_advisory_xact_lock(EVENT_LOG_KEY)))


def lock_camera_leases(conn: Connection) -> None:
    """Until this transaction ends, no other process of the cluster claims cameras: each camera
    is read by exactly one video worker."""
    if _is_postgres(conn):
        conn.execute(select(func.pg_advisory_xact_lock(CAMERA_LEASES_KEY)))


@contextlib.contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Held across a schema upgrade; a second process waits, then finds nothing left to do."""
    if not _is_postgres(engine):
        yield
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(select(func.pg_advisory_lock(MIGRATION_KEY)))
        try:
            yield
        finally:
            conn.execute(select(func.pg_advisory_unlock(MIGRATION_KEY)))


class Leadership:
    """Whether this process is the one that runs the cluster's once-only jobs.

    ``is_leader()`` is cheap enough to ask on every timer tick: a leader checks that its lock
    connection is alive; a follower tries the lock (and, failing, gives its connection back).
    Leadership is lost only with that connection — a process killed, or cut off from the
    database — and then the next process to ask becomes leader. A job run by the leader must
    still be safe to run twice (a leader cut off mid-job may not know yet that it was replaced).
    """

    def __init__(self, engine: Engine, name: str = "jingwu.timers") -> None:
        self.engine = engine
        self.key = advisory_key(name)
        self.name = name
        self._conn: Connection | None = None
        # The timer asks from a worker thread that may outlive its cancelled task: close() and
        # is_leader() never interleave, and once closed nothing takes the lock (or a connection
        # the engine's disposal would not close) again.
        self._lock = threading.Lock()
        self._closed = False

    def is_leader(self) -> bool:
        if not _is_postgres(self.engine):
            return True
        with self._lock:
            if self._closed:
                return False
            return self._try()

    def _try(self) -> bool:
        if self._conn is not None:
            try:
                self._conn.execute(select(1))
                return True
            except Exception:
                log.warning("lost the %s leadership (its database connection failed)", self.name)
                self._drop()
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = bool(conn.execute(select(func.pg_try_advisory_lock(self.key))).scalar_one())
        except Exception:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        log.info("this process now runs the cluster's once-only jobs (%s)", self.name)
        return True

    def close(self) -> None:
        """Give leadership up (at shutdown), so that another process takes over at once."""
        with self._lock:
            self._closed = True
            if self._conn is None:
                return
            with contextlib.suppress(Exception):
                self._conn.execute(select(func.pg_advisory_unlock(self.key)))
            self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.invalidate()  # never back to the pool still holding the lock
            with contextlib.suppress(Exception):
                conn.close()


__all__ = [
    "EVENT_LOG_KEY",
    "MIGRATION_KEY",
    "Leadership",
    "advisory_key",
    "lock_camera_leases",
    "lock_event_log",
    "migration_lock",
]
