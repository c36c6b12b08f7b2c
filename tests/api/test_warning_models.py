"""The models and their warnings over HTTP: an analyst saves, back-tests, switches on and runs a
model (refusals with their codes, nothing stored); the warnings go to the stations concerned, in
lists and on the live stream, and a station acts on its own only."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from jingwu.api.routers.live import for_viewer
from jingwu.composition import Services
from jingwu.domain.access import Jurisdiction, Principal, Role
from jingwu.domain.events import EventType
from jingwu.domain.geo import GeoPoint
from jingwu.domain.status import SourceChannel
from jingwu.domain.watchlists import SubjectKind
from jingwu.service.dispatching import NewIncident
from tests.api.conftest import login
from tests.conftest import PASSWORD

# The routes on SQLite: what the two backends do differently (locks, indexes, sealed columns) is
# tested on both in tests/service/test_warning_models.py; here each test builds a city over HTTP.
pytestmark = pytest.mark.parametrize("migrated_database_url", ["sqlite"], indirect=True)

CENTRE = GeoPoint(45.7560, 126.6420)  # in "south"
NORTH_BANK = GeoPoint(45.8200, 126.6300)  # about 7 km north, in "north"
DOMESTIC = {
    "name": "家暴反复报警",
    "purpose": "同一地址 30 天内三次家庭纠纷或家暴警情，提醒社区民警上门走访",
    "kind": "repeat_address",
    "params": {"incident_types": ["dispute.family", "order.domestic_violence"], "window_days": 30},
    "sources": ["incidents"],
    "every_minutes": 60,
}
CLONED = {
    "name": "套牌车",
    "purpose": "同一车牌短时间内出现在相距很远的两地，疑似套牌",
    "kind": "plate_far_apart",
    "params": {"min_km": 5, "max_minutes": 30},
    "sources": ["checks"],
    "every_minutes": 10,
}


@pytest.fixture
def people(services: Services) -> Services:
    accounts = services.auth.accounts
    accounts.create_user("analyst", PASSWORD, Role.ANALYST)
    accounts.create_user("community-south", PASSWORD, Role.COMMUNITY_OFFICER, station_id="south")
    accounts.create_user("dispatcher-north", PASSWORD, Role.DISPATCHER, station_id="north")
    return services


def _calls(services: Services, count: int) -> None:
    for _ in range(count):
        services.dispatch.create_incident(
            NewIncident("dispute.family", CENTRE, SourceChannel.CALL_110, address="保健路 12 号"),
            actor="calltaker",
        )


def _switched_on(client: TestClient, analyst: dict[str, str], body: dict[str, Any]) -> str:
    created = client.post("/api/models", json=body, headers=analyst)
    assert created.status_code == 201, created.text
    model_id: str = created.json()["id"]
    tested = client.post(f"/api/models/{model_id}/backtest", json={"days": 30}, headers=analyst)
    assert tested.status_code == 201, tested.text
    enabled = client.post(f"/api/models/{model_id}/enable", headers=analyst)
    assert enabled.status_code == 200 and enabled.json()["enabled"] is True
    return model_id


def test_an_analyst_saves_backtests_switches_on_and_runs_a_model(
    client: TestClient, people: Services
) -> None:
    analyst = login(client, "analyst")
    bad = client.post(
        "/api/models", json=DOMESTIC | {"params": {"incident_types": ["nonsense"]}}, headers=analyst
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "bad_model_parameter"
    assert bad.json()["error"]["params"]["parameter"] == "incident_types"
    not_listed = client.post("/api/models", json=DOMESTIC | {"sources": ["checks"]}, headers=analyst)
    assert not_listed.status_code == 422 and not_listed.json()["error"]["code"] == "source_not_listed"
    assert client.get("/api/models", headers=analyst).json() == []

    created = client.post("/api/models", json=DOMESTIC, headers=analyst)
    assert created.status_code == 201
    model = created.json()
    assert (model["enabled"], model["version"], model["owner"], model["backtest"]) == (
        False,
        1,
        "analyst",
        None,
    )
    assert model["params"]["min_count"] == 3  # the default, stored
    refused = client.post(f"/api/models/{model['id']}/enable", headers=analyst)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_backtested"
    not_on = client.post(f"/api/models/{model['id']}/run", headers=analyst)
    assert not_on.status_code == 409 and not_on.json()["error"]["code"] == "model_not_enabled"

    _calls(people, 3)
    tested = client.post(f"/api/models/{model['id']}/backtest", json={"days": 30}, headers=analyst)
    assert tested.status_code == 201
    backtest = tested.json()
    assert backtest["steps"] == 30 and backtest["records_read"] == {"incidents": 3}
    # The three calls are of today: a warning at the last step, its follow-up not over yet.
    assert (backtest["warnings"], backtest["judged"], backtest["pending"], backtest["precision"]) == (
        1,
        0,
        1,
        None,
    )
    both = client.post(
        f"/api/models/{model['id']}/backtest", json={"days": 3, "start": "2026-01-01"}, headers=analyst
    )
    assert both.status_code == 422 and both.json()["error"]["code"] == "bad_backtest_period"
    assert client.post(f"/api/models/{model['id']}/enable", headers=analyst).json()["enabled"] is True

    ran = client.post(f"/api/models/{model['id']}/run", headers=analyst)
    assert ran.status_code == 201
    assert ran.json()["warnings_raised"] == 1 and ran.json()["records_read"] == {"incidents": 3}
    runs = client.get(f"/api/models/{model['id']}/runs", headers=analyst).json()
    assert [r["id"] for r in runs] == [ran.json()["id"]]
    shown = client.get(f"/api/models/{model['id']}", headers=analyst).json()
    assert shown["backtest"]["id"] == backtest["id"] and shown["last_run_at"] is not None

    edit = {**DOMESTIC, "params": {**DOMESTIC["params"], "min_count": 4}, "version": 1}
    edited = client.put(f"/api/models/{model['id']}", json=edit, headers=analyst)
    assert edited.status_code == 200
    assert (edited.json()["version"], edited.json()["enabled"], edited.json()["backtest"]) == (2, False, None)
    stale = client.put(f"/api/models/{model['id']}", json=edit, headers=analyst)
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_model"
    assert client.get("/api/models/mdl_none", headers=analyst).json()["error"]["code"] == "model_not_found"
    # A station's dispatcher reads warnings, and never writes models.
    dispatcher = login(client, "dispatcher")
    assert client.get("/api/models", headers=dispatcher).json()["error"]["code"] == "role_forbidden"


def test_a_station_sees_and_acts_on_its_own_warnings_only(client: TestClient, people: Services) -> None:
    analyst = login(client, "analyst")
    model_id = _switched_on(client, analyst, CLONED)
    checks = people.checks
    checks.check(
        SubjectKind.VEHICLE, "黑A9X527", reason="设卡检查", location=CENTRE, officer="a", unit_id=None
    )
    checks.check(
        SubjectKind.VEHICLE, "黑A9X527", reason="设卡检查", location=NORTH_BANK, officer="b", unit_id=None
    )
    ran = client.post(f"/api/models/{model_id}/run", headers=analyst).json()
    assert ran["warnings_raised"] == 2

    south = login(client, "community-south")
    mine = client.get("/api/warnings", headers=south).json()
    assert [w["station_id"] for w in mine] == ["south"]
    assert mine[0]["evidence"]["plate"] == "黑A***27" and "黑A9X527" not in str(mine[0])
    everyone = client.get("/api/warnings", headers=login(client, "dispatcher")).json()
    assert sorted(w["station_id"] for w in everyone) == ["north", "south"]
    north_id = next(w["id"] for w in everyone if w["station_id"] == "north")
    other = client.post(f"/api/warnings/{north_id}/acknowledge", headers=south)
    assert other.status_code == 403 and other.json()["error"]["code"] == "out_of_jurisdiction"
    elsewhere = client.get("/api/warnings?station_id=north", headers=south)
    assert elsewhere.status_code == 403
    acked = client.post(
        f"/api/warnings/{mine[0]['id']}/acknowledge", json={"note": "已安排走访"}, headers=south
    )
    assert acked.status_code == 200
    assert (acked.json()["status"], acked.json()["acted_by"], acked.json()["note"]) == (
        "acknowledged",
        "community-south",
        "已安排走访",
    )
    assert client.get("/api/warnings?status=new", headers=south).json() == []
    dismissed = client.post(f"/api/warnings/{mine[0]['id']}/dismiss", headers=south)
    assert dismissed.json()["status"] == "dismissed"
    again = client.post(f"/api/warnings/{mine[0]['id']}/acknowledge", headers=south)
    assert again.status_code == 409 and again.json()["error"]["code"] == "warning_closed"
    north = login(client, "dispatcher-north")
    assert [w["id"] for w in client.get("/api/warnings", headers=north).json()] == [north_id]


def _viewer(station: str, role: Role = Role.DISPATCHER) -> Principal:
    return Principal("x", "x", role, station, None, Jurisdiction.parse(f"station:{station}"))


def test_a_warning_reaches_the_station_concerned_on_the_live_stream_and_no_other(
    client: TestClient, people: Services
) -> None:
    analyst = login(client, "analyst")
    model_id = _switched_on(client, analyst, DOMESTIC)
    _calls(people, 3)
    token = login(client, "community-south")["Authorization"].split()[1]
    with client.websocket_connect(f"/api/events?access_token={token}") as ws:
        assert ws.receive_json()["type"] == "hello"
        ran = client.post(f"/api/models/{model_id}/run", headers=analyst).json()
        message = ws.receive_json()
        while message["type"] != "model.warning":
            message = ws.receive_json()
    warning = message["data"]["warning"]
    assert warning["id"] == ran["warning_ids"][0] and warning["station_id"] == "south"
    assert warning["evidence"]["incidents"] == 3 and message["data"]["model"]["id"] == model_id
    (logged,) = [m for m in people.event_log.events_after(0, 1000) if m.type == EventType.MODEL_WARNING]
    assert for_viewer(logged, _viewer("south"), people) is not None
    assert for_viewer(logged, _viewer("north"), people) is None
    # A patrol officer of the station watches the stream, but does not read warnings.
    assert for_viewer(logged, _viewer("south", Role.OFFICER), people) is None
