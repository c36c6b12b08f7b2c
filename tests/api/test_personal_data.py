"""Personal data over the API: sealed at rest, shown masked, read in full only by roles that need
it, every look audited with its reason, and look-ups of people rate-limited."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import select

from jingwu.composition import Services
from jingwu.domain.access import Jurisdiction, Role
from jingwu.routing import RoadNetwork
from jingwu.store import tables as t
from tests.api.conftest import create, login
from tests.conftest import PASSWORD, add_user

REPORTER = {"name": "王小明", "phone": "138 1234 5678"}
SEARCH = "/api/people/incidents/search"


def _north_point(network: RoadNetwork) -> dict[str, float]:
    """A road point in the test city's north station (Songbei)."""
    rng = np.random.default_rng(5)
    while True:
        p = network.random_road_point(rng)
        if p.lat > 45.80:
            return {"lat": p.lat, "lon": p.lon}


def _audit(services: Services, action: str) -> list[dict[str, Any]]:
    return [r.to_dict() for r in services.audit.page(limit=500) if r.action == action]


def test_a_reporter_is_sealed_at_rest_with_a_blind_index(client: TestClient, services: Services) -> None:
    incident = create(client, login(client, "dispatcher"), reporter=REPORTER).json()
    with services.engine.connect() as conn:
        row = conn.execute(select(t.incidents).where(t.incidents.c.id == incident["id"])).one()
    assert row.reporter_name.startswith("v1:") and "王小明" not in row.reporter_name
    assert row.reporter_phone.startswith("v1:") and "12345678" not in row.reporter_phone
    assert row.reporter_phone_index and len(row.reporter_phone_index) == 32
    assert "reporter" not in incident and "王小明" not in str(incident)


def test_the_reporter_is_masked_unless_asked_in_full_and_each_read_is_audited_with_its_reason(
    client: TestClient, services: Services
) -> None:
    headers = login(client, "dispatcher")
    incident_id = create(client, headers, reporter=REPORTER).json()["id"]
    masked = client.get(
        f"/api/incidents/{incident_id}/reporter", params={"reason": "核实警情"}, headers=headers
    ).json()
    assert masked == {
        "incident_id": incident_id,
        "name": "王**",
        "phone": "138****5678",
        "id_number": None,
        "masked": True,
    }
    full = client.get(
        f"/api/incidents/{incident_id}/reporter",
        params={"reason": "回拨报警人", "full": "true"},
        headers=headers,
    ).json()
    assert (full["name"], full["phone"], full["masked"]) == ("王小明", "+8613812345678", False)
    reads = _audit(services, "personal_data.read")
    assert [(r["actor"], r["target"], r["reason"], r["details"]["full"]) for r in reads] == [
        ("dispatcher", f"incident:{incident_id}", "回拨报警人", True),
        ("dispatcher", f"incident:{incident_id}", "核实警情", False),
    ]
    assert all(r["source"] == "testclient" for r in reads)


def test_a_look_without_a_reason_is_refused_and_not_audited(client: TestClient, services: Services) -> None:
    headers = login(client, "dispatcher")
    incident_id = create(client, headers, reporter=REPORTER).json()["id"]
    for params in ({}, {"reason": "ab"}, {"reason": "    x    "}):
        refused = client.get(f"/api/incidents/{incident_id}/reporter", params=params, headers=headers)
        assert refused.status_code == 422, params
    assert _audit(services, "personal_data.read") == []


def test_roles_without_the_need_see_less(client: TestClient, services: Services) -> None:
    dispatcher = login(client, "dispatcher")
    incident_id = create(client, dispatcher, reporter=REPORTER).json()["id"]
    services.auth.accounts.create_user(
        "community", PASSWORD, Role.COMMUNITY_OFFICER, jurisdiction=Jurisdiction.parse("station:south")
    )
    add_user(services, "analyst", Role.ANALYST)
    community = login(client, "community")
    path = f"/api/incidents/{incident_id}/reporter"
    # A community officer sees the reporter masked, never in full.
    assert client.get(path, params={"reason": "走访核实"}, headers=community).json()["masked"] is True
    full = client.get(path, params={"reason": "走访核实", "full": "true"}, headers=community)
    assert full.status_code == 403 and full.json()["error"]["code"] == "role_forbidden"
    # An analyst works with figures, never with people.
    analyst = client.get(path, params={"reason": "统计分析"}, headers=login(client, "analyst"))
    assert analyst.status_code == 403 and analyst.json()["error"]["code"] == "role_forbidden"


