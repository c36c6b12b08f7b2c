from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from jingwu.api.limits import JSON_BODY_LIMIT
from jingwu.api.security_headers import content_security_policy
from tests.api.access_examples import checks, disputes, records, self_service
from tests.api.conftest import create, login
from tests.conftest import PASSWORD, FakeClock

# Routes open by design besides these two (the residents' phone sign-in, a certificate's check).
OPEN_ROUTES = set().union(*(m.OPEN for m in (records, checks, disputes, self_service)))


def test_healthz_answers_without_authentication(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "demo": False}


def test_every_route_but_health_and_login_refuses_an_anonymous_caller(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    checked = 0
    for path, methods in spec["paths"].items():
        if path in ("/healthz", "/api/auth/login"):
            continue
        concrete = path.replace("{incident_id}", "J1").replace("{unit_id}", "u0")
        for method in methods:
            if (method.upper(), path) in OPEN_ROUTES:
                continue
            response = client.request(method.upper(), concrete, json={})
            assert response.status_code == 401, (method, path, response.status_code)
            checked += 1
    assert checked >= 10


def test_login_with_wrong_password_is_refused(client: TestClient) -> None:
    response = client.post("/api/auth/login", json={"username": "dispatcher", "password": "nope-nope"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "bad_credentials"


def test_logout_revokes_the_token(client: TestClient) -> None:
    headers = login(client, "dispatcher")
    assert client.post("/api/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/units", headers=headers).status_code == 401


def test_incident_types_are_listed_with_chinese_and_english_names(client: TestClient) -> None:
    types = client.get("/api/incident-types", headers=login(client, "dispatcher")).json()
    robbery = next(t for t in types if t["code"] == "crim.robbery")
    assert robbery["name_zh"] == "抢劫" and robbery["default_priority"] == 1
    assert {"code", "name_zh", "name_en", "default_priority"} <= set(robbery)


def test_units_are_listed_with_status_and_position(client: TestClient) -> None:
    units = client.get("/api/units", headers=login(client, "dispatcher")).json()
    assert len(units) == 6
    assert {"id", "callsign", "kind", "station_id", "status", "position"} <= set(units[0])
    assert set(units[0]["position"]) >= {"lat", "lon", "ts"}


def test_dispatcher_creates_recommends_dispatches_and_sees_it_live(client: TestClient) -> None:
    headers = login(client, "dispatcher")
    token = headers["Authorization"].split()[1]
    with client.websocket_connect(f"/api/events?access_token={token}") as ws:
        hello = ws.receive_json()
        assert hello["type"] == "hello"
        created = create(client, headers, address="南岗区西大直街", description="两人持刀抢劫")
        assert created.status_code == 201, created.text
        incident = created.json()
        assert incident["status"] == "pending"
        recs = client.get(f"/api/incidents/{incident['id']}/recommendations?limit=3", headers=headers).json()
        assert len(recs) == 3
        assert [r["eta_s"] for r in recs] == sorted(r["eta_s"] for r in recs)
        assert {"unit_id", "callsign", "eta_s", "distance_m", "straight_line_m", "route"} <= set(recs[0])
        assert recs[0]["route"]["type"] == "LineString"
        first = recs[0]["unit_id"]
        dispatched = client.post(
            f"/api/incidents/{incident['id']}/dispatch", json={"unit_ids": [first]}, headers=headers
        )
        assert dispatched.status_code == 200, dispatched.text
        assert dispatched.json()["units"][0]["status"] == "dispatched"
        seen = []
        while True:
            message = ws.receive_json()
            if message["type"] == "unit.positions":
                continue
            seen.append(message)
            if message["type"] == "unit.status_changed":
                break
        assert seen[0]["type"] == "incident.created"
        assert message["unit_id"] == first and message["data"]["to"] == "dispatched"
        assert all(isinstance(m["id"], int) for m in seen)
    unit = client.get(f"/api/units/{first}", headers=headers).json()
    assert unit["status"] == "dispatched" and unit["incident_id"] == incident["id"]


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"type_code": "no.such.type"}, 422, "unknown_incident_type"),
        ({"priority": 7}, 422, "validation_failed"),
        ({"location": {"lat": 123, "lon": 126.6}}, 422, "validation_failed"),
        ({"location": {"lat": 45.7860, "lon": 126.5340}}, 422, "off_road"),  # in the Songhua
        ({"source": "carrier_pigeon"}, 422, "validation_failed"),
        ({"colour": "red"}, 422, "validation_failed"),  # unknown keys are refused, not ignored
        ({"priority": "2"}, 422, "validation_failed"),  # numbers must be JSON numbers
        ({"location": {"lat": "45.75", "lon": 126.64}}, 422, "validation_failed"),
    ],
)
def test_bad_incident_gets_a_clear_error_and_stores_nothing(
    client: TestClient, overrides: dict[str, Any], status: int, code: str
) -> None:
    headers = login(client, "dispatcher")
    response = create(client, headers, **overrides)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert client.get("/api/incidents", headers=headers).json() == []


