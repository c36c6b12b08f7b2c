"""The console's incident records in a real Chromium: the search page with its filters and "more"
paging, a closed incident found and reopened, a correction saved and read in the history."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from jingwu.domain.geo import GeoPoint
from jingwu.domain.status import SourceChannel
from jingwu.service.dispatching import NewIncident
from tests.browser.conftest import LiveServer, PageErrors
from tests.browser.test_console import SCENE, log_in


def _incident(server: LiveServer, address: str, type_code: str = "crim.theft") -> str:
    incident = server.services.dispatch.create_incident(
        NewIncident(type_code, GeoPoint(SCENE.lat, SCENE.lon), SourceChannel.CALL_110, address=address),
        actor="calltaker",
    )
    return incident.id


def test_dispatcher_finds_a_closed_incident_reopens_and_corrects_it(
    live_server: LiveServer, open_page, page_errors: PageErrors, screenshot_dir: Path
) -> None:
    closed = _incident(live_server, "南岗区红军街15号")
    live_server.services.dispatch.close_incident(closed, disposition="已调解", actor="dispatcher")
    for i in range(55):
        _incident(live_server, f"南岗区西大直街{i}号")
    page = open_page("/")
    log_in(page)
    expect(page.locator("#queue li")).to_have_count(55)

    # The search page, from the header's button (or S): newest first, 50 to a page, then "more".
    page.click("#search-btn")
    expect(page.locator("#search-dialog")).to_be_visible()
    expect(page.locator("#search-results li[data-id]")).to_have_count(50)
    expect(page.locator("#search-more")).to_be_visible()
    page.click("#search-more")
    expect(page.locator("#search-results li[data-id]")).to_have_count(56)
    expect(page.locator("#search-more")).to_be_hidden()

    # Words and a status narrow it to the closed call.
    page.fill("#search-q", "红军街")
    page.select_option("#search-status", "closed")
    page.click("#search-form button[type=submit]")
    expect(page.locator("#search-results li[data-id]")).to_have_count(1)
    expect(page.locator("#search-results li[data-id]")).to_have_attribute("data-id", closed)
    page.screenshot(path=str(screenshot_dir / "console-search.png"))

    # Opened in the detail: closed, with the reopen form. Reopened with a reason, it is back in the queue.
    page.click(f"#search-results li[data-id='{closed}']")
    expect(page.locator("#search-dialog")).to_be_hidden()
    expect(page.locator("#detail-status")).to_have_attribute("data-status", "closed")
    expect(page.locator("#reopen-form")).to_be_visible()
    page.fill("#reopen-reason", "当事人再次报警")
    page.click("#reopen-btn")
    expect(page.locator("#detail-status")).to_have_attribute("data-status", "pending")
    expect(page.locator(f"#queue li[data-id='{closed}']")).to_be_visible()
    expect(page.locator("#timeline li[data-type='incident.reopened']")).to_contain_text("当事人再次报警")
    expect(page.locator("#reopen-form")).to_be_hidden()

    # A correction: priority and address; the history shows before and after, with the actor.
    page.click("#record-edit summary")
    page.select_option("#record-priority", "1")
    page.fill("#record-address", "南岗区红军街17号")
    page.fill("#record-reason", "回拨核实地址")
    page.click("#record-save")
    correction = page.locator("#timeline li[data-type='incident.updated']")
    expect(correction).to_contain_text("南岗区红军街15号 → 南岗区红军街17号")
    expect(correction).to_contain_text("一级")
    expect(correction).to_contain_text("dispatcher")
    expect(page.locator("#detail-summary")).to_contain_text("南岗区红军街17号")
    stored = live_server.services.dispatch.get_incident(closed)
    assert (stored.priority, stored.address, stored.status) == (1, "南岗区红军街17号", "pending")
    page.screenshot(path=str(screenshot_dir / "console-record-history.png"))

    # In English too.
    page.click("#lang-toggle")
    expect(correction).to_contain_text("Corrected: priority")
    assert page_errors == []


def test_a_stale_correction_is_refused_and_the_form_shows_the_newer_record(
    live_server: LiveServer, open_page, page_errors: PageErrors
) -> None:
    incident_id = _incident(live_server, "南岗区学府路1号")
    page = open_page("/")
    log_in(page)
    page.click(f"#queue li[data-id='{incident_id}']")
    page.click("#record-edit summary")
    page.fill("#record-address", "南岗区学府路2号")
    # Someone else corrects it first (another desk): this form was filled from the older version.
    client = live_server.client()
    current = client.get(f"/api/incidents/{incident_id}").json()
    assert client.patch(
        f"/api/incidents/{incident_id}", json={"version": current["version"], "description": "另一席位更正"}
    ).is_success
    page.click("#record-save")
    expect(page.locator("#detail-error")).to_be_visible()
    expect(page.locator("#record-description")).to_have_value("另一席位更正")
    assert live_server.services.dispatch.get_incident(incident_id).address == "南岗区学府路1号"
    assert page_errors.excluding("409") == []
