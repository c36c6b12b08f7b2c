"""Idempotency keys: a retried command is applied once and answered again, on both databases."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from jingwu.api.factory import create_app
from jingwu.composition import Services
from jingwu.service.idempotency import IdempotencyService
from jingwu.store import idempotency_keys
from jingwu.store import tables as t
from jingwu.store.db import write_transaction
from tests.api.conftest import CENTRE, create, login

ROBBERY = {"type_code": "crim.robbery", "priority": 1, "location": CENTRE, "source": "call_110"}
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x07" * 300


def count(services: Services, table: Any, **where: Any) -> int:
    query = select(func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    with services.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return headers | {"Idempotency-Key": key}


def test_same_key_twice_applies_the_command_once_and_replays_the_answer(
    client: TestClient, services: Services
) -> None:
    headers = keyed(login(client, "dispatcher"), "intake-7f3a")
    first = client.post("/api/incidents", json=ROBBERY, headers=headers)
    again = client.post("/api/incidents", json=ROBBERY, headers=headers)
    assert first.status_code == again.status_code == 201
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert count(services, t.incidents) == 1
    assert count(services, t.events, type="incident.created") == 1


def test_same_key_with_another_request_is_refused(client: TestClient, services: Services) -> None:
    headers = keyed(login(client, "dispatcher"), "k1")
    assert client.post("/api/incidents", json=ROBBERY, headers=headers).status_code == 201
    other = client.post("/api/incidents", json=ROBBERY | {"priority": 2}, headers=headers)
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    elsewhere = client.post("/api/units/u1/status", json={"status": "busy"}, headers=headers)
    assert elsewhere.status_code == 422 and elsewhere.json()["error"]["code"] == "idempotency_key_reused"
    assert count(services, t.incidents) == 1
    assert client.get("/api/units/u1", headers=headers).json()["status"] == "available"


MALFORMED_KEYS: list[str | bytes] = ["", "x" * 201, "ключ".encode(), "tab\there", b"nul\x00"]


def test_malformed_key_is_refused_before_anything_runs(client: TestClient, services: Services) -> None:
    for key in MALFORMED_KEYS:
        headers: dict[str, Any] = login(client, "dispatcher") | {"Idempotency-Key": key}
        answer = client.post("/api/incidents", json=ROBBERY, headers=headers)
        assert answer.status_code == 422, key
        assert answer.json()["error"]["code"] == "bad_idempotency_key"
    assert count(services, t.incidents) == 0


def test_a_refused_command_does_not_use_up_its_key(client: TestClient, services: Services) -> None:
    headers = keyed(login(client, "dispatcher"), "retry-me")
    refused = client.post("/api/incidents", json=ROBBERY | {"type_code": "no.such.type"}, headers=headers)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "unknown_incident_type"
    fixed = client.post("/api/incidents", json=ROBBERY, headers=headers)
    assert fixed.status_code == 201 and "idempotent-replayed" not in fixed.headers
    assert count(services, t.incidents) == 1


def test_keys_belong_to_one_user(client: TestClient, services: Services) -> None:
    dispatcher = keyed(login(client, "dispatcher"), "shared")
    officer = keyed(login(client, "u0"), "shared")
    assert client.post("/api/incidents", json=ROBBERY, headers=dispatcher).status_code == 201
    assert client.post("/api/units/u0/status", json={"status": "busy"}, headers=officer).status_code == 200
    assert count(services, t.idempotency_keys) == 2


def test_officer_commands_from_an_offline_queue_are_applied_once(
    client: TestClient, services: Services
) -> None:
    dispatcher = login(client, "dispatcher")
    incident = create(client, dispatcher).json()
    client.post(f"/api/incidents/{incident['id']}/dispatch", json={"unit_ids": ["u0"]}, headers=dispatcher)
    officer = login(client, "u0")
    queue = [
        ("/api/units/u0/status", {"json": {"status": "en_route"}}),
        ("/api/units/positions", {"json": {"positions": [{"unit_id": "u0", "lat": 45.75, "lon": 126.64}]}}),
        (f"/api/incidents/{incident['id']}/notes", {"json": {"text": "到达路口"}}),
        (f"/api/incidents/{incident['id']}/attachments", {"content": JPEG, "ct": "image/jpeg"}),
        (f"/api/incidents/{incident['id']}/backup", {"json": {"reason": "需要支援"}}),
    ]
    for n, (path, request) in enumerate(queue):
        headers = keyed(officer, f"outbox-{n}")
        if "ct" in request:
            headers |= {"Content-Type": request["ct"]}
        kwargs = {k: v for k, v in request.items() if k != "ct"}
        first = client.post(path, headers=headers, **kwargs)
        again = client.post(path, headers=headers, **kwargs)
        assert first.status_code in (200, 201, 204), (path, first.text)
        assert (again.status_code, again.content) == (first.status_code, first.content), path
        assert again.headers["idempotent-replayed"] == "true"
    assert count(services, t.notes) == 1
    assert count(services, t.attachments) == 1
    assert count(services, t.events, type="incident.backup_requested") == 1
    assert count(services, t.events, type="unit.status_changed", unit_id="u0") == 2  # dispatched, en route


def test_a_key_committed_by_another_request_still_running_answers_409(
    client: TestClient, services: Services
) -> None:
    headers = keyed(login(client, "dispatcher"), "busy-key")
    first = client.post("/api/incidents", json=ROBBERY, headers=headers)
    # As another server process leaves it between its commit and storing its answer.
    with write_transaction(services.engine) as conn:
        conn.execute(
            t.idempotency_keys.update()
            .where(t.idempotency_keys.c.key == "busy-key")
            .values(response_status=None, response_body=None)
        )
    answer = client.post("/api/incidents", json=ROBBERY, headers=headers)
    assert first.status_code == 201
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "idempotency_in_progress"
    assert count(services, t.incidents) == 1


def test_an_answer_lost_after_the_commit_is_replayed_from_the_commits_own_transaction(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    dispatcher = login(client, "dispatcher")
    incident = create(client, dispatcher).json()
    other = create(client, dispatcher).json()
    third = create(client, dispatcher).json()
    commands: list[tuple[str, dict[str, Any] | None]] = [
        ("/api/incidents", ROBBERY),
        (f"/api/incidents/{incident['id']}/dispatch", {"unit_ids": ["u1", "u2"]}),
        ("/api/units/u3/status", {"status": "busy"}),
        (f"/api/incidents/{other['id']}/merge", {"into": incident["id"]}),
        (f"/api/incidents/{incident['id']}/notes", {"text": "现场有监控"}),
        ("/api/units/positions", {"positions": [{"unit_id": "u4", "lat": 45.75, "lon": 126.64}]}),
        (f"/api/incidents/{incident['id']}/attachments", None),
        (f"/api/incidents/{incident['id']}/backup", {}),
        (f"/api/incidents/{third['id']}/close", {"disposition": "已处置"}),
    ]
    for n, (path, body) in enumerate(commands):
        headers = keyed(dispatcher, f"lost-{n}")
        content: dict[str, Any] = {"json": body}
        if body is None:
            headers |= {"Content-Type": "image/jpeg"}
            content = {"content": JPEG}
        # The server dies after the commit, before it stores the answer it sent.
        with monkeypatch.context() as m:
            m.setattr(IdempotencyService, "store_response", lambda *_args: None)
            first = client.post(path, headers=headers, **content)
        assert first.status_code in (200, 201, 204), (path, first.text)
        events = count(services, t.events)
        again = client.post(path, headers=headers, **content)
        assert again.headers["idempotent-replayed"] == "true", path
        assert again.status_code == first.status_code, path
        if path.endswith("/backup"):
            assert again.json() == []  # recommendations are advice of the moment, not replayed
        elif first.content:
            assert again.json() == first.json(), path
        else:
            assert again.content == b"", path
        assert count(services, t.events) == events, path


def test_keys_older_than_a_week_are_purged(client: TestClient, services: Services) -> None:
    headers = keyed(login(client, "dispatcher"), "fresh")
    client.post("/api/incidents", json=ROBBERY, headers=headers)
    with write_transaction(services.engine) as conn:
        idempotency_keys.insert_idempotency_key(
            conn,
            username="dispatcher",
            key="stale",
            fingerprint="0" * 64,
            created_at=datetime(2020, 1, 1, tzinfo=UTC),
            response_status=204,
            response_body=b"",
        )
    assert services.idempotency.purge_expired() == 1
    with services.engine.connect() as conn:
        assert [r.key for r in conn.execute(select(t.idempotency_keys))] == ["fresh"]


def test_auth_routes_and_reads_ignore_the_key(client: TestClient, services: Services) -> None:
    login_body = {"username": "dispatcher", "password": "correct-horse-battery"}
    one = client.post("/api/auth/login", json=login_body, headers={"Idempotency-Key": "login"})
    two = client.post("/api/auth/login", json=login_body, headers={"Idempotency-Key": "login"})
    assert one.json()["access_token"] != two.json()["access_token"]
    assert "idempotent-replayed" not in two.headers
    anonymous = client.post("/api/incidents", json=ROBBERY, headers={"Idempotency-Key": "x"})
    assert anonymous.status_code == 401
    assert count(services, t.idempotency_keys) == 0


async def _post(app: Any, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
    """One POST straight through the ASGI app, so that two can be in flight at once."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    sent = False
    status = 0
    answer = b""

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)  # the client stays connected
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, answer
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            answer += message.get("body", b"")

    await app(scope, receive, send)
    return status, answer


