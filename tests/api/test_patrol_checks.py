"""The patrol-check and watch-list routes as the issue fixes them: paths, fields, codes, who may
call them, and a hit reaching the live stream of the consoles whose jurisdiction holds it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from jingwu.api.routers.live import for_viewer
from jingwu.bus import BusMessage
from jingwu.composition import Services
from jingwu.domain.access import Jurisdiction, Principal
from jingwu.domain.identity import id_check_char
from jingwu.service.auth import Role
from tests.api.conftest import CENTRE, login
from tests.conftest import PASSWORD

# The routes on SQLite: what the two backends do differently (locks, indexes, sealed columns) is
# tested on both in tests/service/checks/; here each test builds a city over HTTP.
pytestmark = pytest.mark.parametrize("migrated_database_url", ["sqlite"], indirect=True)

ID17 = "23010319900101123"
WANTED = ID17 + id_check_char(ID17)
NORTH_PLACE = {"lat": 45.80, "lon": 126.60}


@pytest.fixture
def chief(services: Services) -> str:
    services.auth.accounts.create_user(
        "chief",
        PASSWORD,
        Role.COMMANDER,
        station_id="south",
        jurisdiction=Jurisdiction.parse("station:south"),
    )
    return "chief"


def _add(client: TestClient, headers: dict[str, str], list_: str, **body: Any) -> Any:
    return client.post(f"/api/watchlists/{list_}/entries", json=body, headers=headers)


def test_an_entry_added_by_a_commander_hits_an_officers_check(client: TestClient, chief: str) -> None:
    boss = login(client, chief)
    added = _add(client, boss, "wanted", subject=WANTED, reason="网上追逃", label="王五")
    assert added.status_code == 201, added.text
    entry = added.json()
    assert entry["list"] == "wanted" and entry["added_by"] == "chief" and entry["reason"] == "网上追逃"
    officer = login(client, "u0")
    answer = client.post(
        "/api/checks/person",
        json={"id_number": WANTED, "reason": "形迹可疑", "location": CENTRE},
        headers=officer,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["result"] == "hit" and body["check_id"]
    assert [h["entry_id"] for h in body["hits"]] == [entry["entry_id"]]
    assert body["instruction"]["danger"] == "danger"
    clear = client.post("/api/checks/vehicle", json={"plate": "黑A12345", "reason": "例行"}, headers=officer)
    assert clear.status_code == 200 and clear.json()["result"] == "clear" and clear.json()["hits"] == []


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("/api/checks/person", {"id_number": ID17 + "Y", "reason": "盘查"}, "bad_id_number_format"),
        (
            "/api/checks/person",
            {"id_number": ID17 + ("0" if id_check_char(ID17) != "0" else "1"), "reason": "盘查"},
            "bad_id_checksum",
        ),
        ("/api/checks/person", {"id_number": "23010319901301123" + "0", "reason": "盘查"}, "bad_id_checksum"),
        ("/api/checks/vehicle", {"plate": "黑A1234", "reason": "盘查"}, "bad_plate"),
        ("/api/checks/vehicle", {"plate": "黑A12345", "reason": " "}, "reason_required"),
        ("/api/checks/vehicle", {"plate": "黑A12345", "reason": ""}, "reason_required"),
    ],
)
def test_bad_checks_are_422_with_their_code_and_store_nothing(
    client: TestClient, services: Services, path: str, body: dict[str, Any], code: str
) -> None:
    officer = login(client, "u0")
    answer = client.post(path, json=body, headers=officer)
    assert answer.status_code == 422 and answer.json()["error"]["code"] == code, answer.text
    assert services.checks.recent_checks(actor="t", full=True, station_ids=None) == []


def test_watch_list_routes_refuse_unknown_lists_bad_subjects_and_officers(
    client: TestClient, chief: str
) -> None:
    boss = login(client, chief)
    unknown = _add(client, boss, "terrorists", subject=WANTED, reason="x")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_watchlist"
    plate_on_person_list = _add(client, boss, "wanted", subject="黑A12345", reason="追逃")
    assert plate_on_person_list.json()["error"]["code"] == "bad_id_number_format"
    person_on_vehicle_list = _add(client, boss, "stolen_vehicle", subject=WANTED, reason="被盗")
    assert person_on_vehicle_list.json()["error"]["code"] == "bad_plate"
    no_reason = _add(client, boss, "stolen_vehicle", subject="黑A12345", reason="  ")
    assert no_reason.json()["error"]["code"] == "reason_required"
    past = _add(
        client,
        boss,
        "stolen_vehicle",
        subject="黑A12345",
        reason="被盗",
        expires_at="2020-01-01T00:00:00+08:00",
    )
    assert past.json()["error"]["code"] == "expiry_in_past"
    listed = client.get("/api/watchlists/stolen_vehicle/entries", headers=boss)
    assert listed.status_code == 200 and listed.json()["total"] == 0  # nothing stored on a refusal
    officer = login(client, "u0")
    refused = _add(client, officer, "stolen_vehicle", subject="黑A12345", reason="被盗")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "role_forbidden"


def test_entries_are_paged_and_removed(client: TestClient, chief: str) -> None:
    boss = login(client, chief)
    ids = [
        _add(client, boss, "vehicle_of_interest", subject=f"黑A1234{i}", reason="关注").json()["entry_id"]
        for i in range(5)
    ]
    first = client.get("/api/watchlists/vehicle_of_interest/entries?limit=2", headers=boss).json()
    assert first["total"] == 5 and len(first["entries"]) == 2 and first["next_offset"] == 2
    last = client.get("/api/watchlists/vehicle_of_interest/entries?limit=2&offset=4", headers=boss).json()
    assert last["next_offset"] is None and last["entries"][0]["entry_id"] == ids[0]
    gone = client.delete(f"/api/watchlists/vehicle_of_interest/entries/{ids[0]}", headers=boss)
    assert gone.status_code == 204
    again = client.delete(f"/api/watchlists/vehicle_of_interest/entries/{ids[0]}", headers=boss)
    assert again.status_code == 404 and again.json()["error"]["code"] == "watchlist_entry_not_found"
    assert client.get("/api/watchlists/vehicle_of_interest/entries", headers=boss).json()["total"] == 4
    officer = login(client, "u0")
    check = client.post("/api/checks/vehicle", json={"plate": "黑A12340", "reason": "例行"}, headers=officer)
    assert check.json()["result"] == "clear"


def test_a_hit_reaches_the_live_stream(client: TestClient, chief: str) -> None:
    boss = login(client, chief)
    _add(client, boss, "wanted", subject=WANTED, reason="网上追逃")
    token = login(client, "dispatcher")["Authorization"].split()[1]
    with client.websocket_connect(f"/api/events?access_token={token}") as ws:
        assert ws.receive_json()["type"] == "hello"
        officer = login(client, "u0")
        client.post("/api/checks/person", json={"id_number": WANTED, "reason": "盘查"}, headers=officer)
        message = ws.receive_json()
        while message["type"] != "check.hit":
            message = ws.receive_json()
    assert message["data"]["check"]["officer"] == "u0" and message["unit_id"] == "u0"


def _station_principal(station: str) -> Principal:
    return Principal("x", "x", Role.DISPATCHER, station, None, Jurisdiction.parse(f"station:{station}"))


def test_a_hit_goes_to_the_station_of_the_place_or_of_the_unit(services: Services) -> None:
    def hit(check_station: str | None, unit_station: str | None) -> BusMessage:
        data: dict[str, Any] = {"check": {"station_id": check_station}}
        if unit_station:
            data["unit"] = {"station_id": unit_station}
        payload = {"id": 1, "type": "check.hit", "unit_id": "u9", "incident_id": None, "data": data}
        return BusMessage(id=1, type="check.hit", payload=payload)

    south, north = _station_principal("south"), _station_principal("north")
    assert for_viewer(hit("north", "south"), south, services) is not None  # the officer's unit
    assert for_viewer(hit("north", "south"), north, services) is not None  # the place
    assert for_viewer(hit("south", "south"), north, services) is None
