"""The one retry rule (store.faults), on errors raised by the real databases."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from jingwu.errors import SystemFault
from jingwu.store.faults import is_transient, rolled_back_by_conflict


def _postgres_error(url: str, sqlstate: str) -> DBAPIError:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text(f"DO $$ BEGIN RAISE EXCEPTION 'raised' USING ERRCODE = '{sqlstate}'; END $$"))
    except DBAPIError as exc:
        return exc
    finally:
        engine.dispose()
    raise AssertionError("the statement raised nothing")


def _sqlite_busy(path: Path) -> DBAPIError:
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN IMMEDIATE")
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
    except DBAPIError as exc:
        return exc
    finally:
        holder.rollback()
        holder.close()
        engine.dispose()
    raise AssertionError("the insert was not refused")


@pytest.mark.postgres
@pytest.mark.parametrize("sqlstate", ["40P01", "40001", "55P03"])
def test_a_postgres_deadlock_or_serialisation_failure_is_a_conflict_and_transient(
    postgres_url: str, sqlstate: str
) -> None:
    error = _postgres_error(postgres_url, sqlstate)
    assert rolled_back_by_conflict(error) and is_transient(error)


@pytest.mark.postgres
@pytest.mark.parametrize("sqlstate", ["08006", "53300", "57P01"])
def test_a_lost_connection_or_a_full_server_is_transient_but_not_safe_to_rerun_at_once(
    postgres_url: str, sqlstate: str
) -> None:
    error = _postgres_error(postgres_url, sqlstate)
    assert is_transient(error) and not rolled_back_by_conflict(error)


@pytest.mark.postgres
@pytest.mark.parametrize("sqlstate", ["23505", "42P01", "22003"])
def test_a_constraint_a_missing_table_or_bad_data_is_never_retried(postgres_url: str, sqlstate: str) -> None:
    error = _postgres_error(postgres_url, sqlstate)
    assert not is_transient(error) and not rolled_back_by_conflict(error)


def test_a_busy_sqlite_file_is_a_conflict(tmp_path: Path) -> None:
    error = _sqlite_busy(tmp_path / "busy.db")
    assert "locked" in str(error.orig)
    assert rolled_back_by_conflict(error) and is_transient(error)


def test_sqlites_lock_raised_without_its_code_is_still_a_conflict() -> None:
    error = OperationalError("INSERT", None, sqlite3.OperationalError("database is locked"))
    assert rolled_back_by_conflict(error) and is_transient(error)


def test_a_missing_sqlite_table_is_never_retried(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(DBAPIError) as caught, engine.connect() as conn:
        conn.execute(text("SELECT * FROM nowhere"))
    engine.dispose()
    assert not is_transient(caught.value) and not rolled_back_by_conflict(caught.value)


def test_the_cause_of_a_service_fault_is_looked_through(tmp_path: Path) -> None:
    busy = _sqlite_busy(tmp_path / "busy.db")
    try:
        raise SystemFault("the database could not complete the command") from busy
    except SystemFault as fault:
        assert is_transient(fault)
    integrity = IntegrityError("INSERT", None, sqlite3.IntegrityError("UNIQUE constraint failed"))
    try:
        raise SystemFault("wrapped") from integrity
    except SystemFault as fault:
        assert not is_transient(fault)
