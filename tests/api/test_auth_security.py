"""Security of log-in over HTTP: the audit trail of log-ins and its admin-only, audited reading."""

from __future__ import annotations

from fastapi.testclient import TestClient
from httpx import Response

from jingwu.composition import Services
from jingwu.domain import totp
from jingwu.service.auth import Role
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
    trail = [
        (r["action"], r["actor"], r["target"], r["outcome"], r["source"])
        for r in _records(services)
        if r["action"] != "auth.user_created"
    ]
    assert trail == [
        ("auth.login", "dispatcher", "dispatcher", "ok", "testclient"),
        ("auth.login_failed", None, "dispatcher", "refused", "testclient"),
        ("auth.login_failed", None, "nobody", "refused", "testclient"),
        ("auth.logout", "dispatcher", "dispatcher", "ok", "testclient"),
    ]
    assert services.audit.verify().intact


def test_password_changes_are_audited(services: Services) -> None:
    services.auth.accounts.set_password("dispatcher", "another-long-password", actor="admin", source="cli")
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


def test_a_guesser_elsewhere_leaves_the_owner_able_to_log_in_told_and_an_admin_unlocks(
    client: TestClient, services: Services
) -> None:
    wrong = {"username": "dispatcher", "password": "wrong-password"}
    with TestClient(client.app, client=("203.0.113.9", 40000)) as guesser:
        for _ in range(5):
            answer = guesser.post("/api/auth/login", json=wrong)
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "account_locked"
        owner = client.post("/api/auth/login", json={"username": "dispatcher", "password": PASSWORD})
        assert owner.status_code == 200, owner.text
        (told,) = owner.json()["failed_logins"]
        assert (told["source"], told["count"]) == ("203.0.113.9", 5)
        add_user(services, "admin", Role.ADMIN)
        admin = login(client, "admin")
        assert (
            client.post("/api/users/dispatcher/unlock", headers=login(client, "dispatcher")).status_code
            == 403
        )
        unlocked = client.post("/api/users/DISPATCHER/unlock", headers=admin)
        assert unlocked.status_code == 200 and unlocked.json() == {"unlocked": 1}
        right = guesser.post("/api/auth/login", json={"username": "dispatcher", "password": PASSWORD})
        assert right.status_code == 200 and right.json()["failed_logins"] == []
    (record,) = [r for r in _records(services) if r["action"] == "auth.unlocked"]
    assert (record["actor"], record["target"], record["source"]) == ("admin", "dispatcher", "testclient")


# ------------------------------------------------------------------------- TOTP second factor


def _code(secret: str, clock: FakeClock) -> str:
    return totp.totp(totp.decode_secret(secret), clock.now.timestamp())


def _log_in(client: TestClient, username: str, code: str | None = None) -> Response:
    body = {"username": username, "password": PASSWORD} | ({"totp": code} if code is not None else {})
    return client.post("/api/auth/login", json=body)


def test_a_required_second_factor_over_http(
    clocked_client: TestClient, clocked_services: Services, clock: FakeClock
) -> None:
    clocked_services.auth.second_factor.require_totp = True
    not_enrolled = _log_in(clocked_client, "dispatcher")
    assert not_enrolled.status_code == 401
    assert not_enrolled.json()["error"]["code"] == "totp_not_enrolled"
    assert "jingwu user-totp" in not_enrolled.json()["error"]["message"]
    # Officers are not asked.
    assert _log_in(clocked_client, "u0").status_code == 200
    secret = clocked_services.auth.second_factor.enrol("dispatcher", source="cli").secret
    required = _log_in(clocked_client, "dispatcher")
    assert required.status_code == 401 and required.json()["error"]["code"] == "totp_required"
    code = _code(secret, clock)
    ok = _log_in(clocked_client, "dispatcher", code)
    assert ok.status_code == 200, ok.text
    replayed = _log_in(clocked_client, "dispatcher", code)
    assert replayed.status_code == 401 and replayed.json()["error"]["code"] == "bad_totp"
    for malformed in ("12345", "123456789", "12345a", 123456):
        assert _log_in(clocked_client, "dispatcher", malformed).status_code == 422  # type: ignore[arg-type]
    whys = [r["details"].get("why") for r in _records(clocked_services) if r["action"] == "auth.login_failed"]
    assert whys == ["totp_not_enrolled", "totp_required", "bad_totp"]
    assert clocked_services.audit.verify().intact


def test_self_enrolment_and_confirmation_over_http(
    clocked_client: TestClient, clocked_services: Services, clock: FakeClock
) -> None:
    headers = login(clocked_client, "u0")
    enrolled = clocked_client.post("/api/auth/totp/enrol", headers=headers)
    assert enrolled.status_code == 200, enrolled.text
    assert enrolled.headers["cache-control"] == "no-store"
    body = enrolled.json()
    assert body["otpauth_uri"].startswith("otpauth://totp/Jingwu:u0?secret=" + body["secret"])
    # Pending: the password alone still opens a session.
    assert _log_in(clocked_client, "u0").status_code == 200
    wrong = str((int(_code(body["secret"], clock)) + 1) % 10**6).zfill(6)
    refused = clocked_client.post("/api/auth/totp/confirm", json={"code": wrong}, headers=headers)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "bad_totp"
    confirmed = clocked_client.post(
        "/api/auth/totp/confirm", json={"code": _code(body["secret"], clock)}, headers=headers
    )
    assert confirmed.status_code == 204, confirmed.text
    again = clocked_client.post("/api/auth/totp/enrol", headers=headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "totp_already_enrolled"
    # Active now: asked for at every log-in, policy or not.
    assert _log_in(clocked_client, "u0").json()["error"]["code"] == "totp_required"
    clock.advance(30)
    assert _log_in(clocked_client, "u0", _code(body["secret"], clock)).status_code == 200
    actions = [r["action"] for r in _records(clocked_services)]
    assert actions.count("auth.totp_enrolled") == 1 and actions.count("auth.totp_confirmed") == 2
