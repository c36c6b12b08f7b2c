"""The incident record over HTTP: PATCH corrections, reopening, and GET /api/incidents searched
and paged with a cursor through thousands, on the real app and real databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from jingwu.composition import Services
from jingwu.domain import rules
from jingwu.domain.access import Jurisdiction, Level
from jingwu.domain.geo import GeoPoint
from jingwu.domain.status import SourceChannel
from jingwu.service.auth import Role
from jingwu.store import repository as repo
from jingwu.store.db import write_transaction
from tests.api.conftest import CENTRE, create, login
from tests.conftest import PASSWORD

NORTH_BANK = (45.8005, 126.5352)


def _north_bank(services: Services) -> dict[str, float]:
    p = services.network.snap(*NORTH_BANK, 2000.0)
    return {"lat": p.lat, "lon": p.lon}


def _code(answer: Any) -> str:
    code: str = answer.json()["error"]["code"]
    return code


def test_patch_corrects_the_incident_and_the_timeline_shows_before_and_after(client: TestClient) -> None:
    headers = login(client, "dispatcher")
    incident = create(client, headers, address="测试路1号").json()
    answer = client.patch(
        f"/api/incidents/{incident['id']}",
        json={"version": incident["version"], "type_code": "crim.theft", "priority": 3, "address": None},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    edited = answer.json()
    assert (edited["type_code"], edited["priority"], edited["address"]) == ("crim.theft", 3, None)
    assert edited["version"] == incident["version"] + 1
    last = client.get(f"/api/incidents/{incident['id']}/timeline", headers=headers).json()[-1]
    assert last["type"] == "incident.updated" and last["actor"] == "dispatcher"
    assert last["data"]["changes"]["address"] == {"before": "测试路1号", "after": None}
    assert last["data"]["changes"]["type_code"] == {"before": "crim.robbery", "after": "crim.theft"}


def test_patch_on_a_stale_version_is_refused_and_changes_nothing(client: TestClient) -> None:
    headers = login(client, "dispatcher")
    incident = create(client, headers).json()
    url = f"/api/incidents/{incident['id']}"
    assert (
        client.patch(url, json={"version": incident["version"], "priority": 2}, headers=headers).status_code
        == 200
    )
    late = client.patch(url, json={"version": incident["version"], "priority": 4}, headers=headers)
    assert late.status_code == 409 and _code(late) == "stale_incident"
    assert late.json()["error"]["params"]["version"] == incident["version"] + 1
    assert client.get(url, headers=headers).json()["priority"] == 2


def test_patch_refuses_bad_input_with_a_clear_error(client: TestClient) -> None:
    headers = login(client, "dispatcher")
    incident = create(client, headers).json()
    url = f"/api/incidents/{incident['id']}"
    version = incident["version"]
    assert client.patch(url, json={"priority": 2}, headers=headers).status_code == 422  # no version
    cleared = client.patch(url, json={"version": version, "type_code": None}, headers=headers)
    assert cleared.status_code == 422 and _code(cleared) == "not_clearable"
    unknown = client.patch(url, json={"version": version, "type_code": "no.such"}, headers=headers)
    assert unknown.status_code == 422 and _code(unknown) == "unknown_incident_type"
    river = client.patch(
        url, json={"version": version, "location": {"lat": 45.7860, "lon": 126.5340}}, headers=headers
    )
    assert river.status_code == 422 and _code(river) == "off_road"
    assert client.get(url, headers=headers).json() == incident


def test_an_officer_may_not_correct_the_record(client: TestClient) -> None:
    incident = create(client, login(client, "dispatcher")).json()
    refused = client.patch(
        f"/api/incidents/{incident['id']}",
        json={"version": incident["version"], "priority": 2},
        headers=login(client, "u0"),
    )
    assert refused.status_code == 403 and _code(refused) == "role_forbidden"


def test_moving_an_incident_needs_a_jurisdiction_over_both_places(
    client: TestClient, services: Services
) -> None:
    services.auth.accounts.create_user(
        "south-dispatcher", PASSWORD, Role.DISPATCHER, jurisdiction=Jurisdiction(Level.STATION, "south")
    )
    local = login(client, "south-dispatcher")
    incident = create(client, local).json()
    url = f"/api/incidents/{incident['id']}"
    body = {"version": incident["version"], "location": _north_bank(services)}
    refused = client.patch(url, json=body, headers=local)
    assert refused.status_code == 403 and _code(refused) == "out_of_jurisdiction"
    moved = client.patch(url, json=body, headers=login(client, "dispatcher"))  # the city's
    assert moved.status_code == 200 and moved.json()["station_id"] == "north"
    # Now in the north, out of the south dispatcher's sight.
    assert client.get(url, headers=local).status_code == 403


def test_reopen_puts_a_closed_incident_back_in_the_queue(client: TestClient) -> None:
    headers = login(client, "dispatcher")
    incident = create(client, headers).json()
    url = f"/api/incidents/{incident['id']}"
    closed = client.post(f"{url}/close", json={"disposition": "已处置"}, headers=headers).json()
    assert incident["id"] not in {i["id"] for i in client.get("/api/incidents", headers=headers).json()}
    unreasoned = client.post(f"{url}/reopen", json={"reason": " "}, headers=headers)
    assert unreasoned.status_code == 422 and _code(unreasoned) == "reason_required"
    reopened = client.post(
        f"{url}/reopen", json={"reason": "当事人再次报警", "version": closed["version"]}, headers=headers
    )
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["status"] == "pending" and reopened.json()["disposition"] is None
    assert incident["id"] in {i["id"] for i in client.get("/api/incidents", headers=headers).json()}
    again = client.post(f"{url}/reopen", json={"reason": "再次"}, headers=headers)
    assert again.status_code == 409 and _code(again) == "incident_not_closed"


# ------------------------------------------------------------------ search


def _bulk(services: Services, n: int) -> list[str]:
    start = datetime(2026, 11, 20, tzinfo=UTC)
    ids = []
    with write_transaction(services.engine) as conn:
        for i in range(n):
            decision = rules.open_incident(
                incident_id=f"J20261120-A{i:05d}",
                now=start + timedelta(seconds=i // 5),  # five to an instant: ties broken by id
                type_code="crim.theft",
                priority=1 + i % 4,
                location=GeoPoint(CENTRE["lat"], CENTRE["lon"]),
                source=SourceChannel.CALL_110,
                address=f"中山路{i}号",
                station_id="south",
            )
            repo.apply_decision(conn, decision, new_incident_ids=frozenset({decision.incidents[0].id}))
            ids.append(decision.incidents[0].id)
    return ids


def test_get_pages_through_thousands_with_no_duplicates_and_no_gaps(
    client: TestClient, services: Services
) -> None:
    made = _bulk(services, 2500)
    headers = login(client, "dispatcher")
    walked: list[str] = []
    cursor = ""
    pages = 0
    while cursor is not None:
        answer = client.get("/api/incidents", params={"cursor": cursor, "limit": 150}, headers=headers)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        walked += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        pages += 1
    assert pages == 17
    assert len(walked) == len(set(walked)) == 2500
    assert walked == sorted(made, reverse=True)  # newest first; the ids rise with the time here
    # The queue as it was: a plain list, most urgent first, at most limit.
    queue = client.get("/api/incidents", params={"limit": 40}, headers=headers).json()
    assert isinstance(queue, list) and len(queue) == 40 and {i["priority"] for i in queue} == {1}


def test_search_filters_and_keeps_reporters_out(client: TestClient) -> None:
    headers = login(client, "dispatcher")
    wanted = create(
        client,
        headers,
        address="红军街15号",
        description="抢包后逃跑",
        reporter={"name": "张三", "phone": "13812345678"},
    ).json()
    create(client, headers, address="红军街16号", type_code="crim.theft")
    closed = create(client, headers, address="红军街17号").json()
    client.post(f"/api/incidents/{closed['id']}/close", json={}, headers=headers)

    def search(**params: Any) -> list[str]:
        answer = client.get("/api/incidents", params={"cursor": ""} | params, headers=headers)
        assert answer.status_code == 200, answer.text
        assert all("reporter" not in item for item in answer.json()["items"])
        return [item["id"] for item in answer.json()["items"]]

    assert search(q="红军街 逃跑") == [wanted["id"]]
    assert search(q="红军街", type="crim.robbery") == [wanted["id"]]
    assert search(q="红军街", status="closed") == [closed["id"]]
    assert len(search(q="红军街", open="false")) == 3
    assert search(station="north") == []
    now = datetime.now(UTC)
    assert (
        len(
            search(
                **{
                    "from": (now - timedelta(minutes=5)).isoformat(),
                    "to": (now + timedelta(minutes=5)).isoformat(),
                }
            )
        )
        == 2
    )


def test_search_refuses_what_it_cannot_answer(client: TestClient) -> None:
    headers = login(client, "dispatcher")
    cases = [
        ({"cursor": "not-a-cursor"}, "bad_cursor"),
        ({"from": "2026-11-25T10:00:00+08:00", "to": "2026-11-25T09:00:00+08:00"}, "bad_time_range"),
        ({"from": "2026-11-25T10:00:00"}, "naive_time"),
        ({"type": "no.such.type"}, "unknown_incident_type"),
        ({"station": "atlantis"}, "unknown_station"),
        ({"priority": "9"}, "invalid_priority"),
    ]
    for params, code in cases:
        answer = client.get("/api/incidents", params=params, headers=headers)
        assert answer.status_code == 422 and _code(answer) == code, (params, answer.text)


def test_search_of_a_station_outside_the_jurisdiction_is_refused(
    client: TestClient, services: Services
) -> None:
    services.auth.accounts.create_user(
        "south-dispatcher", PASSWORD, Role.DISPATCHER, jurisdiction=Jurisdiction(Level.STATION, "south")
    )
    answer = client.get(
        "/api/incidents", params={"station": "north"}, headers=login(client, "south-dispatcher")
    )
    assert answer.status_code == 403 and _code(answer) == "out_of_jurisdiction"
