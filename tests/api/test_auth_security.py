"""Security of log-in over HTTP: the audit trail of log-ins and its admin-only, audited reading."""

from __future__ import annotations

from fastapi.testclient import TestClient

from jingwu.service.auth import Role
from jingwu.services import Services
from tests.api.conftest import login
from tests.conftest import PASSWORD, FakeClock, add_user


def _records(services: Services) -> list[dict[str, object]]:
    return [r.to_dict() for r in reversed(services.audit.page(limit=500))]


def test_log_ins_failures_and_log_outs_are_audited_with_the_client_address(
    client: TestClient, services: Services
) -> None:
    headers = login(client, "dispatcher")
    assert (
        client.post("/api/auth/login", json={"username": "dispatcher", "password": "wrong-wrong"}).status_code
        == 401
    )
    assert (
        client.post("/api/auth/login", json={"username": "nobody", "password": "wrong-wrong"}).status_code
        == 401
    )
    assert client.post("/api/auth/logout", headers=headers).status_code == 204
    trail = [(r["action"], r["actor"], r["target"], r["outcome"], r["source"]) for r in _records(services)]
    assert trail == [
        ("auth.login", "dispatcher", "dispatcher", "ok", "testclient"),
        ("auth.login_failed", None, "dispatcher", "refused", "testclient"),
        ("auth.login_failed", None, "nobody", "refused", "testclient"),
        ("auth.logout", "dispatcher", "dispatcher", "ok", "testclient"),
    ]
    assert services.audit.verify().intact


def test_password_changes_are_audited(services: Services) -> None:
    services.auth.set_password("dispatcher", "another-long-password", actor="admin", source="cli")
    (record,) = [r for r in _records(services) if r["action"] == "auth.password_changed"]
    assert (record["actor"], record["target"], record["source"]) == ("admin", "dispatcher", "cli")


def test_only_an_admin_reads_the_audit_log_and_each_read_is_audited(
    client: TestClient, services: Services
) -> None:
    assert client.get("/api/audit").status_code == 401
    refused = client.get("/api/audit", headers=login(client, "dispatcher"))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "role_forbidden"
    add_user(services, "admin", Role.ADMIN)
    admin = login(client, "admin")
    first = client.get("/api/audit", params={"limit": 2}, headers=admin)
    assert first.status_code == 200, first.text
    page = first.json()
    # Newest first: the read itself is already on the log.
    assert [r["action"] for r in page["records"]] == ["audit.read", "auth.login"]
    assert page["records"][0]["actor"] == "admin"
    older = client.get("/api/audit", params={"before_id": page["next_before_id"]}, headers=admin).json()
    assert [r["id"] for r in older["records"]] == list(range(page["next_before_id"] - 1, 0, -1))
    assert older["next_before_id"] is None
    assert [r["action"] for r in _records(services)].count("audit.read") == 2
    assert services.audit.verify().intact


def test_password_is_still_the_only_factor_by_default(client: TestClient) -> None:
    response = client.post("/api/auth/login", json={"username": "u0", "password": PASSWORD})
    assert response.status_code == 200


def test_lock_out_and_idle_sessions_answer_with_their_own_codes(
    clocked_client: TestClient, clocked_services: Services, clock: FakeClock
) -> None:
    headers = login(clocked_client, "dispatcher")
    clock.advance(clocked_services.settings.idle_timeout_s + 1)
    idle = clocked_client.get("/api/auth/me", headers=headers)
    assert idle.status_code == 401 and idle.json()["error"]["code"] == "session_idle"
    for _ in range(5):
        answer = clocked_client.post("/api/auth/login", json={"username": "u0", "password": "wrong-password"})
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "account_locked"
    assert answer.json()["error"]["params"]["locked_until"]
