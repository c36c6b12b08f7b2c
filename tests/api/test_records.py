"""The community registry over the API: field collections (idempotent), review, conflicts, and
searches that are reasoned, audited, masked and cut to the jurisdiction. Runs on SQLite and, with
the ``postgres`` marker, on PostgreSQL (the fixtures are parametrised)."""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from jingwu.composition import Services
from jingwu.domain.access import Jurisdiction, Role
from jingwu.domain.registry import LICENCE_CHARS, licence_check_char
from jingwu.simulation.people import synthetic_person
from jingwu.store import records_tables as rt
from tests.api.conftest import login
from tests.conftest import PASSWORD

# The routes on SQLite: what the two backends do differently (locks, indexes, sealed columns) is
# tested on both in tests/service/records/; here each test builds a city over HTTP.
pytestmark = pytest.mark.parametrize("migrated_database_url", ["sqlite"], indirect=True)

TODAY = date(2026, 12, 7)
SOUTH_POINT = {"lat": 45.7560, "lon": 126.6420}
SOUTH_POINT_2 = {"lat": 45.7530, "lon": 126.6500}
NORTH_POINT = {"lat": 45.8100, "lon": 126.6000}
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x01" * 200
REASON = "入户走访核查登记"


def _add(services: Services, username: str, role: Role, station: str) -> None:
    services.auth.accounts.create_user(
        username, PASSWORD, role, station_id=station, jurisdiction=Jurisdiction.parse(f"station:{station}")
    )


@pytest.fixture
def city(services: Services, client: TestClient) -> dict[str, dict[str, str]]:
    _add(services, "collector", Role.COMMUNITY_OFFICER, "south")
    _add(services, "chief", Role.COMMANDER, "south")
    _add(services, "north-collector", Role.COMMUNITY_OFFICER, "north")
    _add(services, "north-chief", Role.COMMANDER, "north")
    return {name: login(client, name) for name in ("collector", "chief", "north-collector", "north-chief")}


def _person(seed: int) -> Any:
    return synthetic_person(np.random.default_rng(seed), today=TODAY, min_age=25, max_age=60)


def _house(point: dict[str, float] = SOUTH_POINT, room: str = "501") -> dict[str, Any]:
    return {
        "street_address": "红军街85号",
        "community": "保健路",
        "building": "3",
        "unit": "2",
        "room": room,
    } | point


def _resident(person: Any, **overrides: Any) -> dict[str, Any]:
    return {
        "name": person.name,
        "id_number": person.id_number,
        "phone": "13812345678",
        "relation": "head",
        "registered_address": "黑龙江省哈尔滨市南岗区",
        "moved_in": "2020-05-01",
        "plates": ["黑A12345"],
    } | overrides


def _submit(client: TestClient, headers: dict[str, str], cid: str, **body: Any) -> Any:
    return client.post("/api/records/collections", json={"id": cid} | body, headers=headers)


def _audit(services: Services, action: str) -> list[Any]:
    return [r for r in services.audit.page(limit=500) if r.action == action]


