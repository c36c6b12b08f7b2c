"""A resident in the browser: signs in with phone and code (the demo sender shows it), applies for
a certificate with its documents, and once the community officer verified it and the station
approved it, downloads the PDF, whose Chinese text and code read back with pdftotext; the public
page of the code says it is valid. A kiosk signs out and clears itself after a while untouched."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from jingwu.service.auth import Role
from jingwu.service.self_service import DemoSender
from tests.browser.conftest import PASSWORD, LiveServer, PageErrors

pytestmark = pytest.mark.browser

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"0" * 64
ID_NUMBER = "230103199003071233"
PHONE = "13800138000"


def _sign_in(page: Page) -> None:
    page.fill("#phone", PHONE)
    page.click("#get-code")
    demo = page.locator("#demo-code")
    expect(demo).to_be_visible()
    code = demo.get_attribute("data-code")
    assert code is not None and len(code) == 6 and code in demo.inner_text()
    page.fill("#code", code)
    page.click("#sign-in")
    expect(page.locator("#view-home")).to_be_visible()


def test_a_resident_applies_and_downloads_a_certificate_that_verifies(
    live_server: LiveServer, open_page, page_errors: PageErrors, screenshot_dir: Path, tmp_path: Path
) -> None:
    live_server.services.self_service.sender = DemoSender()
    live_server.add_user("community", Role.COMMUNITY_OFFICER, station_id="south")
    live_server.add_user("chief", Role.COMMANDER, station_id="south")
    page = open_page("/service/", viewport=(420, 900))
    _sign_in(page)

    page.click("[data-go=apply]")
    page.select_option("#apply-kind", "no_criminal_record")
    expect(page.locator("#apply-documents")).to_contain_text("用途说明")
    page.fill("#apply-name", "孙 丽华")
    page.fill("#apply-id", ID_NUMBER)
    page.fill("#apply-address", "南岗区保健路 18 号 2 单元 302")
    page.fill("#apply-purpose", "入职体检")
    page.select_option("#apply-station", "south")
    page.click("#apply-submit")
    expect(page.locator("#detail-status")).to_have_attribute("data-status", "submitted")
    page.set_input_files(
        "input[type=file][data-document=id_card]",
        files=[{"name": "id.png", "mimeType": "image/png", "buffer": PNG}],
    )
    expect(page.locator(".doc[data-document=id_card] .ok")).to_be_visible()
    page.set_input_files(
        "input[type=file][data-document=purpose_letter]",
        files=[{"name": "letter.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    expect(page.locator(".doc[data-document=purpose_letter] .ok")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "service-application.png"))
    assert "null" not in page.locator("#detail").inner_text()  # a part left out is left out

    # The community officer verifies it, the station's commander approves it.
    officer = live_server.client("community")
    waiting = officer.get("/api/service/station/applications").json()
    assert len(waiting) == 1
    app_id = waiting[0]["id"]
    checks = [{"document": "id_card", "ok": True}, {"document": "purpose_letter", "ok": True}]
    verified = officer.post(f"/api/service/station/applications/{app_id}/verify", json={"checks": checks})
    assert verified.json()["status"] == "verified", verified.text
    approved = live_server.client("chief").post(
        f"/api/service/station/applications/{app_id}/approve", json={}
    )
    assert approved.status_code == 200, approved.text
    code = approved.json()["certificate_code"]

    page.click("#view-detail .back")
    row = page.locator(f"[data-application='{app_id}']")
    expect(row.locator(".status")).to_have_attribute("data-status", "approved")
    row.click()
    expect(page.locator("#certificate-code")).to_contain_text(code)
    with page.expect_download() as got:
        page.click("#download")
    pdf = tmp_path / "certificate.pdf"
    got.value.save_as(pdf)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True).stdout.decode()
    for expected in ("无犯罪记录证明", "南岗分局保健路派出所", "孙 丽华", "入职体检", code):
        assert expected in text, expected
    assert ID_NUMBER not in text

    check = open_page(f"/service/verify/{code}", context=page.context)
    expect(check.locator("#result")).to_have_attribute("data-status", "valid")
    expect(check.locator("#result")).to_contain_text("有效")
    expect(check.locator("#station")).to_have_text("南岗分局保健路派出所")
    assert "孙" not in check.locator("main").inner_text()
    check.screenshot(path=str(screenshot_dir / "service-verify.png"))
    assert page_errors == []


def test_a_kiosk_signs_out_and_clears_the_screen_when_left_alone(
    live_server: LiveServer, open_page, page_errors: PageErrors
) -> None:
    live_server.services.self_service.sender = DemoSender()
    page = open_page("/service/?kiosk=1&idle=10", viewport=(1080, 1920))
    assert "kiosk" in (page.locator("body").get_attribute("class") or "")
    _sign_in(page)
    page.click("[data-go=apply]")
    page.fill("#apply-name", "孙 丽华")
    expect(page.locator("#idle")).to_be_visible(timeout=15_000)
    expect(page.locator("#view-signin")).to_be_visible(timeout=15_000)
    expect(page.locator("#apply-name")).to_have_value("")
    assert page.evaluate("localStorage.getItem('jingwu.service.kiosk')") is None
    assert page_errors == []


def test_the_officer_verifies_on_the_terminal_and_the_chief_approves_at_the_desk(
    live_server: LiveServer, new_context, page_errors: PageErrors, screenshot_dir: Path
) -> None:
    live_server.add_user("community-south", Role.COMMUNITY_OFFICER, station_id="south")
    live_server.add_user("chief-south", Role.COMMANDER, station_id="south")
    resident = live_server.add_user("resident", Role.RESIDENT)
    client = live_server.client(resident)
    app_id = client.post(
        "/api/service/applications",
        json={
            "kind": "residence_certificate",
            "applicant_name": "周 国强",
            "id_number": ID_NUMBER,
            "address": "南岗区保健路 20 号",
            "station_id": "south",  # no purpose: its line is left out on the terminal
        },
    ).json()["id"]
    for document in ("id_card", "household_register"):
        answer = client.post(
            f"/api/service/applications/{app_id}/documents",
            params={"document": document},
            content=PNG,
            headers={"Content-Type": "image/png"},
        )
        assert answer.status_code == 201, answer.text

    terminal = new_context(viewport=(390, 844), is_mobile=True, has_touch=True).new_page()
    terminal.goto(live_server.url + "/terminal/")
    _password(terminal, "community-south")
    tab = terminal.locator("#tabs button[data-tab='applications']")
    expect(terminal.locator("#tab-applications")).to_be_attached()
    if tab.is_visible():
        tab.click()
    item = terminal.locator(f"#applications-queue [data-application='{app_id}']")
    expect(item).to_contain_text("居住证明")
    item.click()
    detail = terminal.locator("#applications-detail")
    detail.locator("[data-document=id_card] input[value=ok]").check()
    detail.locator("[data-document=household_register] input[value=ok]").check()
    detail.locator("[data-document=tenancy] input[value=missing]").check()
    detail.locator("input[name=reason-tenancy]").fill("未提供租赁合同")
    terminal.screenshot(path=str(screenshot_dir / "terminal-applications.png"))
    assert "null" not in detail.inner_text()
    terminal.click("#applications-send")
    expect(terminal.locator(f"#applications-queue [data-application='{app_id}']")).to_have_count(0)
    mine = client.get(f"/api/service/applications/{app_id}")
    for _ in range(50):
        if mine.json()["status"] != "submitted":
            break
        terminal.wait_for_timeout(100)
        mine = client.get(f"/api/service/applications/{app_id}")
    assert mine.json()["status"] == "missing_documents"
    assert [(m["document"], m["reason"]) for m in mine.json()["missing"]] == [("tenancy", "未提供租赁合同")]

    # The resident brings it; the officer verifies again (through the API here); the chief approves.
    client.post(
        f"/api/service/applications/{app_id}/documents",
        params={"document": "tenancy"},
        content=PDF,
        headers={"Content-Type": "application/pdf"},
    )
    assert client.post(f"/api/service/applications/{app_id}/resubmit").json()["status"] == "verifying"
    checks = [{"document": d, "ok": True} for d in ("id_card", "household_register", "tenancy")]
    officer = live_server.client("community-south")
    assert (
        officer.post(
            f"/api/service/station/applications/{app_id}/verify", json={"checks": checks}
        ).status_code
        == 200
    )

    desk = new_context(viewport=(1280, 800)).new_page()
    desk.goto(live_server.url + "/station/")
    _password(desk, "chief-south")
    desk.locator("#tabs button[data-tab='applications']").click()
    row = desk.locator(f".applications-list tr[data-application='{app_id}']")
    expect(row).to_contain_text("周")
    row.locator("button.approve").click()
    expect(desk.locator(f".applications-list tr[data-application='{app_id}']")).to_have_count(0)
    desk.select_option(".applications-desk select[name=stage]", "approved")
    expect(
        desk.locator(f".applications-list tr[data-application='{app_id}'] button.certificate")
    ).to_be_visible()
    desk.screenshot(path=str(screenshot_dir / "station-applications.png"))
    code = client.get(f"/api/service/applications/{app_id}").json()["certificate_code"]
    assert live_server.client(None).get(f"/api/service/verify/{code}").json()["status"] == "valid"
    assert page_errors == []


def _password(page: Page, username: str) -> None:
    expect(page.locator("#login-form")).to_be_visible()
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")


def test_a_resident_reports_noise_with_a_photo_from_where_they_stand(
    live_server: LiveServer, open_page, page_errors: PageErrors
) -> None:
    live_server.services.self_service.sender = DemoSender()
    page = open_page("/service/", viewport=(420, 900), geolocation=(45.7560, 126.6420))
    page.click("#lang")
    expect(page.locator("#get-code")).to_have_text("Get a code")
    _sign_in(page)
    page.click("[data-go=report]")
    page.select_option("#report-type", "order.noise")
    page.fill("#report-description", "Drilling upstairs after 23:00")
    page.click("#report-locate")
    expect(page.locator("#report-location")).to_contain_text("45.75600")
    page.set_input_files(
        "#report-photo", files=[{"name": "noise.png", "mimeType": "image/png", "buffer": PNG}]
    )
    page.click("#report-submit")
    expect(page.locator("#message")).to_contain_text("Reported")
    expect(page.locator("#reports li")).to_have_count(1)
    (incident,) = live_server.client().get("/api/incidents").json()
    assert incident["source"] == "app" and incident["type_code"] == "order.noise"
    photos = live_server.client().get(f"/api/incidents/{incident['id']}/attachments").json()
    assert len(photos) == 1
    assert page_errors == []
