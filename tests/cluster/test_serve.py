"""A cluster as it is deployed: two `jingwu serve` processes over one PostgreSQL database and one
NATS JetStream stream, HTTP and WebSocket over loopback.

* A console connected to B sees an incident created through A's REST API within a second.
* A process killed with SIGKILL under load loses nothing it acknowledged: every incident and
  position answered 2xx is in the database, B keeps serving, and B's live stream carried every
  acknowledged incident (over NATS, or read from the shared log when A died before publishing).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import select
from websockets.sync.client import ClientConnection, connect

from jingwu.composition import assemble
from jingwu.routing import RoadNetwork
from jingwu.service.auth import Role
from jingwu.settings import Settings
from jingwu.store import repository as repo
from jingwu.store import tables as t
from jingwu.store.db import make_engine, upgrade_schema, write_transaction
from jingwu.store.fieldcrypt import KeyRing, format_key_line
from tests.conftest import NORTH, SOUTH, make_unit

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

PASSWORD = "cluster-password-123"
# Every process of a cluster must hold the same field keys (docs/deploy.md).
FIELD_KEYS = format_key_line("k1", bytes(range(32)))
UNITS = 6
INCIDENT = {
    "type_code": "crim.theft",
    "location": {"lat": 45.7560, "lon": 126.6420},
    "address": "南岗区果戈里大街",
    "source": "call_110",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """One `jingwu serve` process of the cluster."""

    def __init__(self, name: str, data_dir: Path, env: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / f"server-{name}.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jingwu.cli", "serve", "--port", str(self.port)],
            env=os.environ | env | {"JINGWU_DATA_DIR": str(data_dir)},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_up(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server {self.name} exited: {self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(f"server {self.name} did not come up in {timeout} s")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


@pytest.fixture
def cluster_db(migrated_postgres_url: str, network: RoadNetwork, tmp_path: Path) -> str:
    """The fresh database, migrated before any process starts (as in production), with the test
    city and a dispatcher."""
    postgres_url = migrated_postgres_url
    engine = make_engine(postgres_url)
    upgrade_schema(engine)
    rng = np.random.default_rng(8)
    at = datetime.now(UTC) - timedelta(hours=1)
    with write_transaction(engine) as conn:
        repo.insert_station(conn, SOUTH)
        repo.insert_station(conn, NORTH)
        for i in range(UNITS):
            p = network.random_road_point(rng)
            repo.insert_unit(conn, make_unit(f"u{i}", p.lat, p.lon, at=at))
    settings = Settings(data_dir=tmp_path / "admin", database_url=postgres_url)
    services = assemble(settings, engine, network, keys=KeyRing.parse(FIELD_KEYS))
    try:
        services.auth.accounts.create_user("dispatcher", PASSWORD, Role.DISPATCHER)
    finally:
        services.close()
    return postgres_url


@pytest.fixture
def two_servers(
    cluster_db: str, nats_url: str, bus_stream: str, city_cache_dir: Path, tmp_path: Path
) -> Iterator[tuple[Server, Server]]:
    env = {
        "JINGWU_DATABASE_URL": cluster_db,
        "JINGWU_BUS_URL": nats_url,
        "JINGWU_BUS_STREAM": bus_stream,
        "JINGWU_FIELD_KEYS": FIELD_KEYS,
        "JINGWU_REQUIRE_TOTP": "false",
    }
    servers = []
    for name in ("a", "b"):
        data_dir = tmp_path / name  # each process its own data directory, as on its own host
        # The road graph, the address index and the base map, built once.
        shutil.copytree(city_cache_dir, data_dir / "graph-cache")
        servers.append(Server(name, data_dir, env))
    try:
        for server in servers:
            server.wait_up()
        yield servers[0], servers[1]
    finally:
        for server in servers:
            server.stop()


def login(server: Server) -> dict[str, str]:
    response = httpx.post(
        f"{server.base}/api/auth/login", json={"username": "dispatcher", "password": PASSWORD}, timeout=10
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


class LiveClient:
    """A console's live stream on one server: every message, with the time it arrived."""

    def __init__(self, server: Server, headers: dict[str, str]) -> None:
        token = headers["Authorization"].split()[1]
        self._stack = contextlib.ExitStack()
        url = f"ws://127.0.0.1:{server.port}/api/events?access_token={token}"
        self.ws: ClientConnection = self._stack.enter_context(connect(url))
        hello = json.loads(self.ws.recv(timeout=10))
        assert hello["type"] == "hello"
        self.received: list[tuple[float, dict[str, Any]]] = []
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for raw in self.ws:
                message = json.loads(raw)
                with self._cond:
                    self.received.append((time.monotonic(), message))
                    self._cond.notify_all()
        except Exception:
            return

    def created_ids(self) -> dict[str, float]:
        with self._cond:
            return {
                m["data"]["incident"]["id"]: at for at, m in self.received if m["type"] == "incident.created"
            }

    def wait_for(self, check: Callable[[], bool], timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(check, timeout=timeout)

    def wait_for_incident(self, incident_id: str, timeout: float) -> bool:
        return self.wait_for(lambda: incident_id in self.created_ids(), timeout)

    def close(self) -> None:
        self._stack.close()
        self._thread.join(timeout=5)


@pytest.mark.alone  # a latency under 1 s
def test_cluster_console_on_b_sees_incident_created_through_a_within_a_second(
    two_servers: tuple[Server, Server],
) -> None:
    a, b = two_servers
    headers = login(a)  # a session is in the shared database: the same token works on B
    live = LiveClient(b, headers)
    try:
        for _ in range(3):
            sent = time.monotonic()
            response = httpx.post(f"{a.base}/api/incidents", json=INCIDENT, headers=headers, timeout=10)
            assert response.status_code == 201, response.text
            incident_id: str = response.json()["id"]
            assert live.wait_for_incident(incident_id, timeout=5)
            assert live.created_ids()[incident_id] - sent < 1.0
    finally:
        live.close()


class Load:
    """Incidents and positions sent through one server, with what it acknowledged (2xx)."""

    def __init__(self, server: Server, headers: dict[str, str], home: dict[str, tuple[float, float]]) -> None:
        self.server = server
        self.headers = headers
        self.home = home  # each unit creeps north from where it stands: a drive the GPS filter believes
        self.incidents: list[str] = []
        self.positions: dict[str, datetime] = {}  # unit → the newest acknowledged fix time
        self.failures = 0
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._incidents, daemon=True),
            threading.Thread(target=self._positions, daemon=True),
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def _incidents(self) -> None:
        with httpx.Client(base_url=self.server.base, headers=self.headers, timeout=5) as client:
            while not self.stop.is_set():
                try:
                    response = client.post("/api/incidents", json=INCIDENT)
                except httpx.HTTPError:
                    self.failures += 1  # in flight when the process died: not acknowledged
                    time.sleep(0.05)
                    continue
                if response.status_code == 201:
                    self.incidents.append(response.json()["id"])

    def _positions(self) -> None:
        i = 0
        with httpx.Client(base_url=self.server.base, headers=self.headers, timeout=5) as client:
            while not self.stop.is_set():
                i += 1
                ts = datetime.now(UTC)
                batch = [
                    {
                        "unit_id": unit_id,
                        "lat": round(lat + i * 1e-6, 7),
                        "lon": lon,
                        "ts": ts.isoformat(),
                    }
                    for unit_id, (lat, lon) in self.home.items()
                ]
                try:
                    response = client.post("/api/units/positions", json={"positions": batch})
                except httpx.HTTPError:
                    self.failures += 1
                    time.sleep(0.05)
                    continue
                if response.status_code == 204:
                    for unit_id in self.home:
                        self.positions[unit_id] = ts


