"""The residents' self-service over HTTP: phone sign-in, a resident's own applications and reports
only, the station's verification and approval, the certificate, and its public check that tells
nothing about the person. Bad input is refused with a stable code and changes nothing."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jingwu.composition import Services
from jingwu.domain.identity import mask_id_number
from jingwu.service.auth import Role
from jingwu.service.self_service import DemoSender
from jingwu.service.self_service.senders import LogSender
from tests.api.conftest import CENTRE, login
from tests.conftest import PASSWORD

# The routes on SQLite: what the two backends do differently (locks, indexes, sealed columns) is
# tested on both in tests/service/self_service/; here each test builds a city over HTTP.
pytestmark = pytest.mark.parametrize("migrated_database_url", ["sqlite"], indirect=True)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"0" * 64
ID_NUMBER = "230103199003071233"
NAME = "赵 小燕"


@pytest.fixture
def portal(services: Services, client: TestClient) -> TestClient:
    services.self_service.sender = DemoSender()
    services.auth.accounts.create_user("community", PASSWORD, Role.COMMUNITY_OFFICER, station_id="south")
    services.auth.accounts.create_user(
        "community-north", PASSWORD, Role.COMMUNITY_OFFICER, station_id="north"
    )
    services.auth.accounts.create_user("chief", PASSWORD, Role.COMMANDER, station_id="south")
    services.auth.accounts.create_user("resident", PASSWORD, Role.RESIDENT)
    return client


def phone_sign_in(client: TestClient, phone: str) -> dict[str, str]:
    sent = client.post("/api/service/sign-in/code", json={"phone": phone})
    assert sent.status_code == 200, sent.text
    answer = client.post("/api/service/sign-in", json={"phone": phone, "code": sent.json()["demo_code"]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["role"] == "resident"
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def apply(client: TestClient, headers: dict[str, str], **overrides: Any) -> Any:
    body = {
        "kind": "no_criminal_record",
        "applicant_name": NAME,
        "id_number": ID_NUMBER,
        "address": "南岗区保健路 12 号 3 单元 501",
        "purpose": "出国留学",
        "location": CENTRE,
    } | overrides
    return client.post("/api/service/applications", json=body, headers=headers)


def upload(
    client: TestClient, headers: dict[str, str], app_id: str, document: str, data: bytes, kind: str
) -> Any:
    return client.post(
        f"/api/service/applications/{app_id}/documents",
        params={"document": document},
        content=data,
        headers=headers | {"Content-Type": kind},
    )


def error_code(answer: Any) -> str:
    return str(answer.json()["error"]["code"])


def test_a_resident_applies_and_downloads_the_certificate_that_anyone_can_check(portal: TestClient) -> None:
    resident = phone_sign_in(portal, "13800138000")
    created = apply(portal, resident)
    assert created.status_code == 201, created.text
    app = created.json()
    assert app["station_id"] == "south" and app["status"] == "submitted"
    assert {m["document"] for m in app["missing"]} == {"id_card", "purpose_letter"}
    assert upload(portal, resident, app["id"], "id_card", PNG, "image/png").status_code == 201
    assert upload(portal, resident, app["id"], "purpose_letter", PDF, "application/pdf").status_code == 201

    officer = login(portal, "community")
    queue = portal.get("/api/service/station/applications", headers=officer).json()
    assert [a["id"] for a in queue] == [app["id"]]
    assert queue[0]["id_number"] == mask_id_number(ID_NUMBER)  # masked for a community officer
    checks = [{"document": "id_card", "ok": True}, {"document": "purpose_letter", "ok": True}]
    verified = portal.post(
        f"/api/service/station/applications/{app['id']}/verify", json={"checks": checks}, headers=officer
    )
    assert verified.status_code == 200 and verified.json()["status"] == "verified"
    # A community officer verifies; approving is the station's (service.approve).
    refused = portal.post(f"/api/service/station/applications/{app['id']}/approve", json={}, headers=officer)
    assert refused.status_code == 403
    approved = portal.post(
        f"/api/service/station/applications/{app['id']}/approve", json={}, headers=login(portal, "chief")
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    code = approved.json()["certificate_code"]

    pdf = portal.get(f"/api/service/applications/{app['id']}/certificate", headers=resident)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True
    ).stdout.decode()
    assert "无犯罪记录证明" in text and code in text and NAME in text

    page = portal.get(f"/service/verify/{code}")
    assert page.status_code == 200 and 'data-status="valid"' in page.text and "有效" in page.text
    assert "南岗分局保健路派出所" in page.text
    check = portal.get(f"/api/service/verify/{code}")
    assert check.status_code == 200
    assert check.json()["status"] == "valid" and check.json()["station_name"] == "南岗分局保健路派出所"
    for personal in (NAME, "小燕", ID_NUMBER, ID_NUMBER[-4:], "保健路 12", "13800138000", "8000"):
        assert personal not in check.text and personal not in page.text
    assert portal.get("/api/service/verify/JW-00000-00000-00000-00000-0").json()["status"] == "unknown"


def test_a_resident_sees_only_their_own_applications(portal: TestClient) -> None:
    first = phone_sign_in(portal, "13800138000")
    second = phone_sign_in(portal, "13900139000")
    app_id = apply(portal, first).json()["id"]
    assert portal.get(f"/api/service/applications/{app_id}", headers=second).status_code == 404
    assert upload(portal, second, app_id, "id_card", PNG, "image/png").status_code == 404
    assert portal.get(f"/api/service/applications/{app_id}/certificate", headers=second).status_code == 404
    assert portal.post(f"/api/service/applications/{app_id}/resubmit", headers=second).status_code == 404
    assert portal.get("/api/service/applications", headers=second).json() == []
    assert [a["id"] for a in portal.get("/api/service/applications", headers=first).json()] == [app_id]
    # Nor the police's routes, nor another station's officer.
    assert portal.get("/api/service/station/applications", headers=first).status_code == 403
    north = login(portal, "community-north")
    assert portal.get(f"/api/service/station/applications/{app_id}", headers=north).status_code == 403
    assert portal.get("/api/service/station/applications", headers=north).json() == []


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"kind": "passport"}, 422, "unknown_application_kind"),
        ({"id_number": "230103199003071234"}, 422, "bad_id_checksum"),
        ({"location": {"lat": 10.0, "lon": 10.0}}, 422, "outside_jurisdiction"),
        ({"location": None}, 422, "station_required"),
        ({"station_id": "nowhere"}, 404, "station_not_found"),
        ({"extra": 1}, 422, "validation_failed"),
    ],
)
def test_a_bad_application_is_refused_and_stores_nothing(
    portal: TestClient, overrides: dict[str, Any], status: int, code: str
) -> None:
    resident = phone_sign_in(portal, "13800138000")
    answer = apply(portal, resident, **overrides)
    assert answer.status_code == status, answer.text
    assert error_code(answer) == code
    assert portal.get("/api/service/applications", headers=resident).json() == []


def test_a_bad_upload_is_refused_and_stores_nothing(portal: TestClient) -> None:
    resident = phone_sign_in(portal, "13800138000")
    app_id = apply(portal, resident).json()["id"]
    for data, kind, status in (
        (PNG, "application/pdf", 415),
        (b"MZ\x90\x00", "image/png", 415),
        (PNG, "text/html", 415),
    ):
        assert upload(portal, resident, app_id, "id_card", data, kind).status_code == status
    assert error_code(upload(portal, resident, app_id, "photo", PNG, "image/png")) == "unknown_document"
    assert portal.get(f"/api/service/applications/{app_id}", headers=resident).json()["documents"] == []


def test_a_scanned_document_may_pass_the_json_cap_up_to_the_upload_limit(
    portal: TestClient, services: Services
) -> None:
    resident = phone_sign_in(portal, "13800138000")
    app_id = apply(portal, resident).json()["id"]
    scan = PDF + b"0" * (3 * 1024 * 1024)  # past the 2 MiB cap on JSON bodies
    assert upload(portal, resident, app_id, "id_card", scan, "application/pdf").status_code == 201
    too_large = PDF + b"0" * services.settings.max_upload_bytes
    refused = upload(portal, resident, app_id, "household_register", too_large, "application/pdf")
    assert refused.status_code == 413
    documents = portal.get(f"/api/service/applications/{app_id}", headers=resident).json()["documents"]
    assert [d["document"] for d in documents] == ["id_card"]


def test_the_officer_says_what_is_missing_and_the_resident_brings_it(portal: TestClient) -> None:
    resident = phone_sign_in(portal, "13800138000")
    app_id = apply(portal, resident).json()["id"]
    upload(portal, resident, app_id, "id_card", PNG, "image/png")
    officer = login(portal, "community")
    url = f"/api/service/station/applications/{app_id}/verify"
    incomplete = portal.post(url, json={"checks": [{"document": "id_card", "ok": True}]}, headers=officer)
    assert incomplete.status_code == 422 and error_code(incomplete) == "checklist_incomplete"
    checks = [
        {"document": "id_card", "ok": True},
        {"document": "purpose_letter", "ok": False, "reason": "未上传"},
    ]
    back = portal.post(url, json={"checks": checks}, headers=officer).json()
    assert back["status"] == "missing_documents"
    mine = portal.get(f"/api/service/applications/{app_id}", headers=resident).json()
    assert [(m["document"], m["zh"]) for m in mine["missing"]] == [
        ("purpose_letter", "用途说明(单位或学校出具)")
    ]
    early = portal.post(f"/api/service/applications/{app_id}/resubmit", headers=resident)
    assert early.status_code == 422 and error_code(early) == "documents_missing"
    upload(portal, resident, app_id, "purpose_letter", PDF, "application/pdf")
    again = portal.post(f"/api/service/applications/{app_id}/resubmit", headers=resident)
    assert again.status_code == 200 and again.json()["status"] == "verifying"
    assert [a["id"] for a in portal.get("/api/service/station/applications", headers=officer).json()] == [
        app_id
    ]


def test_a_wrong_code_is_refused_and_a_gateway_sender_keeps_the_code_off_the_answer(
    services: Services, portal: TestClient
) -> None:
    sent = portal.post("/api/service/sign-in/code", json={"phone": "13800138000"}).json()
    wrong = f"{(int(sent['demo_code']) + 1) % 1_000_000:06d}"
    answer = portal.post("/api/service/sign-in", json={"phone": "13800138000", "code": wrong})
    assert answer.status_code == 401 and error_code(answer) == "bad_code"
    assert answer.json()["error"]["params"]["attempts_left"] == 4
    assert (
        portal.post("/api/service/sign-in", json={"phone": "13800138000", "code": "12ab56"}).status_code
        == 422
    )
    assert portal.post("/api/service/sign-in/code", json={"phone": "13800138000"}).status_code == 429
    services.self_service.sender = LogSender()
    other = portal.post("/api/service/sign-in/code", json={"phone": "13900139000"})
    assert other.status_code == 200 and "demo_code" not in other.json()


def test_the_password_resident_still_signs_in_and_applies(portal: TestClient) -> None:
    resident = login(portal, "resident")
    assert apply(portal, resident).status_code == 201


def test_a_non_urgent_report_lands_in_the_queue_from_the_app_channel(portal: TestClient) -> None:
    resident = phone_sign_in(portal, "13800138000")
    urgent = portal.post(
        "/api/service/reports", json={"type_code": "crim.robbery", "location": CENTRE}, headers=resident
    )
    assert urgent.status_code == 422 and error_code(urgent) == "not_a_non_urgent_type"
    made = portal.post(
        "/api/service/reports",
        json={"type_code": "order.noise", "location": CENTRE, "description": "楼上深夜装修"},
        headers=resident,
    )
    assert made.status_code == 201, made.text
    report = made.json()
    assert report["source"] == "app"
    photo = portal.post(
        f"/api/service/reports/{report['incident_id']}/photos",
        content=PNG,
        headers=resident | {"Content-Type": "image/png"},
    )
    assert photo.status_code == 201
    dispatcher = login(portal, "dispatcher")
    seen = portal.get(f"/api/incidents/{report['incident_id']}", headers=dispatcher).json()
    assert seen["source"] == "app" and seen["type_code"] == "order.noise"
    assert [r["photos"] for r in portal.get("/api/service/reports", headers=resident).json()] == [1]
    other = phone_sign_in(portal, "13900139000")
    assert portal.get("/api/service/reports", headers=other).json() == []
    stolen = portal.post(
        f"/api/service/reports/{report['incident_id']}/photos",
        content=PNG,
        headers=other | {"Content-Type": "image/png"},
    )
    assert stolen.status_code == 404


def test_the_verify_route_slows_an_enumeration(portal: TestClient) -> None:
    answers = [portal.get(f"/api/service/verify/JW-{i:05d}").status_code for i in range(70)]
    assert answers[:60] == [200] * 60
    assert 429 in answers[60:]


def test_the_portal_and_the_verify_page_are_served(portal: TestClient) -> None:
    assert portal.get("/service/").status_code == 200
    unknown = portal.get("/service/verify/<img src=x onerror=alert(1)>")
    assert "text/html" in unknown.headers["content-type"] and 'data-status="unknown"' in unknown.text
    assert "<img src=x" not in unknown.text  # what was typed is escaped
    asked = portal.get("/service/verify/JW-ANY", headers={"Accept": "application/json"})
    assert asked.json()["status"] == "unknown"
