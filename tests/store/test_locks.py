"""Cluster-wide locks on PostgreSQL: one leader at a time, taken over when it goes; schema
upgrades serialised. On SQLite (one process) every process leads."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from jingwu.store.db import make_engine, upgrade_schema
from jingwu.store.locks import Leadership, advisory_key


def test_advisory_key_is_stable_and_distinct() -> None:
    assert advisory_key("jingwu.timers") == advisory_key("jingwu.timers")
    assert advisory_key("jingwu.timers") != advisory_key("jingwu.event-log")
    assert -(2**63) <= advisory_key("x") < 2**63


def test_leadership_on_sqlite_is_always_held(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'j.db'}")
    first, second = Leadership(engine), Leadership(engine)
    assert first.is_leader() and second.is_leader()
    engine.dispose()


@pytest.mark.postgres
def test_leadership_one_process_leads_and_another_takes_over_when_it_goes(postgres_url: str) -> None:
    engines = [make_engine(postgres_url) for _ in range(2)]  # as two processes would have
    a, b = Leadership(engines[0]), Leadership(engines[1])
    try:
        assert a.is_leader()
        assert a.is_leader()  # still, on the next tick
        assert not b.is_leader()
        a.close()  # a process stopping gives it up
        assert b.is_leader()
        assert not a.is_leader()
    finally:
        a.close()
        b.close()
        for engine in engines:
            engine.dispose()


@pytest.mark.postgres
def test_leadership_lost_with_its_connection_passes_to_the_next(postgres_url: str) -> None:
    engines = [make_engine(postgres_url) for _ in range(3)]
    a, b = Leadership(engines[0]), Leadership(engines[1])
    try:
        assert a.is_leader() and not b.is_leader()
        with engines[2].connect() as conn:  # the leader's process dies: its session ends
            conn.execute(
                select(func.pg_terminate_backend(text("pid")))
                .select_from(text("pg_locks"))
                .where(text("locktype = 'advisory' AND objid = :low"))
                .params(low=a.key & 0xFFFFFFFF)
            )
        # The terminated session ends (and frees the lock) a moment later; B tries every tick.
        deadline = time.monotonic() + 10
        while not b.is_leader() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert b.is_leader()
        assert not a.is_leader()  # it notices on its next tick
    finally:
        a.close()
        b.close()
        for engine in engines:
            engine.dispose()


@pytest.mark.postgres
def test_upgrade_schema_from_processes_started_together_runs_once(postgres_url: str) -> None:
    engines = [make_engine(postgres_url) for _ in range(2)]
    errors: list[BaseException] = []

    def upgrade(i: int) -> None:
        try:
            upgrade_schema(engines[i])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=upgrade, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for engine in engines:
        engine.dispose()
    assert errors == []