def test_illegal_status_transition_is_a_409_naming_the_move(client: TestClient) -> None:
    headers = login(client, "dispatcher")
    response = client.post("/api/units/u1/status", json={"status": "on_scene"}, headers=headers)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "illegal_unit_transition"
    assert error["params"] == {"unit_id": "u1", "from_status": "available", "to_status": "on_scene"}
    assert client.get("/api/units/u1", headers=headers).json()["status"] == "available"


def test_officer_may_not_dispatch_or_move_another_unit(client: TestClient) -> None:
    dispatcher = login(client, "dispatcher")
    officer = login(client, "u0")
    incident = create(client, dispatcher).json()
    refused = client.post(
        f"/api/incidents/{incident['id']}/dispatch", json={"unit_ids": ["u0"]}, headers=officer
    )
    assert refused.status_code == 403
    other = client.post("/api/units/u1/status", json={"status": "busy"}, headers=officer)
    assert other.status_code == 403
    own = client.post("/api/units/u0/status", json={"status": "busy"}, headers=officer)
    assert own.status_code == 200 and own.json()["status"] == "busy"


def test_unknown_incident_is_a_404(client: TestClient) -> None:
    response = client.get("/api/incidents/J19990101-XXXXXX", headers=login(client, "dispatcher"))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "incident_not_found"


def test_live_stream_resumes_after_the_last_seen_event(client: TestClient) -> None:
    headers = login(client, "dispatcher")
    token = headers["Authorization"].split()[1]
    first = create(client, headers).json()
    with client.websocket_connect(f"/api/events?access_token={token}&after=0") as ws:
        assert ws.receive_json()["type"] == "hello"
        replayed = ws.receive_json()
        assert replayed["type"] == "incident.created" and replayed["incident_id"] == first["id"]
        last_seen = replayed["id"]
    missed = [create(client, headers).json()["id"] for _ in range(2)]
    with client.websocket_connect(f"/api/events?access_token={token}&after={last_seen}") as ws:
        assert ws.receive_json()["type"] == "hello"
        got = [ws.receive_json()["incident_id"] for _ in range(2)]
    assert got == missed


def test_live_stream_refuses_a_bad_token(client: TestClient) -> None:
    with (
        pytest.raises(WebSocketDisconnect) as err,
        client.websocket_connect("/api/events?access_token=nope") as ws,
    ):
        ws.receive_json()
    assert err.value.code == 4401


def test_backup_request_offers_units_not_on_the_incident(client: TestClient) -> None:
    headers = login(client, "dispatcher")
    incident = create(client, headers).json()
    client.post(f"/api/incidents/{incident['id']}/dispatch", json={"unit_ids": ["u0"]}, headers=headers)
    officer = login(client, "u0")
    backup = client.post(
        f"/api/incidents/{incident['id']}/backup", json={"reason": "嫌疑人持刀"}, headers=officer
    )
    assert backup.status_code == 200, backup.text
    assert backup.json() == []  # the officer raises the request; the dispatcher chooses
    offered = client.post(f"/api/incidents/{incident['id']}/backup", json={}, headers=headers).json()
    assert offered and all(r["unit_id"] != "u0" for r in offered)
    timeline = client.get(f"/api/incidents/{incident['id']}/timeline", headers=headers).json()
    assert "incident.backup_requested" in [e["type"] for e in timeline]


