"""The disputes API behind the real app: refusals that change nothing, jurisdiction, the parties'
data read on purpose, and a new call shown beside the dispute at its address."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jingwu.composition import Services
from jingwu.service.auth import Role
from tests.api.conftest import CENTRE, create, login
from tests.conftest import add_user

# The routes on SQLite: what the two backends do differently (locks, indexes, sealed columns) is
# tested on both in tests/service/disputes/; here each test builds a city over HTTP.
pytestmark = pytest.mark.parametrize("migrated_database_url", ["sqlite"], indirect=True)

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x01" * 64
NORTH_POINT = {"lat": 45.8171008, "lon": 126.5889644}  # on a road of the north bank


@pytest.fixture
def officers(services: Services) -> None:
    services.auth.accounts.create_user(
        "community-south", "correct-horse-battery", Role.COMMUNITY_OFFICER, station_id="south"
    )
    services.auth.accounts.create_user(
        "community-north", "correct-horse-battery", Role.COMMUNITY_OFFICER, station_id="north"
    )
    add_user(services, "analyst", Role.ANALYST)


def _body(**overrides: Any) -> dict[str, Any]:
    return {
        "kind": "family",
        "summary": "夫妻争吵，扬言动手",
        "address": "保健路 12 号 3 单元 501",
        "location": CENTRE,
        "parties": [{"name": "王建国", "phone": "138 1234 5678", "role": "applicant"}, {"name": "李秀梅"}],
        "risk_factors": ["violence_threatened"],
    } | overrides


def _count(client: TestClient, headers: dict[str, str]) -> int:
    answer = client.get("/api/disputes?status=all", headers=headers)
    assert answer.status_code == 200, answer.text
    return len(answer.json())


def test_bad_input_is_refused_with_its_code_and_stores_nothing(client: TestClient, officers: None) -> None:
    south = login(client, "community-south")
    for overrides, status, code in (
        ({"kind": "marital"}, 422, "bad_dispute_kind"),
        ({"risk_factors": ["bad_mood"]}, 422, "bad_risk_factor"),
        ({"parties": []}, 422, "parties_required"),
        ({"parties": [{"name": "张三", "phone": "110"}]}, 422, "bad_phone"),
        ({"parties": [{"name": "张三", "id_number": "230103199001011234"}]}, 422, "bad_id_checksum"),
        ({"parties": [{"name": "张三", "role": "judge"}]}, 422, "bad_party_role"),
        ({"officer": "nobody-such"}, 422, "unknown_officer"),
        ({"location": {"lat": 95.0, "lon": 126.6}}, 422, "validation_failed"),
    ):
        answer = client.post("/api/disputes", json=_body(**overrides), headers=south)
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), (
            overrides,
            answer.text,
        )
    assert _count(client, south) == 0


def test_a_case_is_opened_worked_and_closed_by_its_community_officer(
    client: TestClient, officers: None
) -> None:
    south = login(client, "community-south")
    opened = client.post("/api/disputes", json=_body(), headers=south)
    assert opened.status_code == 201, opened.text
    case = opened.json()
    assert case["officer"] == "community-south" and case["station_id"] == "south"
    assert case["risk_level"] == "high" and [p["name"] for p in case["parties"]] == ["王**", "李**"]
    path = f"/api/disputes/{case['id']}"
    visit = client.post(f"{path}/visits", json={"id": "dvs_offline_0001", "note": "上门调解"}, headers=south)
    assert visit.status_code == 201, visit.text
    not_image = client.post(
        f"{path}/visits/dvs_offline_0001/photos",
        content=b"GIF89a....",
        headers=south | {"Content-Type": "image/png"},
    )
    assert not_image.status_code == 415
    photo = client.post(
        f"{path}/visits/dvs_offline_0001/photos", content=PNG, headers=south | {"Content-Type": "image/png"}
    )
    assert photo.status_code == 201, photo.text
    assert client.get(f"/api/disputes/photos/{photo.json()['id']}", headers=south).content == PNG
    past = client.post(f"{path}/follow-ups", json={"due_on": "2001-01-01"}, headers=south)
    assert past.json()["error"]["code"] == "follow_up_in_past"
    follow = client.post(f"{path}/follow-ups", json={"due_on": "2099-01-01", "note": "回访"}, headers=south)
    assert follow.status_code == 201, follow.text
    agreed = client.post(f"{path}/agreements", json={"text": "双方签订调解协议"}, headers=south)
    assert agreed.status_code == 201, agreed.text
    stale = client.patch(path, json={"version": 1, "summary": "x"}, headers=south)
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_dispute"
    whole = client.get(path, headers=south).json()
    assert whole["version"] == 5 and whole["next_follow_up_on"] == "2099-01-01"
    assert len(whole["visits"][0]["photos"]) == 1 and whole["agreements"][0]["text"] == "双方签订调解协议"
    mine = client.get("/api/disputes/mine", headers=south).json()
    assert [c["id"] for c in mine] == [case["id"]]
    bad_outcome = client.post(f"{path}/close", json={"outcome": "forgotten", "note": "x"}, headers=south)
    assert bad_outcome.json()["error"]["code"] == "bad_outcome"
    closed = client.post(f"{path}/close", json={"outcome": "resolved", "note": "调解成功"}, headers=south)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    again = client.post(f"{path}/visits", json={"note": "再访"}, headers=south)
    assert again.status_code == 409 and again.json()["error"]["code"] == "dispute_closed"
    history = client.get(f"{path}/history", headers=south).json()
    assert [h["action"] for h in history] == ["opened", "visit", "photo", "follow_up", "agreement", "closed"]


def test_another_stations_officer_neither_sees_nor_touches_the_case(
    client: TestClient, officers: None
) -> None:
    south, north = login(client, "community-south"), login(client, "community-north")
    case = client.post("/api/disputes", json=_body(), headers=south).json()
    path = f"/api/disputes/{case['id']}"
    for answer in (
        client.get(path, headers=north),
        client.get(f"{path}/history", headers=north),
        client.get(f"{path}/parties?reason=核实当事人", headers=north),
        client.post(f"{path}/visits", json={"note": "走访"}, headers=north),
        client.patch(path, json={"version": 1, "summary": "改"}, headers=north),
        client.post(f"{path}/close", json={"outcome": "resolved", "note": "x"}, headers=north),
        client.get("/api/disputes?station_id=south", headers=north),
        client.post("/api/disputes", json=_body(), headers=north),  # a case at a place of the south
    ):
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "out_of_jurisdiction", (
            answer.text
        )
    assert _count(client, north) == 0
    # Moving the case out of the editor's own reach is refused too.
    moved = client.patch(path, json={"version": 1, "location": NORTH_POINT}, headers=south)
    assert moved.status_code == 403
    assert client.get(path, headers=south).json()["version"] == 1
    # A role without dispute.read is refused by role.
    analyst = client.get(path, headers=login(client, "analyst"))
    assert analyst.status_code == 403 and analyst.json()["error"]["code"] == "role_forbidden"


def test_the_parties_are_read_with_a_reason_masked_unless_full(
    client: TestClient, services: Services, officers: None
) -> None:
    south = login(client, "community-south")
    case = client.post("/api/disputes", json=_body(), headers=south).json()
    path = f"/api/disputes/{case['id']}/parties"
    no_reason = client.get(path, headers=south)
    assert no_reason.status_code == 422 and no_reason.json()["error"]["code"] == "reason_required"
    masked = client.get(f"{path}?reason=调解前核实身份", headers=south)
    assert masked.status_code == 200 and masked.headers["cache-control"] == "no-store"
    assert masked.json()[0]["phone"] == "138****5678" and masked.json()[0]["masked"]
    full = client.get(f"{path}?reason=约谈当事人&full=true", headers=login(client, "dispatcher"))
    assert full.json()[0]["phone"] == "+8613812345678" and full.json()[0]["name"] == "王建国"
    reads = [r for r in services.audit.page(limit=20) if r.action == "personal_data.read"]
    assert [(r.actor, r.reason) for r in reads] == [
        ("dispatcher", "约谈当事人"),
        ("community-south", "调解前核实身份"),
    ]


def test_a_new_call_at_the_address_is_shown_beside_the_incident(client: TestClient, officers: None) -> None:
    south = login(client, "community-south")
    dispatcher = login(client, "dispatcher")
    case = client.post("/api/disputes", json=_body(risk_factors=[]), headers=south).json()
    assert case["risk_level"] == "low"
    incident = create(client, dispatcher, type_code="dispute.family", priority=3).json()
    deadline = time.monotonic() + 10
    while True:
        beside = client.get(f"/api/disputes/by-incident/{incident['id']}", headers=dispatcher).json()
        if beside and beside[0]["escalated"]:
            break
        assert time.monotonic() < deadline, beside
        time.sleep(0.05)
    assert beside[0]["id"] == case["id"] and beside[0]["matched_by"] == ["address"]
    # The same answer under the incident itself, where the console's other questions are.
    under = client.get(f"/api/incidents/{incident['id']}/disputes", headers=dispatcher)
    assert under.status_code == 200 and under.json() == beside
    assert beside[0]["risk_level"] == "medium" and beside[0]["risk_rising"]
    assert beside[0]["risk_reasons"][-1]["zh"] == f"新警情 {incident['id']} 来自此地址"
    timeline = client.get(f"/api/incidents/{incident['id']}/timeline", headers=dispatcher).json()
    assert [e["type"] for e in timeline].count("dispute.escalated") == 1
    # The station's list shows it as rising; a caller without the incident in reach may not ask.
    listed = client.get("/api/disputes?station_id=south", headers=south).json()
    assert listed[0]["risk_rising"]
    far = create(client, dispatcher, location=NORTH_POINT).json()
    assert client.get(f"/api/disputes/by-incident/{far['id']}", headers=south).status_code == 403
