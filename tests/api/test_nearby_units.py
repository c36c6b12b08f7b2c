"""GET /api/incidents/{id}/nearby-units: the dispatcher's "why not this unit?", on the real app."""

from __future__ import annotations

from fastapi.testclient import TestClient

from jingwu.composition import Services
from tests.api.conftest import create, login


def test_every_unit_in_range_is_listed_with_why_it_is_or_is_not_recommended(
    client: TestClient, services: Services
) -> None:
    headers = login(client, "dispatcher")
    incident = create(client, headers, type_code="crim.theft.burglary", priority=2).json()
    recs = client.get(f"/api/incidents/{incident['id']}/recommendations?limit=2", headers=headers).json()
    nearby = client.get(
        f"/api/incidents/{incident['id']}/nearby-units?radius_m=20000&limit=2", headers=headers
    )
    assert nearby.status_code == 200, nearby.text
    rows = nearby.json()
    assert {r["unit_id"] for r in rows} == {u.id for u in services.dispatch.board.roster().units}
    assert [r["straight_line_m"] for r in rows] == sorted(r["straight_line_m"] for r in rows)
    listed = sorted((r for r in rows if r["recommended"]), key=lambda r: r["rank"])
    assert [r["unit_id"] for r in listed] == [r["unit_id"] for r in recs]
    # The six cars of the test city are all free and allowed: the others were outranked.
    assert {r["reason"] for r in rows if not r["recommended"]} == {"outranked"}
    assert all(r["allowed_kinds"] == ["motorcycle", "patrol_car"] for r in rows)


def test_a_radius_out_of_range_is_refused(client: TestClient) -> None:
    headers = login(client, "dispatcher")
    incident = create(client, headers).json()
    answer = client.get(f"/api/incidents/{incident['id']}/nearby-units?radius_m=0", headers=headers)
    assert answer.status_code == 422
