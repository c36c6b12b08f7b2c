"""Cases for incidents: a station's commander files one (立案) and solves it (破案); both are on the
incident's timeline and in the analytical store's case counts; bad input changes nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from jingwu.composition import Services
from jingwu.domain.access import Role
from tests.api.conftest import create, login
from tests.conftest import add_user


def test_a_commander_files_and_solves_a_case_and_compstat_counts_it(
    client: TestClient, services: Services
) -> None:
    dispatcher = login(client, "dispatcher")
    incident = create(client, dispatcher, type_code="crim.theft.burglary").json()
    add_user(services, "chief", Role.COMMANDER)
    chief = login(client, "chief")
    assert client.get(f"/api/incidents/{incident['id']}/case", headers=chief).status_code == 204
    filed = client.post(
        f"/api/incidents/{incident['id']}/case",
        json={"case_number": "X2026010100001", "kind": "criminal"},
        headers=chief,
    )
    assert filed.status_code == 201, filed.text
    assert filed.json()["filed_by"] == "chief" and filed.json()["solved_at"] is None
    solved = client.post(f"/api/incidents/{incident['id']}/case/solve", headers=chief)
    assert solved.status_code == 200 and solved.json()["solved_by"] == "chief"
    timeline = client.get(f"/api/incidents/{incident['id']}/timeline", headers=chief).json()
    kinds = [e.get("type") for e in (timeline if isinstance(timeline, list) else timeline.get("events", []))]
    assert "case.filed" in kinds and "case.solved" in kinds
    services.analytics.refresh()
    month = incident["created_at"][:7]
    table = services.analytics.compstat(month, by="group", dataset="jingwu", station_ids=None, basis="cases")
    assert table["total"]["current"] == 1 and table["solved"]["total"]["current"] == 1
    assert table["rows"][0]["group"] == "刑事案件"


def test_a_second_case_a_taken_number_or_a_dispatcher_is_refused(
    client: TestClient, services: Services
) -> None:
    dispatcher = login(client, "dispatcher")
    first = create(client, dispatcher).json()["id"]
    second = create(client, dispatcher).json()["id"]
    add_user(services, "chief", Role.COMMANDER)
    chief = login(client, "chief")
    body = {"case_number": "Z2026010100002", "kind": "administrative"}
    assert client.post(f"/api/incidents/{first}/case", json=body, headers=dispatcher).status_code == 403
    assert (
        client.post(f"/api/incidents/{first}/case/solve", headers=chief).json()["error"]["code"] == "no_case"
    )
    assert client.post(f"/api/incidents/{first}/case", json=body, headers=chief).status_code == 201
    again = client.post(f"/api/incidents/{first}/case", json=body | {"case_number": "Z9"}, headers=chief)
    assert again.status_code == 409 and again.json()["error"]["code"] == "case_exists"
    taken = client.post(f"/api/incidents/{second}/case", json=body, headers=chief)
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "case_number_taken"
    for bad in ({"case_number": "第1号", "kind": "criminal"}, {"case_number": "X1", "kind": "civil"}):
        assert client.post(f"/api/incidents/{second}/case", json=bad, headers=chief).status_code == 422
    assert client.get(f"/api/incidents/{second}/case", headers=chief).status_code == 204  # nothing stored


def test_a_station_commander_files_cases_in_their_station_only(
    client: TestClient, services: Services
) -> None:
    from jingwu.domain.access import Jurisdiction

    dispatcher = login(client, "dispatcher")
    incident = create(client, dispatcher).json()  # in the south station (the test city's centre)
    services.auth.accounts.create_user(
        "north-chief",
        "correct-horse-battery",
        Role.COMMANDER,
        jurisdiction=Jurisdiction.parse("station:north"),
    )
    north = login(client, "north-chief")
    body = {"case_number": "X2026010100003", "kind": "criminal"}
    refused = client.post(f"/api/incidents/{incident['id']}/case", json=body, headers=north)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "out_of_jurisdiction"
    assert services.cases.get(incident["id"]) is None
