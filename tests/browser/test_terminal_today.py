"""The community officer's terminal opens on 今日工作: one list of the collections the station
returned, the disputes they follow and the residents' applications waiting for their visit, each
line leading to the tab where the work is done (real Chromium, phone-sized)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from jingwu.service.auth import Role
from tests.browser.conftest import PASSWORD, ContextFactory, LiveServer, PageErrors

pytestmark = pytest.mark.browser

PHONE = {"viewport": (390, 844), "is_mobile": True, "has_touch": True}
SOUTH = {"lat": 45.7560, "lon": 126.6420}  # inside the test city's south station
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _work_of_the_day(live_server: LiveServer) -> None:
    """A returned collection, a followed dispute and an application, all at the south station."""
    live_server.add_user("community-south", Role.COMMUNITY_OFFICER, station_id="south")
    live_server.add_user("chief-south", Role.COMMANDER, station_id="south")
    officer = live_server.client("community-south")
    chief = live_server.client("chief-south")
    collection = {
        "id": "today-collection-1",
        "kind": "house",
        "record": {"street_address": "红军街85号", "community": "保健路", "building": "3", "room": "501"}
        | SOUTH,
    }
    answer = officer.post("/api/records/collections", json=collection)
    assert answer.status_code == 201, answer.text
    answer = chief.post(
        "/api/records/collections/today-collection-1/return", json={"reason": "门牌照片不清晰"}
    )
    assert answer.status_code == 200, answer.text
    dispute = officer.post(
        "/api/disputes",
        json={
            "kind": "family",
            "summary": "夫妻因赡养老人争吵",
            "address": "保健路 8 号",
            "location": SOUTH,
            "parties": [{"name": "赵四"}, {"name": "钱五"}],
            "risk_factors": ["violence_threatened"],
        },
    )
    assert dispute.status_code == 201, dispute.text
    due = (date.today() + timedelta(days=2)).isoformat()
    answer = officer.post(f"/api/disputes/{dispute.json()['id']}/follow-ups", json={"due_on": due})
    assert answer.status_code == 201, answer.text
    resident = live_server.client(live_server.add_user("resident", Role.RESIDENT))
    application = resident.post(
        "/api/service/applications",
        json={
            "kind": "residence_certificate",
            "applicant_name": "周 国强",
            "id_number": "230103199003071233",
            "address": "南岗区保健路 20 号",
            "purpose": "子女入学",
            "station_id": "south",
        },
    )
    assert application.status_code == 201, application.text


def test_the_community_officer_starts_the_day_on_one_list_of_their_work(
    live_server: LiveServer, new_context: ContextFactory, page_errors: PageErrors, screenshot_dir: Path
) -> None:
    _work_of_the_day(live_server)
    page = new_context(**PHONE).new_page()
    page.goto(live_server.url + "/terminal/")
    page.evaluate("window.jingwuTerminal.ready")
    page.fill("#username", "community-south")
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")

    # No unit: no dispatch view, and the work list is the first tab.
    tabs = page.locator("#tabs button[data-tab]")
    expect(tabs.first).to_have_attribute("data-tab", "today")
    expect(page.locator("#tabs button[data-tab='dispatch']")).to_have_count(0)
    expect(page.locator("#main-view")).to_be_hidden()
    today = page.locator("#tab-today")
    expect(today).to_be_visible()
    sections = today.locator(".today-section")
    expect(sections).to_have_count(3)
    expect(sections.nth(0)).to_contain_text("退回的采集 · 1")
    expect(sections.nth(0)).to_contain_text("门牌照片不清晰")
    expect(sections.nth(1)).to_contain_text("跟进中的纠纷 · 1")
    expect(sections.nth(1)).to_contain_text("夫妻因赡养老人争吵")
    expect(sections.nth(2)).to_contain_text("待核查的申请 · 1")
    page.screenshot(path=str(screenshot_dir / "terminal-today.png"))

    # A line opens the tab where that work is done.
    sections.nth(1).locator(".today-item").first.click()
    expect(page.locator("#tabs button[data-tab='disputes']")).to_have_attribute("aria-selected", "true")
    expect(today).to_be_hidden()
    expect(page.locator("#tab-disputes")).to_be_visible()

    # In English, the same list in English words.
    page.locator("#tabs button[data-tab='today']").click()
    page.click("#lang-toggle")
    expect(sections.nth(2)).to_contain_text("Applications to verify · 1")
    assert page_errors == []