def _count(services: Services, table: Any) -> int:
    with services.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_collection_is_stored_sealed_and_a_retry_of_it_changes_nothing(
    client: TestClient, services: Services, city: dict[str, dict[str, str]]
) -> None:
    person = _person(1)
    body = {"kind": "resident", "record": _resident(person), "house": _house()}
    first = _submit(client, city["collector"], "c-0001-abcdef", **body)
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "pending" and first.json()["station_id"] == "south"
    assert first.json()["record"]["name"] != person.name  # masked: no personal_data.full
    again = _submit(client, city["collector"], "c-0001-abcdef", **body)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    other = _submit(client, city["collector"], "c-0001-abcdef", **(body | {"note": "changed"}))
    assert other.status_code == 409 and other.json()["error"]["code"] == "collection_id_taken"
    # The terminal's outbox also sends an Idempotency-Key: a retry is answered from the store.
    keyed = {**city["collector"], "Idempotency-Key": "outbox-1"}
    body2 = {"kind": "resident", "record": _resident(_person(2)), "house": _house(room="502")}
    one = _submit(client, keyed, "c-0002-abcdef", **body2)
    two = _submit(client, keyed, "c-0002-abcdef", **body2)
    assert one.status_code == 201 and two.status_code == 201
    assert two.headers.get("Idempotent-Replayed") == "true"
    assert _count(services, rt.records_collections) == 2
    assert _count(services, rt.records_residents) == 0  # nothing applied before review
    with services.engine.connect() as conn:
        stored = conn.execute(select(rt.records_collections.c.payload)).scalars().all()
    assert all(p.startswith("v1:") and person.id_number not in p and person.name not in p for p in stored)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"id_number": "230103199001011234"}, "bad_id_checksum"),
        ({"id_number": "2301"}, "bad_id_number_format"),
        ({"phone": "110"}, "bad_phone"),
        ({"plates": ["ABC"]}, "bad_plate"),
        ({"relation": "cousin"}, "bad_relation"),
        ({"moved_in": "2099-01-01"}, "bad_date"),
        ({"favourite_colour": "red"}, "unknown_field"),
    ],
)
def test_bad_resident_fields_are_refused_with_their_code_and_nothing_is_stored(
    client: TestClient, services: Services, city: dict[str, dict[str, str]], change: dict[str, Any], code: str
) -> None:
    body = {"kind": "resident", "record": _resident(_person(3)) | change, "house": _house()}
    answer = _submit(client, city["collector"], "c-bad-000001", **body)
    assert answer.status_code == 422 and answer.json()["error"]["code"] == code, answer.text
    assert _count(services, rt.records_collections) == 0


def _licence(seed: str) -> str:
    first17 = "91230103" + "".join(LICENCE_CHARS[ord(ch) % 31] for ch in seed)[:9].ljust(9, "0")
    return first17 + licence_check_char(first17)


def test_a_business_licence_is_checked_by_its_gb32100_check_character(
    client: TestClient, city: dict[str, dict[str, str]]
) -> None:
    good = _licence("abcdefghi")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    record = {
        "name": "保健路便利店",
        "kind": "shop",
        "people_in_charge": [{"name": "李红", "phone": "13900001111"}],
    }
    refused = _submit(
        client, city["collector"], "c-biz-000001", kind="business", record=record | {"licence_number": bad},
        house=_house(room=""),
    )  # fmt: skip
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "bad_licence_number"
    taken = _submit(
        client, city["collector"], "c-biz-000002", kind="business", record=record | {"licence_number": good},
        house=_house(room=""),
    )  # fmt: skip
    assert taken.status_code == 201, taken.text
    assert taken.json()["record"]["people_in_charge"][0]["name"] == "李*"


def test_a_collection_outside_every_station_or_the_collectors_jurisdiction_is_refused(
    client: TestClient, city: dict[str, dict[str, str]]
) -> None:
    body = {"kind": "house", "record": _house(NORTH_POINT)}
    answer = _submit(client, city["collector"], "c-north-0001", **body)
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "out_of_jurisdiction"
    far = _submit(
        client, city["collector"], "c-far-00001", kind="house", record=_house({"lat": 40.0, "lon": 116.4})
    )
    assert far.status_code == 422 and far.json()["error"]["code"] == "outside_every_station"
    missing = _submit(
        client, city["collector"], "c-nohouse-01", kind="resident", record=_resident(_person(4))
    )
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "missing_house"


