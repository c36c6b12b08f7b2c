"""The questions the terminal asks before a status goes out, in a real Chromium on a phone:
处置完毕 asks how the incident ended (in view, whatever the scroll), and an arrival that the
server places far from the scene asks the officer to confirm, and is then kept flagged."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import ContextFactory, LiveServer, PageErrors
from tests.browser.test_console import log_in as console_log_in
from tests.browser.test_terminal import (
    dispatch_incident,
    drive_to_scene,
    in_view,
    log_in,
    officer_unit,
    open_terminal,
    tap,
    unit_statuses,
)


def last_status_event(live_server: LiveServer, unit_id: str) -> dict[str, Any]:
    events = live_server.client().get(f"/api/units/{unit_id}/timeline").json()
    return [e for e in events if e["type"] == "unit.status_changed"][-1]  # type: ignore[no-any-return]


def test_cleared_asks_for_the_disposition_in_view_and_sends_it_with_the_status(
    live_server: LiveServer, new_context: ContextFactory, page_errors: PageErrors, screenshot_dir: Path
) -> None:
    unit = officer_unit(live_server)
    page = open_terminal(new_context, live_server)
    log_in(page, unit.callsign)
    incident_id = dispatch_incident(live_server, unit)
    expect(page.locator("#dispatch")).to_be_visible()
    drive_to_scene(live_server, unit)
    tap(page, "on_scene", "on_scene")

    # Scrolled to the bottom, as an officer reading the activity would be.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.locator("#actions button[data-action='cleared']").click()
    sheet = page.locator("#disposition-sheet")
    expect(sheet).to_be_visible()
    in_view(page, "#disposition-sheet")
    in_view(page, "#disposition-sheet [data-sheet=ok]")
    chips = page.locator("#disposition-quick button")
    expect(chips).to_have_text(["已调解", "已处理", "移交", "无效警情"])

    # Nothing written: the phone asks again and sends nothing.
    page.locator("#disposition-sheet [data-sheet=ok]").click()
    expect(page.locator("#disposition-error")).to_be_visible()
    assert page.evaluate("window.jingwuTerminal.outbox.count()") == 0
    # Cancelled: still on scene, on the phone and on the server.
    page.locator("#disposition-sheet [data-sheet=cancel]").click()
    expect(sheet).to_be_hidden()
    expect(page.locator("#unit-status")).to_have_attribute("data-status", "on_scene")
    assert unit_statuses(live_server, unit.id)[-1] == "on_scene"

    page.locator("#actions button[data-action='cleared']").click()
    expect(page.locator("#disposition")).to_have_value("")
    page.fill("#disposition", "双方握手言和")
    chips.filter(has_text="已调解").click()
    expect(page.locator("#disposition")).to_have_value("已调解：双方握手言和")
    page.screenshot(path=str(screenshot_dir / "terminal-disposition.png"))
    page.locator("#disposition-sheet [data-sheet=ok]").click()
    expect(sheet).to_be_hidden()
    status = page.locator("#unit-status")
    expect(status).to_have_attribute("data-status", "cleared")
    expect(status).to_have_attribute("data-pending", "false")

    assert unit_statuses(live_server, unit.id)[-2:] == ["on_scene", "cleared"]
    assert last_status_event(live_server, unit.id)["data"]["disposition"] == "已调解：双方握手言和"
    assert live_server.services.dispatch.get_incident(incident_id).disposition == "已调解：双方握手言和"
    assert page_errors == []


def test_a_far_arrival_asks_the_officer_to_confirm_and_is_kept_flagged(
    live_server: LiveServer, new_context: ContextFactory, page_errors: PageErrors, screenshot_dir: Path
) -> None:
    unit = officer_unit(live_server)  # its car's last fix is about a kilometre from the scene
    page = open_terminal(new_context, live_server)
    log_in(page, unit.callsign)
    dispatch_incident(live_server, unit)
    expect(page.locator("#dispatch")).to_be_visible()
    tap(page, "en_route", "en_route")

    page.locator("#actions button[data-action='on_scene']").click()
    sheet = page.locator("#far-sheet")
    expect(sheet).to_be_visible()
    in_view(page, "#far-sheet")
    question = page.locator("#far-text")
    expect(question).to_have_text(re.compile(r"^你距现场约 \d+ 米，确认已到达？$"))
    shown_m = int(re.findall(r"\d+", question.inner_text())[0])
    assert shown_m > 200
    page.screenshot(path=str(screenshot_dir / "terminal-far-arrival.png"))

    # Not there after all: nothing is reported.
    page.locator("#far-sheet [data-sheet=cancel]").click()
    expect(sheet).to_be_hidden()
    status = page.locator("#unit-status")
    expect(status).to_have_attribute("data-status", "en_route")
    expect(status).to_have_attribute("data-pending", "false")
    expect(page.locator("#outbox-count")).to_have_attribute("data-count", "0")
    assert unit_statuses(live_server, unit.id)[-1] == "en_route"
    expect(page.locator("#outbox-errors li")).to_have_count(0)  # a question, not a refusal

    # Asked again, the officer confirms: the arrival counts as tapped, flagged.
    page.locator("#actions button[data-action='on_scene']").click()
    expect(sheet).to_be_visible()
    page.locator("#far-sheet [data-sheet=ok]").click()
    expect(status).to_have_attribute("data-status", "on_scene")
    expect(status).to_have_attribute("data-pending", "false")
    arrival = last_status_event(live_server, unit.id)["data"]["arrival"]
    assert "far" in arrival["flags"] and arrival["confirmed"] is True
    assert arrival["distance_m"] == shown_m
    stats = live_server.client().get("/api/stats/today").json()
    assert (stats["arrivals_flagged"], stats["arrivals_today"]) == (1, 0)
    # The console's 5-minute figure says what it left out.
    console = new_context(viewport=(1440, 900)).new_page()
    console.goto(live_server.url + "/")
    console_log_in(console)
    figure = console.locator("#figures [data-figure=arrivals_within_target]")
    expect(figure.locator("b")).to_have_text("–")
    expect(figure.locator("small")).to_have_text("另 1 起到达存疑，未计入")
    # Chromium logs the server's question itself ("the server responded with a status of 409").
    assert page_errors.excluding("status of 409") == []