def test_an_officer_reads_only_the_reporter_of_the_call_they_were_sent_to(
    client: TestClient, services: Services
) -> None:
    dispatcher = login(client, "dispatcher")
    officer = login(client, "u0")
    mine = create(client, dispatcher, reporter=REPORTER).json()["id"]
    other = create(client, dispatcher, reporter={"phone": "13900001111"}).json()["id"]
    assert client.post(
        f"/api/incidents/{mine}/dispatch", json={"unit_ids": ["u0"]}, headers=dispatcher
    ).is_success
    params = {"reason": "联系报警人", "full": "true"}
    own = client.get(f"/api/incidents/{mine}/reporter", params=params, headers=officer)
    assert own.status_code == 200 and own.json()["phone"] == "+8613812345678"
    refused = client.get(f"/api/incidents/{other}/reporter", params=params, headers=officer)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_own_incident"


def test_incidents_are_found_by_the_callers_number_in_any_usual_form_within_the_jurisdiction(
    client: TestClient, services: Services, network: RoadNetwork
) -> None:
    dispatcher = login(client, "dispatcher")
    south = create(client, dispatcher, reporter=REPORTER).json()["id"]
    north = create(client, dispatcher, reporter=REPORTER, location=_north_point(network)).json()["id"]
    create(client, dispatcher, reporter={"phone": "13900001111"})
    params = {"phone": "+86 138-1234-5678", "reason": "重复报警核查"}
    found = client.post(SEARCH, json=params, headers=dispatcher).json()
    assert sorted(i["id"] for i in found) == sorted([south, north])
    services.auth.accounts.create_user(
        "south-desk", PASSWORD, Role.DISPATCHER, jurisdiction=Jurisdiction.parse("station:south")
    )
    scoped = client.post(SEARCH, json=params, headers=login(client, "south-desk")).json()
    assert [i["id"] for i in scoped] == [south]
    searches = _audit(services, "person.search")
    assert [(r["actor"], r["target"], r["details"]["matches"]) for r in searches] == [
        ("south-desk", "phone:138****5678", 1),
        ("dispatcher", "phone:138****5678", 2),
    ]
    assert all("12345678" not in str(r) for r in searches)


def test_a_bad_number_is_422_and_officers_cannot_search_people(client: TestClient) -> None:
    dispatcher = login(client, "dispatcher")
    bad = client.post(SEARCH, json={"phone": "12345", "reason": "核查来电"}, headers=dispatcher)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "bad_phone"
    officer = client.post(
        SEARCH, json={"phone": "13812345678", "reason": "核查来电"}, headers=login(client, "u0")
    )
    assert officer.status_code == 403 and officer.json()["error"]["code"] == "role_forbidden"


def test_look_ups_of_people_are_rate_limited_per_user(client: TestClient, services: Services) -> None:
    dispatcher = login(client, "dispatcher")
    params = {"phone": "13812345678", "reason": "批量核查"}
    answers = [client.post(SEARCH, json=params, headers=dispatcher) for _ in range(31)]
    assert [a.status_code for a in answers[:30]] == [200] * 30
    assert answers[30].status_code == 429
    assert answers[30].json()["error"]["code"] == "too_many_attempts"
    assert int(answers[30].headers["Retry-After"]) >= 1
    # The refused look-up read nothing, so it left nothing to audit.
    assert len(_audit(services, "person.search")) == 30