def test_approval_applies_the_record_with_its_history_and_the_search_is_audited_and_masked(
    client: TestClient, services: Services, city: dict[str, dict[str, str]]
) -> None:
    person = _person(5)
    photo = {"content_type": "image/png", "data": base64.b64encode(PNG).decode()}
    body = {"kind": "resident", "record": _resident(person), "house": _house(), "photos": [photo]}
    cid = _submit(client, city["collector"], "c-appr-00001", **body).json()["id"]
    queue = client.get("/api/records/collections", params={"status": "pending"}, headers=city["chief"]).json()
    assert [c["id"] for c in queue] == [cid]
    assert client.get("/api/records/collections", headers=city["north-chief"]).json() == []
    refused = client.post(f"/api/records/collections/{cid}/approve", headers=city["north-chief"])
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "out_of_jurisdiction"
    approved = client.post(f"/api/records/collections/{cid}/approve", headers=city["chief"])
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text
    again = client.post(f"/api/records/collections/{cid}/approve", headers=city["chief"])
    assert again.status_code == 409 and again.json()["error"]["code"] == "collection_not_pending"
    resident_id = approved.json()["record_id"]

    with services.engine.connect() as conn:
        row = conn.execute(select(rt.records_residents)).one()
    assert (
        row.name.startswith("v1:")
        and row.id_number.startswith("v1:")
        and person.id_number not in row.id_number
    )

    audited = len(_audit(services, "records.search"))
    search = {"by": "id_number", "value": person.id_number, "reason": REASON}
    masked = client.post("/api/records/search", json=search, headers=city["collector"]).json()
    assert len(_audit(services, "records.search")) == audited + 1
    assert [r["id"] for r in masked["residents"]] == [resident_id]
    assert masked["residents"][0]["id_number"] != person.id_number and masked["masked"] is True
    full = client.post("/api/records/search", json=search, headers=city["chief"]).json()
    assert (
        full["residents"][0]["id_number"] == person.id_number and full["residents"][0]["name"] == person.name
    )
    for by, value in (
        ("phone", "138 1234 5678"),
        ("plate", "黑A·12345"),
        ("name", person.name),
        ("address", "红军街 保健路"),
    ):
        found = client.post(
            "/api/records/search", json={"by": by, "value": value, "reason": REASON}, headers=city["chief"]
        )
        assert [r["id"] for r in found.json()["residents"]] == [resident_id], (by, found.text)
    # Another station's reviewer finds nothing, and may not open the record.
    assert (
        client.post("/api/records/search", json=search, headers=city["north-chief"]).json()["residents"] == []
    )
    no_reason = client.post("/api/records/search", json=search | {"reason": "x"}, headers=city["chief"])
    assert no_reason.status_code == 422 and no_reason.json()["error"]["code"] == "reason_required"

    detail = client.get(
        f"/api/records/residents/{resident_id}", params={"reason": REASON}, headers=city["chief"]
    )
    assert detail.status_code == 200
    fields = {h["field"]: h for h in detail.json()["history"]}
    assert fields["id_number"]["after"] == person.id_number and fields["id_number"]["before"] is None
    assert fields["name"]["actor"] == "collector" and fields["name"]["reviewer"] == "chief"
    assert fields["name"]["channel"] == "terminal"
    house_id = masked["residents"][0]["house_id"]
    house = client.get(
        f"/api/records/houses/{house_id}", params={"reason": REASON}, headers=city["collector"]
    )
    assert house.status_code == 200 and house.json()["residents"][0]["name"] != person.name
    assert {h["field"] for h in house.json()["history"]} >= {"community", "building", "room"}
    outside = client.get(
        f"/api/records/houses/{house_id}", params={"reason": REASON}, headers=city["north-chief"]
    )
    assert outside.status_code == 403
    photo_id = detail.json()["photos"][0]["id"]
    image = client.get(f"/api/records/photos/{photo_id}", headers=city["chief"])
    assert image.status_code == 200 and image.content == PNG
    assert client.get(f"/api/records/photos/{photo_id}", headers=city["north-chief"]).status_code == 403


def test_a_returned_collection_tells_its_collector_why(
    client: TestClient, city: dict[str, dict[str, str]]
) -> None:
    cid = _submit(client, city["collector"], "c-ret-000001", kind="house", record=_house()).json()["id"]
    short = client.post(
        f"/api/records/collections/{cid}/return", json={"reason": "no"}, headers=city["chief"]
    )
    assert short.status_code == 422 and short.json()["error"]["code"] == "reason_required"
    back = client.post(
        f"/api/records/collections/{cid}/return", json={"reason": "门牌号拍照不清"}, headers=city["chief"]
    )
    assert back.status_code == 200 and back.json()["status"] == "returned"
    mine = client.get("/api/records/collections", headers=city["collector"]).json()
    assert mine[0]["status"] == "returned" and mine[0]["return_reason"] == "门牌号拍照不清"
    assert client.get("/api/records/collections", headers=city["north-collector"]).json() == []


