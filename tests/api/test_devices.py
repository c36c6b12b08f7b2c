"""The community-device routes: register (admins, commanders in their jurisdiction), list and read
within the caller's jurisdiction, issue a new secret, read access events (audited, with a
reason), and the subscriber's health."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from jingwu.composition import Services
from jingwu.devices.protocol import device_topic, signed_payload
from jingwu.domain.access import Jurisdiction
from jingwu.domain.devices import MessageKind
from jingwu.service.auth import Role
from jingwu.store import tables as t
from jingwu.store.db import read_transaction
from tests.api.conftest import CENTRE, login
from tests.conftest import PASSWORD

RIVER = {"lat": 45.7860, "lon": 126.5340}


@pytest.fixture
def people(services: Services) -> Services:
    services.auth.accounts.create_user("admin", PASSWORD, Role.ADMIN)
    services.auth.accounts.create_user(
        "north-commander", PASSWORD, Role.COMMANDER, jurisdiction=Jurisdiction.parse("district:松北区")
    )
    services.auth.accounts.create_user(
        "south-community", PASSWORD, Role.COMMUNITY_OFFICER, station_id="south"
    )
    services.auth.accounts.create_user(
        "north-community", PASSWORD, Role.COMMUNITY_OFFICER, station_id="north"
    )
    services.auth.accounts.create_user("analyst", PASSWORD, Role.ANALYST)
    return services


def registration(**overrides: Any) -> dict[str, Any]:
    return {
        "id": "col-baojian-001",
        "kind": "alarm_column",
        "community": "保健路社区",
        "location": CENTRE,
        "address": "保健路12号",
    } | overrides


def test_an_admin_registers_a_device_and_gets_its_secret_once(client: TestClient, people: Services) -> None:
    admin = login(client, "admin")
    answer = client.post("/api/devices", json=registration(), headers=admin)
    assert answer.status_code == 201, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.json()
    assert body["id"] == "col-baojian-001" and body["station_id"] == "south" and body["state"] == "never_seen"
    assert body["secret"].startswith("dsk_") and body["topic_root"] == "jingwu/v1/devices/col-baojian-001"
    assert body["heartbeat_s"] == 60 and body["location"] == CENTRE
    shown = client.get("/api/devices/col-baojian-001", headers=admin).json()
    assert "secret" not in shown and shown["community"] == "保健路社区"
    # The secret works: a press signed with it opens an incident.
    topic = device_topic("col-baojian-001", MessageKind.ALARM)
    fields = {"ts": int(time.time() * 1000), "seq": 1}
    assert people.community_devices.handle(topic, signed_payload(body["secret"], topic, fields)) is None
    assert people.dispatch.list_incidents(open_only=True)[0].priority == 1


def test_registration_refusals(client: TestClient, people: Services) -> None:
    admin = login(client, "admin")
    assert client.post("/api/devices", json=registration(), headers=admin).status_code == 201
    again = client.post("/api/devices", json=registration(), headers=admin)
    assert again.status_code == 409 and again.json()["error"]["code"] == "device_exists"
    river = client.post("/api/devices", json=registration(id="col-river", location=RIVER), headers=admin)
    assert river.status_code == 422 and river.json()["error"]["code"] == "off_road"
    for bad in (
        registration(id="Col/1"),
        registration(id="health"),
        registration(kind="camera"),
        registration(heartbeat_s=5),
        registration(heartbeat_s="60"),
        registration(colour="red"),
        registration(community=""),
    ):
        answer = client.post("/api/devices", json=bad, headers=admin)
        assert answer.status_code == 422, (bad, answer.text)
    # A commander registers only within their jurisdiction; a dispatcher not at all.
    refused = client.post(
        "/api/devices", json=registration(id="col-2"), headers=login(client, "north-commander")
    )
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "out_of_jurisdiction"
    dispatcher = client.post(
        "/api/devices", json=registration(id="col-3"), headers=login(client, "dispatcher")
    )
    assert dispatcher.status_code == 403 and dispatcher.json()["error"]["code"] == "role_forbidden"
    assert [d.id for d in people.community_devices.list_devices()] == ["col-baojian-001"]


def test_registration_takes_gcj02_coordinates_and_stores_wgs84(client: TestClient, people: Services) -> None:
    from jingwu.domain.gcj02 import wgs84_to_gcj02

    lat, lon = wgs84_to_gcj02(CENTRE["lat"], CENTRE["lon"])
    body = registration(location={"lat": lat, "lon": lon, "crs": "gcj02"})
    answer = client.post("/api/devices", json=body, headers=login(client, "admin"))
    assert answer.status_code == 201, answer.text
    assert answer.json()["location"] == pytest.approx(CENTRE, abs=1e-5)


def test_lists_and_reads_are_cut_to_the_callers_jurisdiction(client: TestClient, people: Services) -> None:
    assert client.post("/api/devices", json=registration(), headers=login(client, "admin")).status_code == 201
    south, north = login(client, "south-community"), login(client, "north-community")
    assert [d["id"] for d in client.get("/api/devices", headers=south).json()] == ["col-baojian-001"]
    assert client.get("/api/devices", headers=north).json() == []
    assert client.get("/api/devices?kind=door_reader", headers=south).json() == []
    refused = client.get("/api/devices/col-baojian-001", headers=north)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "out_of_jurisdiction"
    missing = client.get("/api/devices/col-nobody", headers=south)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "device_not_found"
    # The dispatcher (city) sees it; an analyst has no device reading at all.
    assert len(client.get("/api/devices", headers=login(client, "dispatcher")).json()) == 1
    assert client.get("/api/devices", headers=login(client, "analyst")).status_code == 403


def test_a_new_secret_replaces_the_old_and_a_replay_never_shows_a_secret(
    client: TestClient, people: Services
) -> None:
    admin = login(client, "admin")
    key = {"Idempotency-Key": "register-col-1"}
    first = client.post("/api/devices", json=registration(), headers=admin | key)
    retry = client.post("/api/devices", json=registration(), headers=admin | key)
    assert first.status_code == retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert first.json()["secret"] and retry.json()["secret"] is None
    assert {k: v for k, v in retry.json().items() if k != "secret"} == {
        k: v for k, v in first.json().items() if k != "secret"
    }
    with read_transaction(people.engine) as conn:
        stored = conn.execute(select(t.idempotency_keys.c.response_body)).scalars().all()
    assert all(first.json()["secret"].encode() not in bytes(body or b"") for body in stored)
    renewed = client.post("/api/devices/col-baojian-001/secret", headers=admin)
    assert renewed.status_code == 200 and renewed.headers["Cache-Control"] == "no-store"
    assert renewed.json()["secret"] not in (None, first.json()["secret"])
    with read_transaction(people.engine) as conn:
        actions = conn.execute(select(t.audit_log.c.action)).scalars().all()
    assert actions.count("device.registered") == 1 and actions.count("device.secret_issued") == 1


def test_access_events_need_a_reason_and_the_read_is_audited(client: TestClient, people: Services) -> None:
    admin = login(client, "admin")
    door = client.post(
        "/api/devices", json=registration(id="door-east", kind="door_reader"), headers=admin
    ).json()
    topic = device_topic("door-east", MessageKind.ACCESS)
    fields = {
        "ts": int(time.time() * 1000),
        "seq": 1,
        "direction": "in",
        "credential": "card",
        "ref": "04A1B2C3D4E5F6",
        "result": "granted",
    }
    assert people.community_devices.handle(topic, signed_payload(door["secret"], topic, fields)) is None
    south = login(client, "south-community")
    url = "/api/devices/door-east/access-events"
    no_reason = client.get(url, params={"reason": "  "}, headers=south)
    assert no_reason.status_code == 422 and no_reason.json()["error"]["code"] == "reason_required"
    answer = client.get(url, params={"reason": "核查门禁记录"}, headers=south)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    [event] = answer.json()
    assert event["credential"] == "**********E5F6" and event["plate"] is None
    assert (event["kind"], event["direction"], event["result"]) == ("door", "in", "granted")
    north = client.get(url, params={"reason": "核查门禁记录"}, headers=login(client, "north-community"))
    assert north.status_code == 403 and north.json()["error"]["code"] == "out_of_jurisdiction"
    dispatcher = client.get(url, params={"reason": "核查门禁记录"}, headers=login(client, "dispatcher"))
    assert dispatcher.status_code == 403 and dispatcher.json()["error"]["code"] == "role_forbidden"
    with read_transaction(people.engine) as conn:
        reads = conn.execute(
            select(t.audit_log.c.actor, t.audit_log.c.reason).where(
                t.audit_log.c.action == "access_events.read"
            )
        ).all()
    assert [tuple(r) for r in reads] == [("south-community", "核查门禁记录")]


def test_health_says_the_subscriber_is_off_without_a_broker(client: TestClient, people: Services) -> None:
    health = client.get("/api/devices/health", headers=login(client, "dispatcher"))
    assert health.status_code == 200
    body = health.json()
    assert body["enabled"] is False and body["connected"] is False
    assert set(body["messages"]["dropped"]) == {
        "oversized",
        "malformed",
        "unknown_device",
        "unauthenticated",
        "wrong_kind",
        "stale",
        "replayed",
        "failed",
    }


def test_device_events_reach_the_live_stream_of_the_devices_station_only(services: Services) -> None:
    from jingwu.api.routers.live import for_viewer
    from jingwu.bus import BusMessage
    from jingwu.domain.access import Principal

    def viewer(scope: str, role: Role = Role.DISPATCHER) -> Principal:
        return Principal("u", "viewer", role, None, None, Jurisdiction.parse(scope))

    offline = BusMessage(
        id=7,
        type="device.offline",
        payload={
            "id": 7,
            "type": "device.offline",
            "incident_id": None,
            "unit_id": None,
            "data": {"device": {"id": "col-1", "station_id": "south"}, "alert": True},
        },
    )
    assert for_viewer(offline, viewer("city"), services) is offline
    assert for_viewer(offline, viewer("station:south"), services) is offline
    assert for_viewer(offline, viewer("district:南岗区"), services) is offline
    assert for_viewer(offline, viewer("station:north"), services) is None
    assert for_viewer(offline, viewer("own", Role.RESIDENT), services) is None