def test_a_retry_while_the_first_request_is_still_running_answers_409(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    dispatcher = login(client, "dispatcher")
    incident = create(client, dispatcher).json()
    path = f"/api/incidents/{incident['id']}/notes"
    headers = keyed(dispatcher, "slow-note") | {"Content-Type": "application/json"}
    inside, release = threading.Event(), threading.Event()
    add_note = services.dispatch.add_note

    def slow_add_note(*args: Any, **kwargs: Any) -> None:
        inside.set()
        release.wait(10)
        add_note(*args, **kwargs)

    monkeypatch.setattr(services.dispatch, "add_note", slow_add_note)

    async def scenario() -> list[tuple[int, bytes]]:
        app = create_app(services)
        first = asyncio.create_task(_post(app, path, headers, b'{"text": "one"}'))
        while not inside.is_set():
            await asyncio.sleep(0.01)
        same = await _post(app, path, headers, b'{"text": "one"}')
        other = await _post(app, path, headers, b'{"text": "two"}')
        release.set()
        return [await first, same, other]

    (first, _), (same, same_body), (other, other_body) = asyncio.run(scenario())
    assert first == 204
    assert same == 409 and json.loads(same_body)["error"]["code"] == "idempotency_in_progress"
    assert other == 422 and json.loads(other_body)["error"]["code"] == "idempotency_key_reused"
    assert count(services, t.notes) == 1