def test_cluster_sigkill_under_load_loses_nothing_acknowledged_and_b_keeps_serving(
    two_servers: tuple[Server, Server], cluster_db: str
) -> None:
    a, b = two_servers
    headers = login(a)
    live = LiveClient(b, headers)
    units = httpx.get(f"{a.base}/api/units", headers=headers, timeout=10).json()
    load = Load(a, headers, {u["id"]: (u["position"]["lat"], u["position"]["lon"]) for u in units})
    try:
        load.start()
        started = time.monotonic()
        while (
            len(load.incidents) < 40 or time.monotonic() - started < 2
        ) and time.monotonic() - started < 30:
            time.sleep(0.05)
        a.kill()  # mid-load: no shutdown hook runs, requests are in flight
        time.sleep(1.0)  # the clients notice
        load.join()
        assert len(load.incidents) >= 40 and load.positions, "the load never got going"
        assert load.failures >= 1, "the kill did not land under load"

        engine = make_engine(cluster_db)
        try:
            with engine.connect() as conn:
                stored = set(conn.execute(select(t.incidents.c.id)).scalars())
                pos_ts = dict(conn.execute(select(t.units.c.id, t.units.c.pos_ts)).all())
        finally:
            engine.dispose()
        lost = [i for i in load.incidents if i not in stored]
        assert not lost, f"{len(lost)} acknowledged incidents lost"
        for unit_id, acknowledged in load.positions.items():
            assert pos_ts[unit_id] is not None and pos_ts[unit_id] >= acknowledged, unit_id

        # B keeps serving: reads what A acknowledged, takes new work, and its live stream carried
        # every incident A acknowledged (over NATS, or from the log when A died before publishing).
        b_headers = login(b)
        assert httpx.get(f"{b.base}/healthz", timeout=5).status_code == 200
        for incident_id in load.incidents[-5:]:
            response = httpx.get(f"{b.base}/api/incidents/{incident_id}", headers=b_headers, timeout=5)
            assert response.status_code == 200, incident_id
        response = httpx.post(f"{b.base}/api/incidents", json=INCIDENT, headers=b_headers, timeout=10)
        assert response.status_code == 201, response.text
        new_id = response.json()["id"]
        wanted = {*load.incidents, new_id}
        assert live.wait_for(lambda: wanted <= live.created_ids().keys(), timeout=5), (
            f"B's live stream missed {len(wanted - live.created_ids().keys())} acknowledged incidents"
        )
        assert "Traceback" not in b.log_path.read_text()
    finally:
        load.stop.set()
        live.close()
