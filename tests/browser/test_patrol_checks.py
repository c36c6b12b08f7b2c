"""A patrol check that hits, end to end in real Chromium: an officer checks an identity number on
the terminal (the check character verified as typed), the terminal shows the hit in red with what
to do, and the console of a dispatcher of that station rings with the banner: officer, unit,
place, list, instruction and backup by road ETA, until acknowledged."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from jingwu.domain.access import Jurisdiction, Role
from jingwu.domain.identity import id_check_char
from jingwu.domain.watchlists import WatchList
from tests.browser.conftest import PASSWORD, ContextFactory, LiveServer, PageErrors, units_on_roads
from tests.browser.test_console import log_in as console_log_in
from tests.browser.test_records_collection import PHONE, _log_in

HERE = (45.7560, 126.6420)  # on a road inside the test city's south station
ID17 = "23010319900101123"
WANTED = ID17 + id_check_char(ID17)
MISTYPED = ID17 + ("0" if id_check_char(ID17) != "0" else "1")


def test_a_hit_on_the_terminal_rings_the_stations_console(
    live_server: LiveServer, new_context: ContextFactory, page_errors: PageErrors, screenshot_dir: Path
) -> None:
    units = live_server.seed_units(units_on_roads(live_server.network, 6))
    officer_unit = next(u for u in units if u.station_id == "south")
    officer = live_server.add_officer(officer_unit)
    south = Jurisdiction.parse("station:south")
    accounts = live_server.services.auth.accounts
    accounts.create_user("south-desk", PASSWORD, Role.DISPATCHER, station_id="south", jurisdiction=south)
    live_server.services.checks.add_entry(
        WatchList.WANTED, subject=WANTED, reason="网上追逃", label="王五", actor="chief", station_id="south"
    )

    console = new_context(viewport=(1400, 900)).new_page()
    console.goto(live_server.url + "/")
    console_log_in(console, "south-desk")

    terminal = new_context(**PHONE, geolocation=HERE).new_page()
    terminal.goto(live_server.url + "/terminal/")
    terminal.evaluate("window.jingwuTerminal.ready")
    _log_in(terminal, officer)
    expect(terminal.locator("#tab-checks")).to_be_attached()
    tab = terminal.locator("#tabs button[data-tab='checks']")
    expect(tab).to_be_visible()
    tab.click()
    panel = terminal.locator("#tab-checks")
    subject = panel.locator("input[name=subject]")
    subject.fill(MISTYPED)
    expect(panel.locator(".chk-hint")).to_have_attribute("data-ok", "false")
    expect(panel.locator(".chk-hint")).to_contain_text("校验位不符")
    subject.fill(WANTED)
    expect(panel.locator(".chk-hint")).to_have_attribute("data-ok", "true")
    panel.locator("[data-pick=suspicious]").click()
    expect(panel.locator("input[name=reason]")).to_have_value("形迹可疑")
    panel.locator(".chk-submit").click()

    result = panel.locator(".chk-result")
    expect(result).to_have_attribute("data-result", "hit")
    expect(result).to_contain_text("比中")
    expect(result).to_contain_text("不要单独控制")
    terminal.screenshot(path=str(screenshot_dir / "patrol-check-hit-terminal.png"))

    banner = console.locator(".check-alert")
    expect(banner).to_be_visible(timeout=10_000)
    expect(banner).to_have_attribute("data-ringing", "true")
    expect(banner).to_contain_text("盘查比中")
    expect(banner).to_contain_text("在逃人员")
    expect(banner.locator(".check-officer")).to_have_text(officer)
    expect(banner.locator(".check-unit")).to_contain_text(officer_unit.callsign)
    expect(banner.locator(".check-place")).to_contain_text("45.756")
    expect(banner).to_contain_text("保持安全距离")
    expect(banner.locator(".check-backup")).to_contain_text("约")
    assert console.evaluate("window.jingwuConsole.checkAlerts.alarm.rings") >= 1
    console.screenshot(path=str(screenshot_dir / "patrol-check-hit-console.png"))
    banner.locator(".check-ack").click()
    expect(console.locator(".check-alert")).to_have_count(0)
    assert console.evaluate("window.jingwuConsole.checkAlerts.alarm.timer") is None

    # A clear check rings nothing.
    panel.locator("button[data-mode=vehicle]").click()
    subject.fill("黑A12345")
    panel.locator("input[name=reason]").fill("例行检查")
    panel.locator(".chk-submit").click()
    expect(result).to_have_attribute("data-result", "clear")
    console.wait_for_timeout(500)
    expect(console.locator(".check-alert")).to_have_count(0)
    assert not page_errors.excluding("favicon")


def test_a_commander_keeps_the_watch_lists_at_the_station_desk(
    live_server: LiveServer, new_context: ContextFactory, page_errors: PageErrors
) -> None:
    south = Jurisdiction.parse("station:south")
    live_server.services.auth.accounts.create_user(
        "chief-south", PASSWORD, Role.COMMANDER, station_id="south", jurisdiction=south
    )
    officer = live_server.client("dispatcher")
    checked = officer.post(
        "/api/checks/vehicle",
        json={
            "plate": "黑A9X527",
            "reason": "设卡检查",
            "location": dict(zip(("lat", "lon"), HERE, strict=True)),
        },
    )
    assert checked.status_code == 200 and checked.json()["result"] == "clear"

    desk = new_context(viewport=(1400, 900)).new_page()
    desk.on("dialog", lambda dialog: dialog.accept())
    desk.goto(live_server.url + "/station/")
    _log_in(desk, "chief-south")
    desk.locator("#tabs button[data-tab='watchlists']").click()
    panel = desk.locator("#tab-watchlists")
    expect(panel.locator(".watchlists-recent tr[data-result='clear']")).to_contain_text("黑A9X527")
    panel.locator("button[data-list='stolen_vehicle']").click()
    form = panel.locator("form.watchlists-add")
    form.locator("input[name=subject]").fill("黑A·9X527")
    form.locator("input[name=label]").fill("白色轿车")
    form.locator("input[name=reason]").fill("车辆被盗，车主报案")
    form.locator("button[type=submit]").click()
    row = panel.locator(".watchlists-table tr[data-entry-id]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("黑A9X527")  # a commander sees subjects in full
    expect(row).to_contain_text("车辆被盗")
    hit = officer.post("/api/checks/vehicle", json={"plate": "黑A9X527", "reason": "设卡检查"})
    assert hit.json()["result"] == "hit"
    row.locator("button.watchlists-remove").click()
    expect(panel.locator(".watchlists-table tr[data-entry-id]")).to_have_count(0)
    again = officer.post("/api/checks/vehicle", json={"plate": "黑A9X527", "reason": "设卡检查"})
    assert again.json()["result"] == "clear"
    assert not page_errors.excluding("favicon")
