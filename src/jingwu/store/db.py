"""Engines, transactions and schema upgrades for SQLite (embedded) and PostgreSQL (deployments).

SQLite runs in WAL mode with ``synchronous=FULL``: a commit is on disk before the API answers 2xx.
Commands run in write transactions; on SQLite those begin IMMEDIATE, so two commands never read
the same row and both write it — the second waits for the first and then sees its result.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from jingwu.errors import SystemFault
from jingwu.store.locks import migration_lock

log = logging.getLogger(__name__)


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so BEGIN IMMEDIATE can be issued ourselves.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("jingwu_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


#: One lock per SQLite engine that its write transactions take in this process. SQLite admits one
#: writer at a time anyway; without this, the others wait in its busy handler, which sleeps in
#: steps of up to 100 ms, and a burst of position batches queued behind each other for that long.
#: Re-entrant: a nested write (a bug in itself) still fails on SQLite's timeout, not silently here.
_sqlite_writers: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_sqlite_writers_lock = threading.Lock()


def _writer_lock(engine: Engine) -> contextlib.AbstractContextManager[object]:
    if engine.dialect.name != "sqlite":
        return contextlib.nullcontext()
    with _sqlite_writers_lock:
        lock = _sqlite_writers.get(engine)
        if lock is None:
            lock = _sqlite_writers[engine] = threading.RLock()
        return lock


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One command, one transaction; commits on success, rolls back (changing nothing) on error."""
    with (
        _writer_lock(engine),
        engine.connect().execution_options(jingwu_write=True) as conn,
        conn.begin(),
    ):
        yield conn


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn, conn.begin():
        yield conn


def alembic_config(engine: Engine) -> Config:
    script_location = str(resources.files("jingwu.store") / "migrations")
    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    cfg.attributes["engine"] = engine
    return cfg


def upgrade_schema(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent). Under a cluster-wide lock, so that
    server processes started together over one PostgreSQL database upgrade it once. A schema newer
    than this code knows (an older release started after a newer one) is refused, not touched."""
    with migration_lock(engine):
        current, heads = schema_revisions(engine)
        if current == heads:
            return  # every server start: reading the revision files once is enough (a warm start)
        _refuse_unknown(engine, current, heads)
        command.upgrade(alembic_config(engine), "head")


class SchemaNotCurrent(SystemFault):
    """The database's schema is not the one this version of Jingwu was written for. Only
    ``jingwu migrate`` (and the server commands, which migrate as they start) change a schema:
    an admin command never does so in passing, on a production database, as a side effect."""

    code = "schema_not_current"


def schema_revisions(engine: Engine) -> tuple[frozenset[str], frozenset[str]]:
    """(the revisions the database is at, the newest revisions this code knows)."""
    heads = frozenset(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
    with engine.connect() as conn:
        current = frozenset(MigrationContext.configure(conn).get_current_heads())
    return current, heads


def _shown(engine: Engine) -> str:
    return make_url(str(engine.url)).render_as_string(hide_password=True)


def _refuse_unknown(engine: Engine, current: frozenset[str], heads: frozenset[str]) -> None:
    known = {rev.revision for rev in ScriptDirectory.from_config(alembic_config(engine)).walk_revisions()}
    if not current <= known:
        shown = _shown(engine)
        raise SchemaNotCurrent(
            f"the database at {shown} is at schema {', '.join(sorted(current))}, newer than this "
            f"version of Jingwu knows ({', '.join(sorted(heads))}): upgrade Jingwu",
            database=shown,
            current=sorted(current),
            head=sorted(heads),
        )


def require_current_schema(engine: Engine) -> None:
    """Refuse (SchemaNotCurrent, saying what to run) a database whose schema is missing, older or
    newer than this code's; return quietly when it is at head."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if database and database != ":memory:" and not Path(database).exists():
        # Looking would make an empty file: refused as an empty database is, and none is left.
        raise SchemaNotCurrent(
            f"the database at {_shown(engine)} has no Jingwu schema yet: run `jingwu migrate` first",
            database=_shown(engine),
        )
    current, heads = schema_revisions(engine)
    if current == heads:
        return
    shown = _shown(engine)
    if not current:
        raise SchemaNotCurrent(
            f"the database at {shown} has no Jingwu schema yet: run `jingwu migrate` first",
            database=shown,
        )
    _refuse_unknown(engine, current, heads)
    raise SchemaNotCurrent(
        f"the database at {shown} is at schema {', '.join(sorted(current))}; this version of Jingwu "
        f"needs {', '.join(sorted(heads))}: run `jingwu migrate` (after a backup)",
        database=shown,
        current=sorted(current),
        head=sorted(heads),
    )


__all__ = [
    "SchemaNotCurrent",
    "alembic_config",
    "make_engine",
    "read_transaction",
    "require_current_schema",
    "schema_revisions",
    "upgrade_schema",
    "write_transaction",
]
