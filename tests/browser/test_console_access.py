"""The console as each role sees it: a station's dispatcher sees their station only, an analyst
watches without acting, residents are turned away, and a caller's number is shown only on
request, with a reason, masked unless asked in full."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from jingwu.domain.access import Jurisdiction, Role
from jingwu.domain.geo import GeoPoint
from jingwu.domain.model import Reporter
from jingwu.domain.status import SourceChannel
from jingwu.errors import Unauthenticated
from jingwu.service.dispatching import NewIncident
from tests.browser.conftest import PASSWORD, LiveServer, PageErrors, units_on_roads
from tests.browser.test_console import SCENE, log_in

NORTH_SCENE = GeoPoint(45.8171, 126.5890)  # Songbei, a road in the test city's north station


def _report(live_server: LiveServer, point: GeoPoint, *, phone: str | None = None) -> str:
    incident = live_server.services.dispatch.create_incident(
        NewIncident(
            type_code="crim.theft",
            priority=None,
            location=point,
            source=SourceChannel.CALL_110,
            reporter=Reporter(name="王小明", phone=phone) if phone else None,
        ),
        actor="calltaker",
    )
    return incident.id


def test_a_station_dispatcher_sees_only_their_station_and_a_caller_only_with_a_reason(
    live_server: LiveServer, open_page, page_errors: PageErrors, screenshot_dir: Path
) -> None:
    live_server.seed_units(units_on_roads(live_server.network, 20))
    live_server.services.auth.accounts.create_user(
        "south-desk", PASSWORD, Role.DISPATCHER, jurisdiction=Jurisdiction.parse("station:south")
    )
    south = _report(live_server, SCENE, phone="+8613812345678")
    north = _report(live_server, NORTH_SCENE)
    page = open_page("/")
    log_in(page, "south-desk")
    expect(page.locator("#whoami")).to_contain_text("保健路派出所")
    expect(page.locator(f"#queue li[data-id='{south}']")).to_be_visible()
    expect(page.locator(f"#queue li[data-id='{north}']")).to_have_count(0)
    # A new call in the other station never reaches this console; one in its own does.
    other = _report(live_server, NORTH_SCENE)
    mine = _report(live_server, SCENE)
    expect(page.locator(f"#queue li[data-id='{mine}']")).to_be_visible()
    expect(page.locator(f"#queue li[data-id='{other}']")).to_have_count(0)
    # Every unit on the map and in the figures is the station's own.
    station_of = page.evaluate(
        "() => [...window.jingwuConsole.state.units.values()].map((u) => u.station_id)"
    )
    assert station_of and set(station_of) == {"south"}

    page.click(f"#queue li[data-id='{south}']")
    expect(page.locator("#reporter-block")).to_be_visible()
    expect(page.locator("#reporter-view")).to_be_hidden()
    page.fill("#reporter-reason", "ab")
    page.click("#reporter-form button[type=submit]")
    expect(page.locator("#detail-error")).to_contain_text("事由")
    page.fill("#reporter-reason", "回拨报警人")
    page.click("#reporter-form button[type=submit]")
    expect(page.locator("#reporter-view")).to_have_text("王** · 138****5678 （已脱敏）")
    page.click("#reporter-full")
    expect(page.locator("#reporter-view")).to_have_text("王小明 · +8613812345678")
    page.screenshot(path=str(screenshot_dir / "console-station-dispatcher.png"))
    reads = [r for r in live_server.services.audit.page(limit=50) if r.action == "personal_data.read"]
    assert [(r.actor, r.reason, r.details["full"]) for r in reads] == [
        ("south-desk", "回拨报警人", True),
        ("south-desk", "回拨报警人", False),
    ]
    # Opening another incident forgets what was shown.
    page.click(f"#queue li[data-id='{mine}']")
    expect(page.locator("#reporter-view")).to_be_hidden()
    assert page_errors.excluding("422") == []


def test_an_analyst_watches_the_live_picture_but_is_offered_no_command(
    live_server: LiveServer, open_page, page_errors: PageErrors
) -> None:
    live_server.seed_units(units_on_roads(live_server.network, 10))
    live_server.add_user("analyst", Role.ANALYST)
    incident = _report(live_server, SCENE, phone="13812345678")
    page = open_page("/")
    log_in(page, "analyst")
    page.click(f"#queue li[data-id='{incident}']")
    for hidden in ("#new-incident-btn", "#recommend-block", "#reporter-block", "#note-form", "#backup-btn"):
        expect(page.locator(hidden)).to_be_hidden()
    page.keyboard.press("n")
    expect(page.locator("#incident-dialog")).not_to_be_visible()
    # The picture stays live: a new call appears without a reload.
    later = _report(live_server, SCENE)
    expect(page.locator(f"#queue li[data-id='{later}']")).to_be_visible()
    assert page_errors == []


def test_a_resident_is_told_the_console_is_not_for_their_role(
    live_server: LiveServer, open_page, page_errors: PageErrors
) -> None:
    live_server.add_user("resident", Role.RESIDENT)
    page = open_page("/")
    page.fill("#username", "resident")
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-error")).to_have_text("该账号的角色不使用指挥台")
    expect(page.locator("body")).to_have_class("logged-out")
    assert page.evaluate("() => localStorage.getItem('jingwu.console.session')") is None
    assert page_errors == []


def test_the_owner_is_told_of_failed_log_ins_since_the_last_one(
    live_server: LiveServer, open_page, page_errors: PageErrors
) -> None:
    live_server.add_user("analyst", Role.ANALYST)
    for _ in range(3):
        with pytest.raises(Unauthenticated):
            live_server.services.auth.logins.login("analyst", "wrong-password-1", source="203.0.113.9")
    page = open_page("/")
    page.fill("#username", "analyst")
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#toast")).to_contain_text("上次登录以来有 3 次失败的登录尝试（来自 203.0.113.9）")
    assert page_errors == []
