"""Incident exports: the period in the bureau's days, the caller's jurisdiction, no personal
data, and every export in the audit log before its first byte."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from jingwu.composition import Services
from jingwu.domain.access import Jurisdiction, Role
from jingwu.domain.export import EXPORT_COLUMNS
from tests.api.conftest import CENTRE, create, login
from tests.conftest import PASSWORD, FakeClock, add_user


def _rows(answer_text: str) -> list[dict[str, str]]:
    assert answer_text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(answer_text[1:])))


def test_an_analyst_exports_a_periods_incidents_without_personal_data(
    clocked_client: TestClient, clocked_services: Services, clock: FakeClock
) -> None:
    client, services = clocked_client, clocked_services
    dispatcher = login(client, "dispatcher")
    first = create(
        client,
        dispatcher,
        reporter={"name": "王小明", "phone": "13812345678"},
        description="持刀 张三",
        address="西大直街1号",
    ).json()
    clock.advance(40)
    client.post(f"/api/incidents/{first['id']}/dispatch", json={"unit_ids": ["u1"]}, headers=dispatcher)
    clock.advance(200)
    at_scene = {"positions": [{"unit_id": "u1", **CENTRE}]}  # placed by hand from the radio
    client.post("/api/units/positions", json=at_scene, headers=dispatcher)
    client.post("/api/units/u1/status", json={"status": "on_scene"}, headers=dispatcher)
    clock.advance(24 * 3600)  # the next local day: outside a one-day export
    create(client, dispatcher)
    add_user(services, "analyst", Role.ANALYST)
    analyst = login(client, "analyst")
    day = first["created_at"][:10]  # the FakeClock starts mid-morning in Shanghai: same local date
    answer = client.get("/api/exports/incidents.csv", params={"from": day, "to": day}, headers=analyst)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["Cache-Control"] == "no-store" and answer.headers["X-Row-Count"] == "1"
    (row,) = _rows(answer.text)
    assert tuple(row) == EXPORT_COLUMNS
    assert (row["id"], row["call_to_dispatch_s"], row["dispatch_to_arrival_s"]) == (first["id"], "40", "200")
    assert row["created_local"].endswith("+08:00")
    for secret in ("王小明", "13812345678", "张三", "西大直街"):
        assert secret not in answer.text
    (record,) = [r for r in services.audit.page(limit=100) if r.action == "export.incidents"]
    assert (record.actor, record.target, record.details["rows"]) == ("analyst", f"incidents:{day}..{day}", 1)


def test_an_export_is_cut_to_the_jurisdiction_and_bounded(client: TestClient, services: Services) -> None:
    dispatcher = login(client, "dispatcher")
    create(client, dispatcher)
    services.auth.accounts.create_user(
        "north-chief", PASSWORD, Role.COMMANDER, jurisdiction=Jurisdiction.parse("station:north")
    )
    chief = login(client, "north-chief")
    params = {"from": "2020-01-01", "to": "2020-12-31"}
    assert (
        client.get("/api/exports/incidents.csv", params=params, headers=chief).headers["X-Row-Count"] == "0"
    )
    # The bureau's day, not UTC's: from 16:00 UTC on, Harbin is a day ahead.
    today = (
        services.dispatch.list_incidents()[0].created_at.astimezone(services.exports.zone).date().isoformat()
    )
    wide = client.get("/api/exports/incidents.csv", params={"from": "2024-01-01", "to": today}, headers=chief)
    assert wide.status_code == 422 and wide.json()["error"]["code"] == "bad_export_range"
    backwards = client.get(
        "/api/exports/incidents.csv", params={"from": today, "to": "2020-01-01"}, headers=chief
    )
    assert backwards.status_code == 422
    refused = client.get("/api/exports/incidents.csv", params=params, headers=dispatcher)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "role_forbidden"


def test_a_long_export_is_read_page_by_page_without_losing_or_repeating_a_row(
    client: TestClient, services: Services, monkeypatch
) -> None:
    from jingwu.service import exports

    monkeypatch.setattr(exports, "PAGE", 2)
    dispatcher = login(client, "dispatcher")
    made = {create(client, dispatcher).json()["id"] for _ in range(5)}
    add_user(services, "analyst", Role.ANALYST)
    day = services.dispatch.list_incidents()[0].created_at.astimezone(services.exports.zone).date()
    params = {"from": (day.replace(day=1)).isoformat(), "to": day.isoformat()}
    answer = client.get("/api/exports/incidents.csv", params=params, headers=login(client, "analyst"))
    ids = [row["id"] for row in _rows(answer.text)]
    assert sorted(ids) == sorted(made) and len(ids) == 5


def test_days_at_the_ends_of_the_calendar_are_refused_not_overflowed(
    client: TestClient, services: Services
) -> None:
    add_user(services, "analyst", Role.ANALYST)
    analyst = login(client, "analyst")
    for first, last in (("9999-12-31", "9999-12-31"), ("0001-01-01", "0001-01-01")):
        answer = client.get("/api/exports/incidents.csv", params={"from": first, "to": last}, headers=analyst)
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "bad_export_range"
