"""An admin sets a station up in the browser: draws its jurisdiction on the map, adds a unit and an
officer (whose first password is shown once), rosters them on a shift, and sees the unit go on
duty with its crew; a commander gets the tabs of their powers only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from jingwu.service.auth import Role
from tests.browser.conftest import LiveServer, PageErrors
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def _log_in(page: Page, username: str) -> None:
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")


def _click_map(page: Page, fx: float, fy: float) -> None:
    box = page.locator("#station-map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)


def test_an_admin_draws_a_station_adds_a_unit_and_an_officer_and_rosters_them(
    live_server: LiveServer, open_page, page_errors: PageErrors, screenshot_dir: Path
) -> None:
    live_server.add_user("chief", Role.ADMIN)
    page = open_page("/admin/", viewport=(1400, 900))
    _log_in(page, "chief")
    expect(page.locator("#tab-stations")).to_be_visible()
    expect(page.locator("#station-rows tr")).to_have_count(2)  # the test city's SOUTH and NORTH

    # A station drawn where the test city's two leave a gap would overlap them: the server says so.
    page.click("#station-new")
    page.fill("#station-form [name=name]", "测试新派出所")
    page.fill("#station-form [name=district]", "南岗区")
    page.click("#draw-start")
    for fx, fy in ((0.45, 0.45), (0.55, 0.45), (0.55, 0.55), (0.45, 0.55)):
        _click_map(page, fx, fy)
    expect(page.locator("#station-shape")).to_contain_text("4")
    page.click("#draw-finish")
    page.click("#station-form button[type=submit]")
    expect(page.locator("#station-form .error")).to_contain_text("重叠")
    page.screenshot(path=str(screenshot_dir / "admin-station-overlap.png"))

    # A jurisdiction imported from a GeoJSON file, far from both, is taken.
    far = page.locator("#geojson-file")
    far.set_input_files(
        files=[
            {
                "name": "station.geojson",
                "mimeType": "application/geo+json",
                "buffer": (
                    b'{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":'
                    b"[[[126.90,45.90],[126.95,45.90],[126.95,45.95],[126.90,45.95],[126.90,45.90]]]}}"
                ),
            }
        ]
    )
    expect(page.locator("#station-shape")).to_contain_text("1")
    page.fill("#station-form [name=id]", "far-east")
    page.click("#station-form button[type=submit]")
    expect(page.locator("#station-form")).to_be_hidden()
    expect(page.locator("#station-rows tr")).to_have_count(3)
    expect(page.locator("#station-rows")).to_contain_text("测试新派出所")

    # A unit of the test city's south station.
    page.click("[data-tab=units]")
    page.click("#unit-new")
    page.fill("#unit-form [name=callsign]", "nx01")
    page.select_option("#unit-form [name=kind]", "patrol_car")
    page.select_option("#unit-form [name=station_id]", "south")
    page.fill("#unit-form [name=capabilities]", "traffic，armed")
    page.click("#unit-form button[type=submit]")
    row = page.locator("#unit-rows tr", has_text="NX01")
    expect(row).to_contain_text("下班")  # a new unit waits off duty

    # An officer: the first password is shown once.
    page.click("[data-tab=people]")
    page.click("#person-new")
    page.fill("#person-form [name=police_number]", "230777")
    page.fill("#person-form [name=name]", "周测")
    page.select_option("#person-form [name=station_id]", "south")
    page.click("#person-form button[type=submit]")
    expect(page.locator("#person-password")).to_contain_text("230777")
    password = re.search(r"：(\S+)$", page.locator("#person-password").inner_text())
    assert password is not None
    expect(page.locator("#person-rows tr", has_text="230777")).to_contain_text("周测")

    # A custom shift running now, crewing NX01 with the officer: the unit goes on duty.
    page.click("[data-tab=roster]")
    page.select_option("#roster-station", "south")
    page.click("#shift-new")
    page.select_option("#shift-form [name=kind]", "custom")
    page.evaluate(
        """() => {
          const fmt = (d) =>
            d.toLocaleString("sv-SE", {timeZone: "Asia/Shanghai"}).slice(0, 16).replace(" ", "T");
          const form = document.getElementById("shift-form");
          form.elements.starts_at.value = fmt(new Date(Date.now() - 10 * 60000));
          form.elements.ends_at.value = fmt(new Date(Date.now() + 4 * 3600000));
        }"""
    )
    crew = page.locator("#crew-rows tr", has_text="NX01").locator("input")
    crew.fill("230777")
    page.click("#shift-form button[type=submit]")
    expect(page.locator("#shift-rows tr")).to_have_count(1)
    expect(page.locator("#shift-rows")).to_contain_text("NX01: 230777")
    page.click("[data-tab=units]")
    row = page.locator("#unit-rows tr", has_text="NX01")
    expect(row).to_contain_text("空闲")
    expect(row).to_contain_text("周测（230777）")
    page.screenshot(path=str(screenshot_dir / "admin-units.png"))

    # The officer logs in by police number, bound to NX01 for the shift.
    me = live_server.login("230777", password.group(1))
    assert me["unit_id"] == page.locator("#unit-rows tr", has_text="NX01").get_attribute("data-unit-id")
    # The one error the page met is the refusal it showed: the overlapping station (409).
    assert [e for e in page_errors if "status of 409" not in e] == []


def test_a_commander_gets_the_fleet_people_and_roster_but_not_the_stations(
    live_server: LiveServer, open_page, page_errors: PageErrors
) -> None:
    live_server.add_user("boss", Role.COMMANDER)
    page = open_page("/admin/")
    _log_in(page, "boss")
    expect(page.locator("[data-tab=stations]")).to_be_hidden()
    expect(page.locator("[data-tab=units]")).to_be_visible()
    expect(page.locator("#tab-units")).to_be_visible()
    # A dispatcher is told this page is not for them.
    page.click("#logout-btn")
    page.wait_for_load_state()
    _log_in(page, "dispatcher")
    expect(page.locator("#login-error")).to_contain_text("无管理权限")
    assert page_errors == []


def test_the_console_names_who_rides_a_unit(
    live_server: LiveServer, open_page, page_errors: PageErrors
) -> None:
    from datetime import timedelta

    from jingwu.service.administration.personnel import PersonDraft
    from jingwu.service.administration.roster import ShiftDraft
    from jingwu.service.administration.units import UnitDraft

    services = live_server.services
    unit = services.admin.units.create(UnitDraft("NC01", "patrol_car", "south"), actor="test")
    made = services.admin.personnel.create(
        PersonDraft("230888", "吴测", "一级警员", "south", password="a-long-test-password-8"), actor="test"
    )
    now = services.dispatch.clock()
    services.admin.roster.add_shift(
        ShiftDraft(
            "south",
            "custom",
            starts_at=now - timedelta(minutes=5),
            ends_at=now + timedelta(hours=2),
            crews=[(unit.id, [made.person.id])],
        ),
        actor="test",
    )
    page = open_page("/")
    _log_in(page, "dispatcher")
    page.wait_for_function("() => window.jingwuConsole && window.jingwuConsole.state.units.size > 0")
    page.evaluate(f"() => window.jingwuConsole.showUnit({unit.id!r})")
    expect(page.locator("#toast")).to_contain_text("吴测（230888）")
    assert page_errors == []