def test_one_identity_number_at_two_actual_addresses_is_a_conflict_not_an_overwrite(
    client: TestClient, services: Services, city: dict[str, dict[str, str]]
) -> None:
    person = _person(6)
    first = _submit(
        client, city["collector"], "c-cf-0000001", kind="resident", record=_resident(person), house=_house()
    )
    client.post(f"/api/records/collections/{first.json()['id']}/approve", headers=city["chief"])
    second = _submit(
        client, city["collector"], "c-cf-0000002", kind="resident",
        record=_resident(person, moved_in="2025-03-01"), house=_house(SOUTH_POINT_2, room="101"),
    )  # fmt: skip
    held = client.post(f"/api/records/collections/{second.json()['id']}/approve", headers=city["chief"])
    assert held.json()["status"] == "conflict" and held.json()["conflict_id"]
    assert _count(services, rt.records_residents) == 1
    search = {"by": "id_number", "value": person.id_number, "reason": REASON}
    before = client.post("/api/records/search", json=search, headers=city["chief"]).json()["residents"]
    assert len(before) == 1 and before[0]["house_label"].endswith("501室")
    conflicts = client.get("/api/records/conflicts", headers=city["chief"]).json()
    assert [c["id"] for c in conflicts] == [held.json()["conflict_id"]]
    assert conflicts[0]["claimed_house"]["label"].endswith("101室")
    settled = client.post(
        f"/api/records/conflicts/{conflicts[0]['id']}/settle",
        json={"resolution": "move_to_new", "note": "本人确认已搬至新址"},
        headers=city["chief"],
    )
    assert settled.status_code == 200 and settled.json()["status"] == "settled", settled.text
    twice = client.post(
        f"/api/records/conflicts/{conflicts[0]['id']}/settle",
        json={"resolution": "keep_existing", "note": "再次处理测试"},
        headers=city["chief"],
    )
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "conflict_settled"
    after = client.post("/api/records/search", json=search, headers=city["chief"]).json()["residents"]
    assert len(after) == 1 and after[0]["house_label"].endswith("101室") and after[0]["id"] == before[0]["id"]
    history = client.get(
        f"/api/records/residents/{after[0]['id']}", params={"reason": REASON}, headers=city["chief"]
    )
    moves = [h for h in history.json()["history"] if h["field"] == "house_id"]
    assert len(moves) == 2 and moves[-1]["before"] == before[0]["house_id"]
    assert client.get("/api/records/conflicts", headers=city["chief"]).json() == []


def test_photos_are_sniffed_and_limited(client: TestClient, city: dict[str, dict[str, str]]) -> None:
    cid = _submit(client, city["collector"], "c-photo-0001", kind="house", record=_house()).json()["id"]
    path = f"/api/records/collections/{cid}/photos"
    fake = client.post(
        path, content=b"GIF89a" + b"0" * 50, headers=city["collector"] | {"Content-Type": "image/png"}
    )
    assert fake.status_code == 415
    added = client.post(path, content=PNG, headers=city["collector"] | {"Content-Type": "image/png"})
    assert added.status_code == 201
    other = client.post(path, content=PNG, headers=city["north-collector"] | {"Content-Type": "image/png"})
    assert other.status_code == 403
    listed = client.get("/api/records/collections", headers=city["collector"]).json()
    assert [p["id"] for p in listed[0]["photos"]] == [added.json()["id"]]
    bad = {"content_type": "image/jpeg", "data": base64.b64encode(PNG).decode()}
    mismatch = _submit(client, city["collector"], "c-photo-0002", kind="house", record=_house(), photos=[bad])
    assert mismatch.status_code == 415