def test_unknown_route_and_method_answer_in_the_error_shape(client: TestClient) -> None:
    headers = login(client, "dispatcher")
    missing = client.get("/api/nope", headers=headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = client.delete("/api/incidents", headers=headers)
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"


def test_malformed_json_says_so(client: TestClient) -> None:
    response = client.post(
        "/api/incidents",
        content=b"{not json",
        headers=login(client, "dispatcher") | {"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["error"]["message"]


def test_home_and_api_docs_are_served_without_internet(client: TestClient) -> None:
    assert "Jingwu" in client.get("/").text
    docs = client.get("/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs and "cdn" not in docs
    bundle = client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.content) > 100_000


def test_login_ignores_the_case_of_the_user_name(client: TestClient) -> None:
    response = client.post("/api/auth/login", json={"username": "U0", "password": PASSWORD})
    assert response.status_code == 200 and response.json()["username"] == "u0"


def test_live_stream_refuses_a_bad_resume_id(client: TestClient) -> None:
    token = login(client, "dispatcher")["Authorization"].split()[1]
    with (
        pytest.raises(WebSocketDisconnect) as err,
        client.websocket_connect(f"/api/events?access_token={token}&after=abc") as ws,
    ):
        ws.receive_json()
    assert err.value.code == 4422


def test_unit_timeline_lists_its_dispatch_and_status_changes(client: TestClient) -> None:
    headers = login(client, "dispatcher")
    incident = create(client, headers).json()
    client.post(f"/api/incidents/{incident['id']}/dispatch", json={"unit_ids": ["u2"]}, headers=headers)
    client.post("/api/units/u2/status", json={"status": "en_route"}, headers=headers)
    timeline = client.get("/api/units/u2/timeline", headers=headers).json()
    changes = [e["data"]["to"] for e in timeline if e["type"] == "unit.status_changed"]
    assert changes == ["dispatched", "en_route"]
    assert client.get("/api/units/nobody/timeline", headers=headers).status_code == 404


def test_officer_may_not_recall_their_own_dispatch(client: TestClient) -> None:
    headers = login(client, "dispatcher")
    incident = create(client, headers).json()
    client.post(f"/api/incidents/{incident['id']}/dispatch", json={"unit_ids": ["u0"]}, headers=headers)
    officer = login(client, "u0")
    refused = client.post("/api/units/u0/status", json={"status": "available"}, headers=officer)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "recall_forbidden"
    assert client.get(f"/api/incidents/{incident['id']}", headers=headers).json()["status"] == "dispatched"
    recalled = client.post("/api/units/u0/status", json={"status": "available"}, headers=headers)
    assert recalled.status_code == 200


def test_close_answers_with_the_stored_version(client: TestClient) -> None:
    headers = login(client, "dispatcher")
    incident = create(client, headers).json()
    closed = client.post(
        f"/api/incidents/{incident['id']}/close", json={"disposition": "误报"}, headers=headers
    )
    stored = client.get(f"/api/incidents/{incident['id']}", headers=headers).json()
    assert closed.json()["version"] == stored["version"] == incident["version"] + 1


def test_position_from_the_future_is_refused_and_a_late_one_does_not_move_the_unit_back(
    client: TestClient,
) -> None:
    headers = login(client, "dispatcher")
    before = client.get("/api/units/u1", headers=headers).json()["position"]
    future = {"unit_id": "u1", "lat": 45.75, "lon": 126.63, "ts": "2999-01-01T00:00:00Z"}
    refused = client.post("/api/units/positions", json={"positions": [future]}, headers=headers)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "future_position"
    late = {"unit_id": "u1", "lat": 45.70, "lon": 126.60, "ts": "2020-01-01T00:00:00Z"}
    assert client.post("/api/units/positions", json={"positions": [late]}, headers=headers).status_code == 204
    assert client.get("/api/units/u1", headers=headers).json()["position"] == before


@pytest.mark.parametrize("after", ["abc", "²", "-1", "99999999999999999999999"])
def test_live_stream_refuses_a_malformed_resume_id(client: TestClient, after: str) -> None:
    token = login(client, "dispatcher")["Authorization"].split()[1]
    with (
        pytest.raises(WebSocketDisconnect) as err,
        client.websocket_connect(f"/api/events?access_token={token}&after={after}") as ws,
    ):
        ws.receive_json()
    assert err.value.code == 4422


def test_live_stream_resume_id_unknown_here_asks_for_a_reset(client: TestClient) -> None:
    token = login(client, "dispatcher")["Authorization"].split()[1]
    with client.websocket_connect(f"/api/events?access_token={token}&after=123456") as ws:
        hello = ws.receive_json()
    assert hello["type"] == "hello" and hello["reset"] is True


def test_live_stream_closes_when_the_session_is_revoked(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jingwu.api.routers import live

    monkeypatch.setattr(live, "TOKEN_RECHECK_S", 0.2)
    headers = login(client, "dispatcher")
    token = headers["Authorization"].split()[1]
    with client.websocket_connect(f"/api/events?access_token={token}") as ws:
        assert ws.receive_json()["type"] == "hello"
        client.post("/api/auth/logout", headers=headers)
        with pytest.raises(WebSocketDisconnect) as err:
            while True:
                ws.receive_json()
    assert err.value.code == 4401


def test_officer_stream_carries_only_their_own_units_positions(client: TestClient) -> None:
    dispatcher = login(client, "dispatcher")
    officer = login(client, "u0")
    units = {u["id"]: u["position"] for u in client.get("/api/units", headers=dispatcher).json()}
    token = officer["Authorization"].split()[1]
    with client.websocket_connect(f"/api/events?access_token={token}") as ws:
        ws.receive_json()  # hello
        others = [
            {"unit_id": uid, "lat": p["lat"], "lon": p["lon"]} for uid, p in units.items() if uid != "u0"
        ]
        assert (
            client.post("/api/units/positions", json={"positions": others}, headers=dispatcher).status_code
            == 204
        )
        own = {"unit_id": "u0", "lat": units["u0"]["lat"], "lon": units["u0"]["lon"], "heading": 90.0}
        both = [own, others[0]]
        assert (
            client.post("/api/units/positions", json={"positions": both}, headers=dispatcher).status_code
            == 204
        )
        # The first batch (other units only) never reaches the officer; of the second, only u0.
        message = ws.receive_json()
        assert message["type"] == "unit.positions"
        assert [p["unit_id"] for p in message["positions"]] == ["u0"]
        assert message["positions"][0]["heading"] == 90.0


def test_oversized_command_bodies_are_refused_before_anything_runs(client: TestClient) -> None:
    headers = login(client, "dispatcher")
    as_json = headers | {"Content-Type": "application/json"}
    refused = client.post("/api/incidents", content="x" * (JSON_BODY_LIMIT + 1), headers=as_json)
    assert refused.status_code == 413 and refused.json()["error"]["code"] == "body_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while read
        for _ in range(3):
            yield b" " * (JSON_BODY_LIMIT // 2)

    streamed = client.post("/api/incidents", content=chunks(), headers=as_json)
    assert streamed.status_code == 413
    assert client.get("/api/incidents", headers=headers).json() == []
    # A body under the limit still reaches its route whole.
    assert create(client, headers).status_code == 201


def test_a_status_tapped_offline_counts_when_it_was_tapped(
    clocked_client: TestClient, clock: FakeClock
) -> None:
    client = clocked_client
    dispatcher = login(client, "dispatcher")
    incident = create(client, dispatcher).json()
    client.post(f"/api/incidents/{incident['id']}/dispatch", json={"unit_ids": ["u0"]}, headers=dispatcher)
    officer = login(client, "u0")
    tapped = clock.now + timedelta(seconds=20)
    clock.advance(300)  # the terminal comes back into coverage five minutes later
    # Its last fix, from before the dead zone, is far from the scene: the officer confirmed.
    body = {"status": "on_scene", "occurred_at": tapped.isoformat(), "confirm_far": True}
    assert client.post("/api/units/u0/status", json=body, headers=officer).status_code == 200
    stages = client.get(f"/api/incidents/{incident['id']}", headers=dispatcher).json()["stage_times"]
    assert datetime.fromisoformat(stages["on_scene"]) == tapped
    future = {
        "status": "cleared",
        "disposition": "已处理",
        "occurred_at": (clock.now + timedelta(minutes=10)).isoformat(),
    }
    refused = client.post("/api/units/u0/status", json=future, headers=officer)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "future_time"
    assert client.get("/api/units/u0", headers=dispatcher).json()["status"] == "on_scene"


def test_pages_and_answers_carry_security_headers(client: TestClient) -> None:
    for path in ("/", "/terminal/", "/healthz", "/static/console/app.js"):
        answer = client.get(path)
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy, path
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert "strict-transport-security" not in answer.headers  # only over HTTPS
    # Swagger UI starts with one inline script; only its page allows that.
    assert "script-src 'self' 'unsafe-inline'" in client.get("/docs").headers["content-security-policy"]
    headers = login(client, "dispatcher")
    assert client.get("/api/units", headers=headers).headers["x-frame-options"] == "DENY"


def test_a_configured_tile_server_is_the_only_other_image_origin() -> None:
    policy = content_security_policy(tile_url="https://data.{s}.tiles.example/{z}/{x}/{y}.png", docs=False)
    assert "img-src 'self' data: blob: https://data.*.tiles.example;" in policy
    plain = content_security_policy(tile_url="https://tiles.example:8443/{z}/{x}/{y}.png", docs=False)
    assert "https://tiles.example:8443;" in plain
    assert "tiles" not in content_security_policy(tile_url=None, docs=False)
    # Live views and clips play from blob: URLs; media from anywhere else stays refused.
    assert "media-src 'self' blob:;" in plain


def test_pages_may_open_a_websocket_only_to_their_own_host(client: TestClient) -> None:
    policy = client.get("/", headers={"Host": "jingwu.example:8443"}).headers["Content-Security-Policy"]
    assert "connect-src 'self' ws://jingwu.example:8443 wss://jingwu.example:8443;" in policy
    forged = client.get("/", headers={"Host": "evil.example; script-src *"}).headers[
        "Content-Security-Policy"
    ]
    assert "connect-src 'self';" in forged and "evil" not in forged
    assert " ws: " not in policy and "wss: " not in policy
