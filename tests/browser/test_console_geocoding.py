"""Addresses in the call taker's form, in a real Chromium over the bundled Harbin index: suggestions
as typed, chosen with the keyboard; a map click names its address but never overwrites a typed one."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, Request, Route, expect

from jingwu.domain.geo import GeoPoint
from jingwu.geocode import Match
from tests.browser.conftest import LiveServer, PageErrors
from tests.browser.test_console import SCENE, log_in

SUGGESTIONS = 8  # as many as the console asks for (web/console/address.js)


def _open_form(page: Page) -> None:
    page.keyboard.press("n")
    expect(page.locator("#incident-dialog")).to_be_visible()
    page.fill("#type-search", "盗窃")
    page.locator("#type-options li[data-code='crim.theft']").click()
    expect(page.locator("#address")).to_be_focused()


def _address_text(match: Match) -> str:
    return match.label if match.label.startswith(match.district) else match.district + match.label


def _click_map_at(page: Page, point: GeoPoint) -> tuple[float, float]:
    """Click the map where `point` is (brought to the middle, zoomed in); the form's coordinates."""
    before = page.input_value("#lat"), page.input_value("#lon")
    x, y = page.evaluate(
        """([lat, lon]) => {
             const map = window.jingwuConsole.map.map;
             map.setView([lat, lon], 17);
             const p = map.latLngToContainerPoint([lat, lon]);
             return [p.x, p.y];
           }""",
        [point.lat, point.lon],
    )
    page.locator("#map").click(position={"x": x, "y": y})
    page.wait_for_function(
        "([lat, lon]) => document.getElementById('lat').value !== lat"
        " || document.getElementById('lon').value !== lon",
        arg=list(before),
    )
    return float(page.input_value("#lat")), float(page.input_value("#lon"))


def _wait_until(page: Page, condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Let the page run (and Playwright deliver its events) until `condition` holds."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(20)


def test_call_taker_types_part_of_an_address_picks_it_by_keyboard_and_the_incident_gets_it(
    live_server: LiveServer, open_page, page_errors: PageErrors, screenshot_dir: Path
) -> None:
    first, then = "红军街", "8"  # part of 红军街85号, a house number the index has
    expected = live_server.services.geocoding.search(first + then, SUGGESTIONS)
    assert expected and expected[0].kind == "address"
    page = open_page("/")
    log_in(page)
    asked: list[str] = []

    def on_request(request: Request) -> None:
        if "/api/geocode?" in request.url:
            asked.append(request.url)

    page.on("request", on_request)
    _open_form(page)

    # Suggestions come as the call taker types; Esc closes them and leaves the form open.
    page.keyboard.type(first, delay=50)  # a quick typist: well inside the 200 ms debounce
    options = page.locator("#address-options li[data-index]")
    expect(options.first).to_be_visible()
    page.keyboard.press("Escape")
    expect(options).to_have_count(0)
    expect(page.locator("#incident-dialog")).to_be_visible()

    # One more character: the list follows what is in the field now, best first as the API ranks.
    page.keyboard.type(then)
    expect(options.locator("b")).to_have_text([m.label for m in expected])
    expect(options.first).to_have_attribute("data-kind", expected[0].kind)
    # Debounced: not one request per keystroke, and the last one asks for the whole text.
    assert len(asked) < len(first + then)
    assert parse_qs(urlsplit(asked[-1]).query)["q"] == [first + then]

    # Down, down, up: the first suggestion; Enter takes it (and does not submit the form).
    for key in ("ArrowDown", "ArrowDown", "ArrowUp"):
        page.keyboard.press(key)
    expect(options.nth(0)).to_have_class("active")
    page.screenshot(path=str(screenshot_dir / "console-address-suggestions.png"))
    page.keyboard.press("Enter")
    chosen = expected[0]
    expect(options).to_have_count(0)
    expect(page.locator("#incident-dialog")).to_be_visible()
    expect(page.locator("#address")).to_have_value(_address_text(chosen))
    expect(page.locator("#lat")).to_have_value(f"{chosen.lat:.6f}")
    expect(page.locator("#lon")).to_have_value(f"{chosen.lon:.6f}")
    marker = page.evaluate("window.jingwuConsole.map.picked")
    assert marker == {"lat": chosen.lat, "lon": chosen.lon}

    page.click("#incident-form button[type=submit]")
    expect(page.locator("#incident-dialog")).to_be_hidden()
    row = page.locator("#queue li[data-status=pending]")
    expect(row).to_have_count(1)
    expect(row.locator(".where")).to_have_text(_address_text(chosen))
    incident_id = row.get_attribute("data-id")
    assert incident_id
    stored = live_server.services.dispatch.get_incident(incident_id)
    assert stored.address == _address_text(chosen) == f"{chosen.district}{chosen.label}"
    assert (stored.location.lat, stored.location.lon) == (
        round(chosen.lat, 6),
        round(chosen.lon, 6),
    )
    assert page_errors == []


def test_a_map_click_fills_the_address_but_never_overwrites_what_was_typed(
    live_server: LiveServer, open_page, page_errors: PageErrors
) -> None:
    geocoding = live_server.services.geocoding
    crossing = geocoding.search("南岗区红军街与邮政街交口", 1)[0]
    page = open_page("/")
    log_in(page)
    _open_form(page)

    # A click names the place; a second click elsewhere replaces what the first one wrote.
    lat, lon = _click_map_at(page, SCENE)
    first = geocoding.reverse(lat, lon).label
    assert first
    expect(page.locator("#address")).to_have_value(first)
    lat, lon = _click_map_at(page, GeoPoint(crossing.lat, crossing.lon))
    second = geocoding.reverse(lat, lon).label
    assert second and second != first
    expect(page.locator("#address")).to_have_value(second)

    # The incident, its queue row and its detail carry the address, not coordinates.
    page.click("#incident-form button[type=submit]")
    expect(page.locator("#incident-dialog")).to_be_hidden()
    row = page.locator("#queue li[data-status=pending]")
    expect(row.locator(".where")).to_have_text(second)
    incident_id = row.get_attribute("data-id")
    assert incident_id
    assert live_server.services.dispatch.get_incident(incident_id).address == second
    expect(page.locator("#detail-summary")).to_contain_text(second)

    # What the call taker typed stays: a click moves the place and asks nothing.
    _open_form(page)
    reversed_: list[str] = []
    page.on("request", lambda r: reversed_.append(r.url) if "/api/geocode/reverse" in r.url else None)
    typed = "小区东门外"
    page.fill("#address", typed)
    _click_map_at(page, SCENE)
    assert reversed_ == []
    expect(page.locator("#address")).to_have_value(typed)

    # …even when the typing comes while the answer to an earlier click is on its way.
    held: list[Route] = []
    settled: list[str] = []
    page.route("**/api/geocode/reverse?*", lambda route: held.append(route))
    for event in ("requestfinished", "requestfailed"):
        page.on(event, lambda r: settled.append(r.url) if "/api/geocode/reverse" in r.url else None)
    page.fill("#address", "")
    _click_map_at(page, GeoPoint(crossing.lat, crossing.lon))
    _wait_until(page, lambda: len(held) == 1)  # the click's question is held on its way
    page.fill("#address", typed)
    # The page may have given the request up already (cancelled): then nothing can arrive.
    with contextlib.suppress(PlaywrightError):
        held[0].continue_()
    _wait_until(page, lambda: len(settled) == 1)
    page.evaluate("() => new Promise((done) => setTimeout(done, 100))")  # the answer's handler ran
    expect(page.locator("#address")).to_have_value(typed)
    assert page_errors == []
