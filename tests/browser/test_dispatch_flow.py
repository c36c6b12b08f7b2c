"""The whole loop in two real browser contexts: a dispatcher's console and an officer's terminal.

The dispatcher creates an incident, sees the road-time recommendations and dispatches; the
officer's terminal shows the dispatch within 2 s; the officer taps received, en route, on scene,
cleared; the console shows each change live."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Page, expect

from jingwu.domain.gps import Fix
from jingwu.service.positions import Source
from tests.browser.conftest import PASSWORD, LiveServer, PageErrors, units_on_roads
from tests.browser.test_console import SCENE, log_in
from tests.conftest import make_unit

DISPATCH_SHOWN_WITHIN_S = 2.0


def log_in_terminal(page: Page, username: str) -> None:
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_function("() => window.jingwuTerminal && window.jingwuTerminal.ready")
    page.evaluate("window.jingwuTerminal.ready")
    expect(page.locator("#unit-status")).to_have_attribute("data-status", "available")


def test_console_dispatch_reaches_the_terminal_and_each_status_comes_back_live(
    live_server: LiveServer, new_context, page_errors: PageErrors, screenshot_dir: Path
) -> None:
    # One unit near the scene, so that it is the one recommended, and a few others farther away.
    near = live_server.network.snap(SCENE.lat + 0.004, SCENE.lon - 0.004)
    unit = make_unit("car1", near.lat, near.lon, at=datetime.now(UTC))
    live_server.seed_units([unit, *units_on_roads(live_server.network, 8, seed=5, prefix="o")])
    officer = live_server.add_officer(unit)

    console = new_context(viewport=(1440, 900)).new_page()
    console.goto(live_server.url + "/")
    log_in(console)
    terminal = new_context(viewport=(390, 844), is_mobile=True, has_touch=True).new_page()
    terminal.goto(live_server.url + "/terminal/")
    log_in_terminal(terminal, officer)
    expect(terminal.locator("#dispatch")).to_be_hidden()

    console.click("#new-incident-btn")
    console.fill("#type-search", "fight")
    console.locator("#type-options li[data-code='order.fight']").click()
    console.fill("#lat", str(SCENE.lat))
    console.fill("#lon", str(SCENE.lon))
    console.fill("#address", "南岗区果戈里大街 300 号")
    console.fill("#description", "两人在店门口打架")
    console.click("#incident-form button[type=submit]")
    top = console.locator("#recommendations li[data-unit]").first
    expect(top).to_have_attribute("data-unit", unit.id)

    top.locator("button[data-action=dispatch]").click()
    sent_at = time.monotonic()
    expect(terminal.locator("#dispatch")).to_be_visible(timeout=DISPATCH_SHOWN_WITHIN_S * 1000)
    shown_after = time.monotonic() - sent_at
    assert shown_after <= DISPATCH_SHOWN_WITHIN_S, shown_after
    expect(terminal.locator("#dispatch-address")).to_contain_text("果戈里大街")
    expect(terminal.locator("#unit-status")).to_have_attribute("data-status", "dispatched")
    assigned = console.locator(f"#assigned li[data-unit='{unit.id}']")
    expect(assigned).to_have_attribute("data-status", "dispatched")

    incident_id = console.locator("#detail").get_attribute("data-id")
    row = console.locator(f"#queue li[data-id='{incident_id}']")
    steps = [
        ("acknowledged", "acknowledged"),
        ("en_route", "en_route"),
        ("on_scene", "on_scene"),
    ]
    for action, status in steps:
        if action == "on_scene":  # the car's tracker puts it at the scene
            fix = Fix(ts=datetime.now(UTC), lat=SCENE.lat, lon=SCENE.lon, speed=0.0)
            live_server.services.positions.ingest([(unit.id, fix)], source=Source.MANUAL)
        terminal.click(f"button[data-action={action}]")
        expect(terminal.locator("#unit-status")).to_have_attribute("data-status", status)
        expect(assigned).to_have_attribute("data-status", status)
        expect(row).to_have_attribute("data-status", status)
        if action == "en_route":
            terminal.screenshot(path=str(screenshot_dir / "terminal-en-route.png"))
    terminal.click("button[data-action=cleared]")
    terminal.fill("#disposition", "双方已调解，无人受伤")
    terminal.click("#disposition-sheet [data-sheet=ok]")
    expect(terminal.locator("#unit-status")).to_have_attribute("data-status", "cleared")
    expect(assigned).to_have_attribute("data-status", "cleared")
    expect(row).to_have_attribute("data-status", "cleared")
    # The crew's disposition, live on the console: in the timeline and in the incident's summary.
    expect(console.locator("#timeline li[data-type='unit.status_changed']").last).to_contain_text("调解")
    expect(console.locator("#detail-summary")).to_contain_text("双方已调解，无人受伤")

    timeline = [
        e["data"]["to"]
        for e in live_server.client().get(f"/api/units/{unit.id}/timeline").json()
        if e["type"] == "unit.status_changed"
    ]
    assert timeline == ["dispatched", "acknowledged", "en_route", "on_scene", "cleared"]
    assert page_errors == []
