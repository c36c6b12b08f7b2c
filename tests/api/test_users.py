"""Account administration over HTTP: only an admin lists and changes accounts, resets passwords
and ends sessions; each change takes effect at once and is in the audit log."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from jingwu.composition import Services
from jingwu.service.auth import Role
from tests.api.conftest import login
from tests.conftest import PASSWORD, add_user


@pytest.fixture
def admin(client: TestClient, services: Services) -> dict[str, str]:
    add_user(services, "admin", Role.ADMIN)
    return login(client, "admin")


def _code(answer: Any) -> str:
    code: str = answer.json()["error"]["code"]
    return code


def _records(services: Services, action: str) -> list[dict[str, Any]]:
    return [r.to_dict() for r in reversed(services.audit.page(limit=500)) if r.action == action]


def test_an_admin_lists_the_accounts_without_their_secrets(client: TestClient, admin: dict[str, str]) -> None:
    answer = client.get("/api/users", headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    users = {u["username"]: u for u in answer.json()}
    assert set(users) == {"admin", "dispatcher", "u0"}
    assert users["u0"] | {"created_at": None} == {
        "username": "u0",
        "display_name": None,
        "role": "officer",
        "jurisdiction": "station:south",  # the station of its unit
        "station_id": "south",
        "unit_id": "u0",
        "disabled": False,
        "totp": "none",
        "locked_until": None,
        "created_at": None,
    }
    assert "hash" not in answer.text and "secret" not in answer.text


def test_only_an_admin_administers_accounts(client: TestClient, services: Services) -> None:
    dispatcher = login(client, "dispatcher")
    for method, path, body in [
        ("GET", "/api/users", None),
        ("PATCH", "/api/users/u0", {"disabled": True}),
        ("POST", "/api/users/u0/password", {"password": "another-long-password-7"}),
        ("POST", "/api/users/u0/sessions/end", None),
    ]:
        answer = client.request(method, path, json=body, headers=dispatcher)
        assert answer.status_code == 403 and _code(answer) == "role_forbidden", answer.text
        assert answer.json()["error"]["params"]["allowed"] == ["admin"]
    assert client.post("/api/auth/login", json={"username": "u0", "password": PASSWORD}).status_code == 200
    assert not _records(services, "auth.user_changed") and not _records(services, "auth.sessions_ended")


def test_a_demoted_dispatchers_old_token_ends_and_the_new_log_in_has_the_new_powers(
    client: TestClient, services: Services, admin: dict[str, str]
) -> None:
    old = login(client, "dispatcher")
    assert "incident.command" in client.get("/api/auth/me", headers=old).json()["permissions"]
    answer = client.patch("/api/users/dispatcher", json={"role": "analyst"}, headers=admin)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["role"], answer.json()["jurisdiction"]) == ("analyst", "city")
    refused = client.get("/api/auth/me", headers=old)
    assert refused.status_code == 401 and _code(refused) == "bad_token"
    new = login(client, "dispatcher")
    me = client.get("/api/auth/me", headers=new).json()
    assert me["role"] == "analyst" and "incident.command" not in me["permissions"]
    assert client.get("/api/incidents", headers=new).status_code == 200
    command = client.post("/api/units/u1/status", json={"status": "busy"}, headers=new)
    assert command.status_code == 403 and _code(command) == "role_forbidden"
    (record,) = _records(services, "auth.user_changed")
    assert (record["actor"], record["target"], record["source"]) == ("admin", "dispatcher", "testclient")
    assert record["details"] == {
        "before": {"role": "dispatcher"},
        "after": {"role": "analyst"},
        "sessions_ended": 1,
    }


def test_a_disabled_user_is_out_until_enabled(client: TestClient, admin: dict[str, str]) -> None:
    phone = login(client, "u0")
    answer = client.patch("/api/users/u0", json={"disabled": True}, headers=admin)
    assert answer.status_code == 200 and answer.json()["disabled"] is True
    assert _code(client.get("/api/auth/me", headers=phone)) == "bad_token"
    refused = client.post("/api/auth/login", json={"username": "u0", "password": PASSWORD})
    assert refused.status_code == 401 and _code(refused) == "bad_credentials"
    assert client.patch("/api/users/u0", json={"disabled": False}, headers=admin).status_code == 200
    login(client, "u0")


def test_unit_and_station_changes_name_known_ones_and_the_unit_brings_its_station(
    client: TestClient, services: Services, admin: dict[str, str]
) -> None:
    moved = client.patch("/api/users/u0", json={"unit_id": "u3"}, headers=admin)
    assert moved.status_code == 200, moved.text
    assert (moved.json()["unit_id"], moved.json()["station_id"]) == ("u3", "south")
    desk = client.patch("/api/users/u0", json={"unit_id": None, "station_id": "north"}, headers=admin).json()
    assert (desk["unit_id"], desk["station_id"], desk["jurisdiction"]) == (None, "north", "station:north")
    for body, status, code in [
        ({"unit_id": "nope"}, 404, "unit_not_found"),
        ({"station_id": "nope"}, 404, "station_not_found"),
    ]:
        answer = client.patch("/api/users/u0", json=body, headers=admin)
        assert answer.status_code == status and _code(answer) == code, answer.text


@pytest.mark.parametrize(
    ("username", "body", "status", "code", "message"),
    [
        ("u0", {"jurisdiction": "province:黑龙江"}, 422, "bad_jurisdiction", "unknown jurisdiction"),
        ("u0", {"jurisdiction": "station"}, 422, "bad_jurisdiction", "name the district or station"),
        ("u0", {"role": "chief"}, 422, "validation_failed", "role"),
        ("u0", {"colour": "red"}, 422, "validation_failed", "colour"),
        ("u0", {"role": "device"}, 409, "device_role_fixed", "create a new account"),
        ("nobody", {"disabled": True}, 404, "user_not_found", "no user 'nobody'"),
        ("admin", {"role": "commander"}, 409, "last_admin", "last enabled admin"),
        ("admin", {"disabled": True}, 409, "last_admin", "last enabled admin"),
    ],
)
def test_a_change_is_refused_for_what_is_wrong_with_it(
    client: TestClient,
    services: Services,
    admin: dict[str, str],
    username: str,
    body: dict[str, Any],
    status: int,
    code: str,
    message: str,
) -> None:
    answer = client.patch(f"/api/users/{username}", json=body, headers=admin)
    assert answer.status_code == status and _code(answer) == code, answer.text
    assert message in answer.json()["error"]["message"]
    assert not _records(services, "auth.user_changed")
    assert client.get("/api/auth/me", headers=admin).status_code == 200


def test_an_admin_resets_a_password_and_the_old_sessions_end(
    client: TestClient, services: Services, admin: dict[str, str]
) -> None:
    phone = login(client, "u0")
    weak = client.post("/api/users/u0/password", json={"password": "short"}, headers=admin)
    assert weak.status_code == 422 and _code(weak) == "weak_password"
    answer = client.post(
        "/api/users/u0/password", json={"password": "another-long-password-7"}, headers=admin
    )
    assert answer.status_code == 200 and answer.json()["username"] == "u0"
    assert answer.headers["Cache-Control"] == "no-store"
    assert _code(client.get("/api/auth/me", headers=phone)) == "bad_token"
    assert client.post("/api/auth/login", json={"username": "u0", "password": PASSWORD}).status_code == 401
    new = client.post("/api/auth/login", json={"username": "u0", "password": "another-long-password-7"})
    assert new.status_code == 200
    (record,) = _records(services, "auth.password_changed")
    assert (record["actor"], record["target"], record["source"]) == ("admin", "u0", "testclient")


def test_ending_a_users_sessions_revokes_them_once_even_when_the_request_is_retried(
    client: TestClient, services: Services, admin: dict[str, str]
) -> None:
    phones = [login(client, "u0") for _ in range(2)]
    retry = admin | {"Idempotency-Key": "end-u0-1"}
    first = client.post("/api/users/u0/sessions/end", headers=retry)
    assert first.status_code == 200 and first.json() == {"ended": 2}
    for phone in phones:
        assert _code(client.get("/api/auth/me", headers=phone)) == "bad_token"
    again = client.post("/api/users/u0/sessions/end", headers=retry)
    assert again.json() == {"ended": 2} and again.headers["Idempotent-Replayed"] == "true"
    assert [r["details"] for r in _records(services, "auth.sessions_ended")] == [{"sessions_ended": 2}]
    # Ended, not barred: the officer logs in again.
    login(client, "u0")
    missing = client.post("/api/users/nobody/sessions/end", headers=admin)
    assert missing.status_code == 404 and _code(missing) == "user_not_found"


@pytest.mark.parametrize(
    ("username", "body", "message"),
    [
        ("u0", {"jurisdiction": "city"}, "an officer's jurisdiction is a station or a district"),
        ("u0", {"jurisdiction": "own"}, "only residents and devices have the jurisdiction own"),
        ("u0", {"jurisdiction": "station:nope"}, "there is no station 'nope'"),
        ("u0", {"jurisdiction": "district:道里区"}, "no station lies in a district '道里区'"),
        ("u0", {"role": "resident", "jurisdiction": "station:south"}, "its jurisdiction is own"),
        # A city dispatcher made an officer with no unit or station would keep the whole city.
        ("dispatcher", {"role": "officer"}, "bind the officer to a unit or a station"),
    ],
)
def test_a_jurisdiction_the_role_may_not_hold_is_422_bad_jurisdiction(
    client: TestClient,
    services: Services,
    admin: dict[str, str],
    username: str,
    body: dict[str, Any],
    message: str,
) -> None:
    before = client.get("/api/users", headers=admin).json()
    answer = client.patch(f"/api/users/{username}", json=body, headers=admin)
    assert answer.status_code == 422 and _code(answer) == "bad_jurisdiction", answer.text
    assert message in answer.json()["error"]["message"]
    assert client.get("/api/users", headers=admin).json() == before
    assert not _records(services, "auth.user_changed")


def test_a_dispatcher_made_an_officer_of_a_unit_covers_the_units_station(
    client: TestClient, admin: dict[str, str]
) -> None:
    answer = client.patch("/api/users/dispatcher", json={"role": "officer", "unit_id": "u1"}, headers=admin)
    assert answer.status_code == 200, answer.text
    changed = answer.json()
    assert (changed["role"], changed["unit_id"], changed["station_id"]) == ("officer", "u1", "south")
    assert changed["jurisdiction"] == "station:south"
