"""The real server as a user runs it: a `jingwu` process, HTTP and WebSocket over loopback."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

PASSWORD = "e2e-password-123"
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, data_dir: Path, *args: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = os.environ | {"JINGWU_DATA_DIR": str(data_dir), "JINGWU_DEMO_PASSWORD": PASSWORD}
        self.log = (data_dir / f"server-{self.port}.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jingwu.cli", *args, "--port", str(self.port)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {(data_dir / self.log.name).read_text()}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        raise RuntimeError("server did not come up in 120 s")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


@pytest.fixture
def data_dir(tmp_path: Path, city_cache_dir: Path) -> Path:
    """A fresh data directory that already holds the compiled graph, the address index and the
    base map (the session built them once)."""
    shutil.copytree(city_cache_dir, tmp_path / "graph-cache")
    return tmp_path


@pytest.fixture
def demo(data_dir: Path) -> Iterator[Server]:
    server = Server(data_dir, "demo", "--units", "60", "--auto-dispatch-after", "3600")
    yield server
    server.stop()


def login(base: str, username: str) -> dict[str, str]:
    response = httpx.post(f"{base}/api/auth/login", json={"username": username, "password": PASSWORD})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_demo_dispatcher_journey_over_http_and_websocket(demo: Server) -> None:
    headers = login(demo.base, "dispatcher")
    units = httpx.get(f"{demo.base}/api/units", headers=headers).json()
    assert len(units) == 60
    assert len({u["station_id"] for u in units}) == 5  # one station per district of the extract
    token = headers["Authorization"].split()[1]
    with connect(f"ws://127.0.0.1:{demo.port}/api/events?access_token={token}") as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "hello"
        incident = httpx.post(
            f"{demo.base}/api/incidents",
            json={
                "type_code": "order.fight",
                "location": {"lat": 45.7610, "lon": 126.6290},
                "address": "南岗区果戈里大街",
                "source": "call_110",
            },
            headers=headers,
        )
        assert incident.status_code == 201, incident.text
        incident_id = incident.json()["id"]
        recs = httpx.get(f"{demo.base}/api/incidents/{incident_id}/recommendations", headers=headers).json()
        assert len(recs) == 5 and recs[0]["eta_s"] <= recs[-1]["eta_s"]
        unit_id = recs[0]["unit_id"]
        done = httpx.post(
            f"{demo.base}/api/incidents/{incident_id}/dispatch", json={"unit_ids": [unit_id]}, headers=headers
        )
        assert done.status_code == 200, done.text
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            message = json.loads(ws.recv(timeout=10))
            if message["type"] == "unit.status_changed" and message["unit_id"] == unit_id:
                assert message["data"]["to"] == "dispatched"
                break
        else:
            pytest.fail("no unit.status_changed on the live stream within 10 s")


def test_incident_acknowledged_with_201_survives_sigkill(data_dir: Path) -> None:
    server = Server(data_dir, "demo", "--units", "8", "--auto-dispatch-after", "3600")
    try:
        headers = login(server.base, "dispatcher")
        created = []
        for i in range(5):
            response = httpx.post(
                f"{server.base}/api/incidents",
                json={
                    "type_code": "crim.theft",
                    "location": {"lat": 45.7560, "lon": 126.6420},
                    "source": "app",
                    "description": f"durability {i}",
                },
                headers=headers,
            )
            assert response.status_code == 201
            created.append(response.json()["id"])
        server.kill()  # no shutdown hook runs
    finally:
        server.stop()
    restarted = Server(data_dir, "demo", "--units", "8", "--auto-dispatch-after", "3600")
    try:
        headers = login(restarted.base, "dispatcher")
        for incident_id in created:
            response = httpx.get(f"{restarted.base}/api/incidents/{incident_id}", headers=headers)
            assert response.status_code == 200, incident_id
    finally:
        restarted.stop()