def test_personal_data_answers_are_never_cached_and_a_refused_look_does_not_spend_the_limit(
    client: TestClient, services: Services
) -> None:
    headers = login(client, "dispatcher")
    incident_id = create(client, headers, reporter=REPORTER).json()["id"]
    shown = client.get(
        f"/api/incidents/{incident_id}/reporter", params={"reason": "核实警情"}, headers=headers
    )
    assert shown.headers["Cache-Control"] == "no-store"
    found = client.post(SEARCH, json={"phone": "13812345678", "reason": "核实警情"}, headers=headers)
    assert found.headers["Cache-Control"] == "no-store"
    for _ in range(40):
        assert (
            client.post(SEARCH, json={"phone": "13812345678", "reason": "x"}, headers=headers).status_code
            == 422
        )
    assert client.post(
        SEARCH, json={"phone": "13812345678", "reason": "核实警情"}, headers=headers
    ).is_success


def test_a_refused_access_is_written_to_the_audit_log(client: TestClient, services: Services) -> None:
    headers = login(client, "dispatcher")
    incident_id = create(client, headers, reporter=REPORTER).json()["id"]
    officer = login(client, "u0")
    refused = client.post(f"/api/incidents/{incident_id}/notes", json={"text": "看看"}, headers=officer)
    assert refused.status_code == 403
    (record,) = _audit(services, "access.refused")
    assert (record["actor"], record["target"], record["outcome"]) == (
        "u0",
        f"POST /api/incidents/{incident_id}/notes",
        "refused",
    )
    assert record["details"]["code"] == "not_own_incident"
    assert services.audit.verify().intact


# A synthetic number with a valid check character (region 23 Heilongjiang, born 1990-03-07).
ID_NUMBER = "230103199003073415"


def test_a_reporters_id_number_is_checked_sealed_masked_and_searchable(
    client: TestClient, services: Services
) -> None:
    headers = login(client, "dispatcher")
    bad = create(client, headers, reporter={"name": "李四", "id_number": ID_NUMBER[:-1] + "2"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "bad_id_checksum"
    assert services.dispatch.list_incidents() == []
    incident_id = create(client, headers, reporter={"name": "李四", "id_number": ID_NUMBER.lower()}).json()[
        "id"
    ]
    with services.engine.connect() as conn:
        row = conn.execute(select(t.incidents).where(t.incidents.c.id == incident_id)).one()
    assert row.reporter_id_number.startswith("v1:") and ID_NUMBER[6:14] not in row.reporter_id_number
    path = f"/api/incidents/{incident_id}/reporter"
    masked = client.get(path, params={"reason": "核实身份"}, headers=headers).json()
    assert masked["id_number"] == "2301**********3415"
    full = client.get(path, params={"reason": "核实身份", "full": "true"}, headers=headers).json()
    assert full["id_number"] == ID_NUMBER
    found = client.post(SEARCH, json={"id_number": ID_NUMBER, "reason": "前科核查"}, headers=headers).json()
    assert [i["id"] for i in found] == [incident_id]
    (search,) = _audit(services, "person.search")
    assert search["target"] == "id_number:2301**********3415" and ID_NUMBER not in str(search)
    both = client.post(
        SEARCH, json={"id_number": ID_NUMBER, "phone": "13812345678", "reason": "前科核查"}, headers=headers
    )
    assert both.status_code == 422 and both.json()["error"]["code"] == "one_search_key"


def test_only_the_fields_asked_for_are_read_and_a_missing_reason_is_reason_required(
    client: TestClient, services: Services
) -> None:
    headers = login(client, "dispatcher")
    incident_id = create(
        client, headers, reporter={"name": "李四", "phone": "13812345678", "id_number": ID_NUMBER}
    ).json()["id"]
    path = f"/api/incidents/{incident_id}/reporter"
    phone_only = client.get(
        path, params={"reason": "回拨报警人", "full": "true", "fields": "phone"}, headers=headers
    ).json()
    assert (phone_only["name"], phone_only["phone"], phone_only["id_number"]) == (
        None,
        "+8613812345678",
        None,
    )
    (read,) = _audit(services, "personal_data.read")
    assert read["details"]["fields"] == ["phone"]
    bad = client.get(path, params={"reason": "回拨报警人", "fields": "address"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "bad_fields"
    missing = client.get(path, headers=headers)
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "reason_required"
