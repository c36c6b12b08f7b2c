"""The community officer's disputes on the terminal and the station desk (real Chromium): the list
puts the overdue case first; a visit with a note and a photo recorded offline reaches the server
once when the signal is back; the desk shows the station's list in the same order and the visit."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import select, update

from jingwu.domain.access import Jurisdiction, Role
from jingwu.domain.disputes import DisputeKind, RiskFactor
from jingwu.domain.geo import GeoPoint
from jingwu.service.disputes import NewDispute, NewParty, everywhere
from jingwu.store import disputes_tables as d
from tests.browser.conftest import PASSWORD, ContextFactory, LiveServer, PageErrors, wait_until
from tests.browser.test_records_collection import PHONE, _log_in, _png

HOME = (45.7560, 126.6420)  # inside the test city's south station


def _open(live_server: LiveServer, address: str, factors: frozenset[RiskFactor]) -> str:
    case = live_server.services.disputes.cases.open(
        NewDispute(
            kind=DisputeKind.NEIGHBOUR,
            summary="楼上漏水",
            address=address,
            location=GeoPoint(*HOME),
            parties=[NewParty("赵建华"), NewParty("钱美玲")],
            factors=factors,
            officer="community-south",
        ),
        actor="community-south",
        reach=everywhere,
    )
    return str(case["id"])


def test_a_visit_recorded_offline_syncs_once_and_the_overdue_case_leads_both_lists(
    live_server: LiveServer, new_context: ContextFactory, page_errors: PageErrors, screenshot_dir: Path
) -> None:
    accounts = live_server.services.auth.accounts
    south = Jurisdiction.parse("station:south")
    accounts.create_user(
        "community-south", PASSWORD, Role.COMMUNITY_OFFICER, station_id="south", jurisdiction=south
    )
    accounts.create_user("chief-south", PASSWORD, Role.COMMANDER, station_id="south", jurisdiction=south)
    grave = _open(live_server, "保健路 3 号", frozenset({RiskFactor.WEAPONS, RiskFactor.VIOLENCE_THREATENED}))
    late = _open(live_server, "保健路 5 号", frozenset())
    # The bureau's day, not UTC's: from 16:00 UTC it is already tomorrow in Shanghai.
    today = datetime.now(live_server.services.disputes.work.zone).date()
    live_server.services.disputes.work.add_follow_up(
        late, due_on=today + timedelta(days=1), note=None, actor="x", reach=everywhere
    )
    with live_server.services.engine.begin() as conn:  # as if the follow-up had been set a week ago
        conn.execute(update(d.dispute_follow_ups).values(due_on=today - timedelta(days=3)))
        conn.execute(
            update(d.disputes)
            .where(d.disputes.c.id == late)
            .values(next_follow_up_on=today - timedelta(days=3))
        )

    context = new_context(**PHONE, geolocation=HOME)
    page = context.new_page()
    page.goto(live_server.url + "/terminal/")
    page.evaluate("window.jingwuTerminal.ready")
    _log_in(page, "community-south")
    expect(page.locator("#tab-disputes")).to_be_attached()
    tab = page.locator("#tabs button[data-tab='disputes']")
    if tab.is_visible():
        tab.click()
    items = page.locator("#disputes-mine li[data-id]")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_have_attribute("data-id", late)  # overdue first, though the other is graver
    expect(items.nth(0)).to_contain_text("回访逾期")
    expect(items.nth(1)).to_have_attribute("data-id", grave)
    page.evaluate("navigator.serviceWorker.ready")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")

    context.set_offline(True)
    page.locator(f"#disputes-mine li[data-id='{grave}']").click()
    visit = page.locator("#disputes-visit")
    expect(visit).to_be_visible()
    visit.locator("textarea[name=note]").fill("上门调解，双方同意先修水管")
    visit.locator("input[name=photo]").set_input_files(
        files=[{"name": "pipe.png", "mimeType": "image/png", "buffer": _png()}]
    )
    visit.locator("button[type=submit]").click()
    wait_until(page, "async () => (await window.jingwuTerminal.outbox.count()) === 2")
    page.screenshot(path=str(screenshot_dir / "terminal-dispute-visit-offline.png"))
    engine = live_server.services.engine
    with engine.connect() as conn:
        assert conn.execute(select(d.dispute_visits.c.id)).all() == []

    context.set_offline(False)
    wait_until(page, "async () => (await window.jingwuTerminal.outbox.count()) === 0", timeout_s=20)
    page.evaluate("window.jingwuTerminal.outbox.flush()")  # a further flush sends nothing again
    page.wait_for_timeout(500)
    with engine.connect() as conn:
        visits = conn.execute(select(d.dispute_visits.c.id, d.dispute_visits.c.note)).all()
        photos = conn.execute(select(d.dispute_photos.c.visit_id, d.dispute_photos.c.size)).all()
    assert [v.note for v in visits] == ["上门调解，双方同意先修水管"]
    assert len(photos) == 1 and photos[0].visit_id == visits[0].id and photos[0].size > 0

    desk = context.browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    try:
        station = desk.new_page()
        station.goto(live_server.url + "/station/#disputes")
        _log_in(station, "chief-south")
        station.locator("#tabs button[data-tab='disputes']").click()
        rows = station.locator(".disputes-list tbody tr[data-id]")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_have_attribute("data-id", late)
        expect(rows.nth(0)).to_contain_text("逾期 3 天")
        expect(rows.nth(1)).to_have_attribute("data-risk", "critical")
        rows.nth(1).click()
        detail = station.locator(".disputes-detail")
        expect(detail).to_contain_text("上门调解，双方同意先修水管")
        expect(detail.locator(".photos img")).to_have_count(1)
        detail.locator("input[name=reason]").fill("约谈当事人")
        detail.locator("form.row button[type=submit]").first.click()
        expect(detail.locator(".disputes-parties")).to_contain_text("赵建华")  # a commander sees in full
        station.screenshot(path=str(screenshot_dir / "station-disputes.png"))
    finally:
        desk.close()
    # The outbox's tries while offline fail as they should; nothing else may.
    assert page_errors.excluding("ERR_INTERNET_DISCONNECTED") == []
