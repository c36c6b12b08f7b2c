"""Two `jingwu serve` processes over one PostgreSQL database race to dispatch one unit: the
process lock of the command path cannot help here, so the database's row locks and versioned
writes must let exactly one dispatch through and refuse the other with 409."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlalchemy import select, text

from jingwu.composition import assemble
from jingwu.routing import RoadNetwork
from jingwu.service.auth import Role
from jingwu.settings import Settings
from jingwu.store import repository as repo
from jingwu.store import tables as t
from jingwu.store.db import make_engine, upgrade_schema, write_transaction
from jingwu.store.fieldcrypt import KeyRing
from tests.cluster.test_serve import FIELD_KEYS, INCIDENT, PASSWORD, Server, login
from tests.conftest import NORTH, SOUTH, make_unit

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.alone]  # alone: a race

ROUNDS = 30  # one fresh unit and two fresh incidents each
LOSER_CODES = {"unit_not_available", "unit_already_assigned", "stale_unit"}


@pytest.fixture
def race_db(migrated_postgres_url: str, network: RoadNetwork, tmp_path: Path) -> str:
    """A fresh database with a unit for every round, placed on the roads, and a dispatcher."""
    engine = make_engine(migrated_postgres_url)
    upgrade_schema(engine)
    rng = np.random.default_rng(14)
    at = datetime.now(UTC) - timedelta(hours=1)
    with write_transaction(engine) as conn:
        repo.insert_station(conn, SOUTH)
        repo.insert_station(conn, NORTH)
        for i in range(ROUNDS):
            p = network.random_road_point(rng)
            repo.insert_unit(conn, make_unit(f"r{i:02d}", p.lat, p.lon, at=at))
    engine.dispose()
    settings = Settings(data_dir=tmp_path / "admin", database_url=migrated_postgres_url)
    services = assemble(settings, make_engine(migrated_postgres_url), network, keys=KeyRing.parse(FIELD_KEYS))
    try:
        services.auth.accounts.create_user("dispatcher", PASSWORD, Role.DISPATCHER)
    finally:
        services.close()
    return migrated_postgres_url


@pytest.fixture
def servers(
    race_db: str, nats_url: str, bus_stream: str, city_cache_dir: Path, tmp_path: Path
) -> Iterator[tuple[Server, Server]]:
    env = {
        "JINGWU_DATABASE_URL": race_db,
        "JINGWU_BUS_URL": nats_url,
        "JINGWU_BUS_STREAM": bus_stream,
        "JINGWU_FIELD_KEYS": FIELD_KEYS,
        "JINGWU_REQUIRE_TOTP": "false",
    }
    started = []
    try:
        for name in ("a", "b"):
            data_dir = tmp_path / name
            shutil.copytree(city_cache_dir, data_dir / "graph-cache")
            started.append(Server(name, data_dir, env))
        for server in started:
            server.wait_up()
        yield started[0], started[1]
    finally:
        for server in started:
            server.stop()


@dataclass(frozen=True, slots=True)
class Shot:
    """One dispatch request as the client saw it: when it left, when its answer came, what."""

    server: str
    incident_id: str
    sent: float
    answered: float
    status: int
    code: str | None


class LockWaits:
    """Polls the database for a session waiting on another's lock, with the time it was seen: a
    round in which one was seen raced inside the database, not merely over HTTP."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.seen: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        query = text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            while not self._stop.is_set():
                if conn.execute(query).scalar_one():
                    self.seen.append(time.monotonic())

    def during(self, start: float, end: float) -> bool:
        return any(start <= at <= end for at in self.seen)

    def __enter__(self) -> LockWaits:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.engine.dispose()


def fire(
    client: httpx.Client,
    name: str,
    incident_id: str,
    unit_id: str,
    barrier: threading.Barrier,
    out: list[Shot],
) -> None:
    barrier.wait()
    sent = time.monotonic()
    response = client.post(f"/api/incidents/{incident_id}/dispatch", json={"unit_ids": [unit_id]})
    answered = time.monotonic()
    code = response.json().get("error", {}).get("code") if response.status_code >= 400 else None
    out.append(Shot(name, incident_id, sent, answered, response.status_code, code))


def test_cluster_dispatch_race_for_one_unit_has_one_winner_across_processes(
    servers: tuple[Server, Server], race_db: str
) -> None:
    a, b = servers
    headers = login(a)  # sessions live in the shared database: the token works on both
    overlapped = 0
    waited = 0
    wins = {"a": 0, "b": 0}
    rounds: list[tuple[str, Shot, Shot]] = []
    with (
        httpx.Client(base_url=a.base, headers=headers, timeout=30) as on_a,
        httpx.Client(base_url=b.base, headers=headers, timeout=30) as on_b,
        LockWaits(race_db) as lock_waits,
    ):
        for i in range(ROUNDS):
            unit_id = f"r{i:02d}"
            # Two incidents, one opened through each server; each server sends the unit to its own.
            to_a = on_a.post("/api/incidents", json=INCIDENT)
            to_b = on_b.post("/api/incidents", json=INCIDENT)
            assert to_a.status_code == 201 and to_b.status_code == 201, (to_a.text, to_b.text)
            barrier = threading.Barrier(2)
            shots: list[Shot] = []
            threads = [
                threading.Thread(target=fire, args=(on_a, "a", to_a.json()["id"], unit_id, barrier, shots)),
                threading.Thread(target=fire, args=(on_b, "b", to_b.json()["id"], unit_id, barrier, shots)),
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert len(shots) == 2, f"round {i}: a request never came back"
            winners = [s for s in shots if s.status == 200]
            losers = [s for s in shots if s.status != 200]
            assert len(winners) == 1, f"round {i}: {shots}"
            assert losers[0].status == 409 and losers[0].code in LOSER_CODES, f"round {i}: {shots}"
            wins[winners[0].server] += 1
            first, second = sorted(shots, key=lambda s: s.sent)
            # Both in flight at once: each was sent before the other was answered.
            if second.sent < first.answered:
                overlapped += 1
            # One process's transaction waited for the other's row lock.
            waited += lock_waits.during(first.sent, max(first.answered, second.answered))
            rounds.append((unit_id, winners[0], losers[0]))

    engine = make_engine(race_db)
    try:
        with engine.connect() as conn:
            a_ = t.assignments.c
            active = conn.execute(select(a_.unit_id, a_.incident_id).where(a_.released_at.is_(None))).all()
            unit_incident = dict(conn.execute(select(t.units.c.id, t.units.c.incident_id)).all())
            incident_status = dict(conn.execute(select(t.incidents.c.id, t.incidents.c.status)).all())
    finally:
        engine.dispose()
    by_unit: dict[str, list[str]] = {}
    for unit_id, incident_id in active:
        by_unit.setdefault(unit_id, []).append(incident_id)
    for unit_id, winner, loser in rounds:
        assert by_unit.get(unit_id) == [winner.incident_id], unit_id
        assert unit_incident[unit_id] == winner.incident_id
        assert incident_status[winner.incident_id] == "dispatched"
        assert incident_status[loser.incident_id] == "pending"  # the refused dispatch changed nothing
    print(
        f"dispatch race: {overlapped}/{ROUNDS} rounds overlapped in time, in {waited} one process "
        f"waited on the other's lock; wins {wins}"
    )
    # A race only if the two requests were in flight together.
    assert overlapped >= ROUNDS // 2, f"only {overlapped}/{ROUNDS} rounds overlapped"
    for server in servers:
        assert "Traceback" not in server.log_path.read_text()
