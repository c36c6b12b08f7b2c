"""POST /api/units/{id}/status: an arrival far from the scene must be confirmed and is kept
flagged; a doubtful one (no current position, sooner than the road allows) is accepted flagged;
an officer clearing must give a disposition, which becomes the incident's."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import CENTRE, create, login
from tests.conftest import FakeClock

# About 611 m north of the scene (CENTRE), off the scene's road too.
FAR = {"lat": CENTRE["lat"] + 0.0055, "lon": CENTRE["lon"]}


def place(client: TestClient, headers: dict[str, str], at: dict[str, float], unit_id: str = "u0") -> None:
    """A dispatcher places the unit by hand (a radio report), as of now."""
    body = {"positions": [{"unit_id": unit_id, **at}]}
    assert client.post("/api/units/positions", json=body, headers=headers).status_code == 204


def dispatched(client: TestClient) -> tuple[dict[str, str], dict[str, str], str]:
    dispatcher = login(client, "dispatcher")
    incident = create(client, dispatcher).json()
    sent = client.post(
        f"/api/incidents/{incident['id']}/dispatch", json={"unit_ids": ["u0"]}, headers=dispatcher
    )
    assert sent.status_code == 200, sent.text
    return dispatcher, login(client, "u0"), incident["id"]


def status(client: TestClient, officer: dict[str, str], **body: Any) -> Any:
    return client.post("/api/units/u0/status", json=body, headers=officer)


def last_status_event(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    events = client.get("/api/units/u0/timeline", headers=headers).json()
    return [e for e in events if e["type"] == "unit.status_changed"][-1]  # type: ignore[no-any-return]


def test_a_far_arrival_is_refused_then_kept_flagged_once_the_officer_confirms(
    clocked_client: TestClient, clock: FakeClock
) -> None:
    client = clocked_client
    dispatcher, officer, incident_id = dispatched(client)
    assert status(client, officer, status="en_route").status_code == 200
    clock.advance(2)
    place(client, dispatcher, FAR)

    refused = status(client, officer, status="on_scene")
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "far_from_scene"
    assert 580 <= error["params"]["distance_m"] <= 640 and error["params"]["radius_m"] == 200
    # Nothing changed: the unit is still on its way, the incident has no arrival.
    assert client.get("/api/units/u0", headers=dispatcher).json()["status"] == "en_route"
    incident = client.get(f"/api/incidents/{incident_id}", headers=dispatcher).json()
    assert "on_scene" not in incident["stage_times"]

    confirmed = status(client, officer, status="on_scene", confirm_far=True)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "on_scene"
    arrival = last_status_event(client, dispatcher)["data"]["arrival"]
    assert "far" in arrival["flags"] and arrival["confirmed"] is True
    assert 580 <= arrival["distance_m"] <= 640


def test_an_arrival_at_the_scene_needs_no_confirmation_and_counts(
    clocked_client: TestClient, clock: FakeClock
) -> None:
    client = clocked_client
    dispatcher, officer, _ = dispatched(client)
    clock.advance(240)
    place(client, dispatcher, CENTRE)
    assert status(client, officer, status="on_scene").status_code == 200
    assert last_status_event(client, dispatcher)["data"]["arrival"]["flags"] == []
    stats = client.get("/api/stats/today", headers=dispatcher).json()
    assert (stats["arrivals_today"], stats["arrivals_within_target"], stats["arrivals_flagged"]) == (1, 1, 0)
    assert stats["median_dispatch_to_arrival_s"] == 240.0


def test_an_arrival_without_a_current_position_soon_after_the_dispatch_is_accepted_flagged(
    clocked_client: TestClient, clock: FakeClock
) -> None:
    client = clocked_client
    clock.advance(600)  # the units' last fixes are ten minutes old by now
    dispatcher, officer, _ = dispatched(client)
    eta = [
        e
        for e in client.get("/api/units/u0/timeline", headers=dispatcher).json()
        if e["type"] == "unit.dispatched"
    ]
    assert eta[-1]["data"]["eta_s"] > 30  # the road ETA from where the car was last seen
    clock.advance(5)
    assert status(client, officer, status="on_scene").status_code == 200
    arrival = last_status_event(client, dispatcher)["data"]["arrival"]
    assert arrival["flags"] == ["no_position", "too_soon"]
    assert arrival["since_dispatch_s"] == 5.0 and arrival["distance_m"] is None
    stats = client.get("/api/stats/today", headers=dispatcher).json()
    assert (stats["arrivals_today"], stats["arrivals_flagged"]) == (0, 1)


def test_an_officer_clearing_must_say_how_it_ended_and_that_is_the_incidents_disposition(
    clocked_client: TestClient, clock: FakeClock
) -> None:
    client = clocked_client
    dispatcher, officer, incident_id = dispatched(client)
    clock.advance(60)
    place(client, dispatcher, CENTRE)
    assert status(client, officer, status="on_scene").status_code == 200
    for body in ({}, {"disposition": "   "}):
        refused = status(client, officer, status="cleared", **body)
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "disposition_required"
    assert client.get("/api/units/u0", headers=dispatcher).json()["status"] == "on_scene"

    cleared = status(client, officer, status="cleared", disposition=" 已调解：双方和解 ")
    assert cleared.status_code == 200, cleared.text
    incident = client.get(f"/api/incidents/{incident_id}", headers=dispatcher).json()
    assert incident["status"] == "cleared" and incident["disposition"] == "已调解：双方和解"
    assert last_status_event(client, dispatcher)["data"]["disposition"] == "已调解：双方和解"

    # The dispatcher closes without a word of their own: the crew's disposition stands.
    closed = client.post(f"/api/incidents/{incident_id}/close", json={}, headers=dispatcher)
    assert closed.status_code == 200 and closed.json()["disposition"] == "已调解：双方和解"


def test_a_disposition_goes_only_with_clearing(client: TestClient) -> None:
    dispatcher, officer, _ = dispatched(client)
    refused = status(client, officer, status="acknowledged", disposition="到了")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "disposition_not_expected"
    assert client.get("/api/units/u0", headers=dispatcher).json()["status"] == "dispatched"
    too_long = status(client, officer, status="acknowledged", disposition="长" * 501)
    assert too_long.status_code == 422
