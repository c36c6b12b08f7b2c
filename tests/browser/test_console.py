"""The dispatcher's console in a real Chromium: intake, recommendations, dispatch, live updates,
reconnection after a server restart, big screen, languages, and smoothness at city scale."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from jingwu.composition import Services, assemble
from jingwu.domain import totp
from jingwu.domain.geo import GeoPoint
from jingwu.domain.gps import Fix
from jingwu.domain.model import Position
from jingwu.domain.status import SourceChannel, UnitStatus
from jingwu.service.dispatching import NewIncident
from jingwu.service.positions import Source
from jingwu.settings import Settings
from jingwu.store.db import make_engine
from tests.browser.conftest import DISPATCHER, PASSWORD, LiveServer, PageErrors, units_on_roads

TYPES = ["crim.robbery", "order.fight", "traffic.accident.injury", "crim.theft", "order.noise", "crim.fraud"]
FRAME_PROBE = """() => {
  const frames = window.__frames = [];
  let last = performance.now();
  const loop = (t) => { frames.push(t - last); last = t; requestAnimationFrame(loop); };
  requestAnimationFrame(loop);
  const p = window.jingwuConsole.perf; p.maxMs = 0; p.totalMs = 0; p.draws = 0;
}"""

# A block of 南岗区 with roads all around (the tests' units are spread over the whole extract).
SCENE = GeoPoint(45.7490, 126.6380)


def log_in(page: Page, username: str = DISPATCHER) -> None:
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page.locator("body")).not_to_have_class("logged-out")
    page.wait_for_function("() => window.jingwuConsole && window.jingwuConsole.ready")
    page.evaluate("window.jingwuConsole.ready")
    expect(page.locator("#conn-status")).to_have_attribute("data-status", "live")


def new_incident(
    services: Services,
    point: GeoPoint = SCENE,
    type_code: str = "crim.theft",
    *,
    address: str = "南岗区西大直街",
) -> str:
    incident = services.dispatch.create_incident(
        NewIncident(
            type_code=type_code,
            priority=None,
            location=point,
            source=SourceChannel.CALL_110,
            address=address,
        ),
        actor="calltaker",
    )
    return incident.id


def arrive(services: Services, unit_id: str, incident_id: str) -> None:
    """The unit reaches its incident: its tracker's fix at the scene, then "on scene" (an
    arrival far from the scene would be flagged and left out of the day's figures)."""
    scene = services.dispatch.get_incident(incident_id).location
    fix = Fix(ts=datetime.now(UTC), lat=scene.lat, lon=scene.lon, speed=0.0)
    services.positions.ingest([(unit_id, fix)], source=Source.MANUAL)
    services.dispatch.set_unit_status(unit_id, UnitStatus.ON_SCENE, actor=DISPATCHER)


def test_dispatcher_creates_an_incident_sees_road_recommendations_and_dispatches(
    live_server: LiveServer, open_page, page_errors: PageErrors, screenshot_dir: Path
) -> None:
    units = live_server.seed_units(units_on_roads(live_server.network, 40))
    page = open_page("/")
    log_in(page)
    expect(page.locator("#figures [data-figure=units_available] b")).to_have_text(
        f"{len(units)}/{len(units)}"
    )

    # The call taker opens the form with the keyboard, finds the type by its Chinese name, and
    # types the coordinates.
    page.keyboard.press("n")
    expect(page.locator("#incident-dialog")).to_be_visible()
    page.fill("#type-search", "盗窃")
    page.locator("#type-options li[data-code='crim.theft']").click()
    expect(page.locator("#priority")).to_have_value("3")
    page.fill("#lat", str(SCENE.lat))
    page.fill("#lon", str(SCENE.lon))
    page.fill("#address", "南岗区西大直街 92 号")
    page.fill("#description", "电动车被盗")
    page.click("#incident-form button[type=submit]")
    expect(page.locator("#incident-dialog")).to_be_hidden()

    pending = page.locator("#queue li[data-status=pending]")
    expect(pending).to_have_count(1)
    incident_id = pending.get_attribute("data-id")
    assert incident_id
    row = page.locator(f"#queue li[data-id='{incident_id}']")
    expect(page.locator("#detail")).to_have_attribute("data-id", incident_id)
    recs = page.locator("#recommendations li[data-unit]")
    expect(recs.first).to_be_visible()
    # The list is the server's road-time ranking, with travel times shown.
    server_top = live_server.services.dispatch.recommend(incident_id, limit=5)
    assert recs.first.get_attribute("data-unit") == server_top[0].unit.id
    assert recs.count() == len(server_top)

    page.keyboard.press("d")  # 一键指令
    assigned = page.locator(f"#assigned li[data-unit='{server_top[0].unit.id}']")
    expect(assigned).to_have_attribute("data-status", "dispatched")
    expect(row).to_have_attribute("data-status", "dispatched")
    assert live_server.services.dispatch.get_unit(server_top[0].unit.id).incident_id == incident_id

    # A change made elsewhere (the crew's terminal) shows up live, without a reload.
    live_server.services.dispatch.set_unit_status(server_top[0].unit.id, UnitStatus.EN_ROUTE, actor="u0")
    expect(assigned).to_have_attribute("data-status", "en_route")
    expect(page.locator("#timeline li[data-type='unit.status_changed']").last).to_contain_text("出警")
    page.screenshot(path=str(screenshot_dir / "console-desk.png"))
    assert page_errors == []


def test_possible_duplicates_are_offered_for_merge(
    live_server: LiveServer, open_page, page_errors: PageErrors
) -> None:
    live_server.seed_units(units_on_roads(live_server.network, 10))
    first = new_incident(live_server.services, address="先报的警情")
    page = open_page("/")
    log_in(page)
    near = GeoPoint(SCENE.lat + 0.0005, SCENE.lon + 0.0005)  # about 70 m away
    second = new_incident(live_server.services, near, address="重复报警")
    page.locator(f"#queue li[data-id='{second}']").click()
    duplicate = page.locator(f"#duplicates li[data-id='{first}']")
    expect(duplicate).to_be_visible()
    duplicate.locator("button[data-action=merge]").click()
    expect(page.locator(f"#queue li[data-id='{second}']")).to_have_count(0)
    expect(page.locator("#detail")).to_have_attribute("data-id", first)
    assert live_server.services.dispatch.get_incident(second).merged_into == first
    assert page_errors == []


def test_console_reconnects_after_a_server_restart_and_shows_what_happened_meanwhile(
    live_server: LiveServer, open_page, page_errors: PageErrors
) -> None:
    live_server.seed_units(units_on_roads(live_server.network, 10))
    page = open_page("/")
    log_in(page)
    live_server.stop()
    expect(page.locator("#offline-banner")).to_be_visible()
    expect(page.locator("#conn-status")).not_to_have_attribute("data-status", "live")

    # While this server is down, another process of the bureau takes a call and dispatches.
    other = assemble(
        Settings(data_dir=live_server.data_dir, database_url=live_server.database_url),
        make_engine(live_server.database_url),
        live_server.network,
    )
    try:
        incident_id = new_incident(other, address="断线期间的警情")
        unit_id = other.dispatch.recommend(incident_id, limit=1)[0].unit.id
        other.dispatch.dispatch(incident_id, [unit_id], actor="other-dispatcher")
    finally:
        other.close()

    live_server.start()
    expect(page.locator("#conn-status")).to_have_attribute("data-status", "live", timeout=20_000)
    expect(page.locator("#offline-banner")).to_be_hidden()
    row = page.locator(f"#queue li[data-id='{incident_id}']")
    expect(row).to_have_attribute("data-status", "dispatched")
    assert page.evaluate(f"window.jingwuConsole.state.units.get('{unit_id}').status") == "dispatched"
    # The browser logs the failed reconnection attempts; nothing else may go wrong.
    assert page_errors.excluding("WebSocket connection to", "net::ERR_CONNECTION_REFUSED") == []


def test_big_screen_shows_key_figures_and_languages_switch(
    live_server: LiveServer, open_page, page_errors: PageErrors, screenshot_dir: Path
) -> None:
    units = live_server.seed_units(units_on_roads(live_server.network, 60))
    rng = np.random.default_rng(3)
    for i, code in enumerate(TYPES):
        p = live_server.network.random_road_point(rng)
        incident_id = new_incident(
            live_server.services, GeoPoint(p.lat, p.lon), type_code=code, address=f"测试地址 {i + 1}"
        )
        if i % 2 == 0:
            unit_id = live_server.services.dispatch.recommend(incident_id, limit=1)[0].unit.id
            live_server.services.dispatch.dispatch(incident_id, [unit_id], actor=DISPATCHER)
            arrive(live_server.services, unit_id, incident_id)
    page = open_page("/", viewport=(1920, 1080))
    log_in(page)
    expect(page.locator("#queue li")).to_have_count(6)
    page.keyboard.press("f")
    expect(page.locator("body")).to_have_class("bigscreen")
    expect(page.locator("#detail")).to_be_hidden()
    expect(page.locator("#figures [data-figure=open_incidents] b")).to_have_text("6")
    expect(page.locator("#figures [data-figure=units_available] b")).to_have_text(
        f"{len(units) - 3}/{len(units)}"
    )
    # Medians of today come from the server: three dispatches and three arrivals.
    expect(page.locator("#figures [data-figure=median_call_to_dispatch_s] b")).not_to_have_text("–")
    expect(page.locator("#figures [data-figure=arrivals_within_target] b")).to_have_text("100%")
    font_px = page.evaluate("parseFloat(getComputedStyle(document.querySelector('#figures b')).fontSize)")
    assert font_px >= 40, "figures must read from across a room"
    page.screenshot(path=str(screenshot_dir / "console-bigscreen.png"))

    page.keyboard.press("l")
    expect(page.locator("[data-figure=open_incidents] span")).to_have_text("Open incidents")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.reload()
    page.wait_for_function("() => window.jingwuConsole && window.jingwuConsole.started")
    expect(page.locator("[data-figure=open_incidents] span")).to_have_text("Open incidents")
    assert page_errors == []


@pytest.mark.alone  # frame times: the renderer must not be starved of CPU
def test_console_stays_smooth_with_2000_units_and_500_open_incidents(
    live_server: LiveServer, open_page, page_errors: PageErrors, screenshot_dir: Path
) -> None:
    units = live_server.seed_units(units_on_roads(live_server.network, 2000))
    rng = np.random.default_rng(11)
    for i in range(500):
        p = live_server.network.random_road_point(rng)
        new_incident(
            live_server.services, GeoPoint(p.lat, p.lon), type_code=TYPES[i % len(TYPES)], address=f"地址 {i}"
        )
    page = open_page("/", viewport=(1920, 1080))
    log_in(page)
    expect(page.locator("#queue li")).to_have_count(500)
    # The dispatcher works on one incident while the city goes on: the detail pane is open.
    page.locator("#queue li").nth(3).click()
    expect(page.locator("#recommendations li[data-unit]").first).to_be_visible()
    # The whole city in view again. In braces: setZoom returns the map, which Playwright would
    # serialize whole, every road included (many seconds).
    page.evaluate("() => { window.jingwuConsole.map.map.setZoom(11); }")
    page.evaluate(FRAME_PROBE)
    # Every unit moves once a second for ten seconds, as a city's AVL feed would, and five
    # incidents a second are dispatched elsewhere (each a burst of status events).
    open_ids = [i.id for i in live_server.services.dispatch.list_incidents(open_only=True)]
    selected = page.locator("#detail").get_attribute("data-id")
    to_dispatch = iter(i for i in open_ids if i != selected)
    positions = {u.id: u.position for u in units}
    for _ in range(10):
        now = datetime.now(UTC)
        batch = []
        for unit in units:
            old = positions[unit.id]
            assert old is not None
            moved = Position(
                lat=old.lat + float(rng.normal(0, 0.0002)),
                lon=old.lon + float(rng.normal(0, 0.0002)),
                ts=now,
                heading=float(rng.uniform(0, 360)),
                speed=8.0,
            )
            positions[unit.id] = moved
            batch.append((unit.id, Fix(moved.ts, moved.lat, moved.lon, moved.speed, moved.heading)))
        started = time.monotonic()
        live_server.services.positions.ingest(batch, source=Source.GATEWAY)
        for _ in range(5):
            incident_id = next(to_dispatch)
            best = live_server.services.dispatch.recommend(incident_id, limit=1)
            if best:
                live_server.services.dispatch.dispatch(incident_id, [best[0].unit.id], actor=DISPATCHER)
        time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
    perf = page.evaluate("({...window.jingwuConsole.perf})")
    frames = page.evaluate("window.__frames.slice(5)")
    page.screenshot(path=str(screenshot_dir / "console-city-scale.png"))
    assert perf["draws"] >= 10, perf
    mean_draw = perf["totalMs"] / perf["draws"]
    long_frames = [f for f in frames if f > 100]
    print(
        f"map draws: {perf['draws']}, mean {mean_draw:.1f} ms, max {perf['maxMs']:.1f} ms; "
        f"frames: {len(frames)}, median {statistics.median(frames):.1f} ms, over 100 ms: {len(long_frames)}"
    )
    assert mean_draw < 25, perf
    assert perf["maxMs"] < 100, perf
    # At most 5 % of frames over 100 ms. (Three long frames in all was the bound until the shared
    # 2-core VM slowed: on 2026-11-26 both that day's console and the day before's gave 7-12 of
    # about 430, the renderer starved of CPU by the server in this process, while the draws stayed
    # well within the bounds above: those catch our own code getting slower.)
    assert len(long_frames) <= 0.05 * len(frames), long_frames
    assert page_errors == []


ARRIVAL_CASES = """async () => {
  const { arrivalRisk } = await import('/static/console/state.js');
  const t0 = Date.parse('2026-11-26T08:00:00Z');
  const at = (s) => new Date(t0 + s * 1000).toISOString();
  const incident = (priority, stages) => ({ priority, created_at: at(0), stage_times: stages });
  const now = (s) => t0 + s * 1000;
  return {
    urgentWaiting: arrivalRisk(incident(1, {}), now(121)).state,
    urgentJustIn: arrivalRisk(incident(1, {}), now(60)).state,
    routineWaiting: arrivalRisk(incident(4, {}), now(600)).state,
    slowEta: arrivalRisk(incident(3, { dispatched: at(30) }), now(40), t0 + 400 * 1000).state,
    quickEta: arrivalRisk(incident(3, { dispatched: at(30) }), now(40), t0 + 200 * 1000).state,
    late: arrivalRisk(incident(3, { dispatched: at(30) }), now(30 + 250)).state,
    missed: arrivalRisk(incident(3, { dispatched: at(30) }), now(30 + 301)).state,
    met: arrivalRisk(incident(2, { dispatched: at(30), on_scene: at(330) }), now(900)),
    over: arrivalRisk(incident(2, { dispatched: at(30), on_scene: at(331) }), now(900)).state,
  };
}"""


def test_the_five_minute_arrival_target_is_judged_from_the_dispatch(
    live_server: LiveServer, open_page
) -> None:
    page = open_page("/")
    cases = page.evaluate(ARRIVAL_CASES)
    assert cases["urgentWaiting"] == "risk"  # a priority-1 call unanswered for 2 minutes
    assert cases["urgentJustIn"] == "ok"
    assert cases["routineWaiting"] == "ok"  # the clock starts at the dispatch
    assert cases["slowEta"] == "risk"  # the road ETA already lands after 5 minutes
    assert cases["quickEta"] == "ok"
    assert cases["late"] == "risk"
    assert cases["missed"] == "missed"
    assert cases["met"]["state"] == "met" and cases["met"]["arrivalS"] == 300
    assert cases["over"] == "missed"


RIVER = GeoPoint(45.786, 126.534)  # in the Songhua, 1.1 km from the nearest road


def test_the_form_refuses_bad_places_with_readable_errors_and_creates_nothing(
    live_server: LiveServer, open_page, page_errors: PageErrors
) -> None:
    live_server.seed_units(units_on_roads(live_server.network, 5))
    page = open_page("/")
    log_in(page)
    page.keyboard.press("n")
    page.fill("#type-search", "theft")
    page.keyboard.press("Enter")  # the exact English name ranks first
    expect(page.locator("#type-code")).to_have_value("crim.theft")
    for lat, lon in [("0x2d", "126.6"), ("1e1", "126.6"), ("45.75", "")]:
        page.fill("#lat", lat)
        page.fill("#lon", lon)
        page.click("#incident-form button[type=submit]")
        expect(page.locator("#form-error")).to_have_text("请输入有效的经纬度（WGS-84）")
    page.fill("#lat", str(RIVER.lat))
    page.fill("#lon", str(RIVER.lon))
    page.click("#incident-form button[type=submit]")
    expect(page.locator("#form-error")).to_contain_text("距最近道路")
    expect(page.locator("#incident-dialog")).to_be_visible()
    assert live_server.services.dispatch.list_incidents() == []
    # The browser logs the refused request itself; nothing else may go wrong.
    assert page_errors.excluding("status of 422") == []


def test_one_click_is_for_the_first_response_and_a_closed_incident_reads_closed(
    live_server: LiveServer, open_page, page_errors: PageErrors
) -> None:
    live_server.seed_units(units_on_roads(live_server.network, 10))
    incident_id = new_incident(live_server.services)
    unit_id = live_server.services.dispatch.recommend(incident_id, limit=1)[0].unit.id
    live_server.services.dispatch.dispatch(incident_id, [unit_id], actor=DISPATCHER)
    page = open_page("/")
    log_in(page)
    page.locator(f"#queue li[data-id='{incident_id}']").click()
    expect(page.locator("#recommend-title")).to_have_text("增援候选（按道路行程时间）")
    expect(page.locator("#dispatch-top")).to_be_hidden()
    page.keyboard.press("d")  # must not send a second unit
    page.wait_for_timeout(500)
    on_it = [u.id for u in live_server.services.dispatch.list_units() if u.incident_id == incident_id]
    assert on_it == [unit_id]

    page.fill("#disposition", "误报")
    page.click("#close-btn")
    expect(page.locator(f"#queue li[data-id='{incident_id}']")).to_have_count(0)
    expect(page.locator("#detail-title")).to_contain_text("已结案")
    expect(page.locator("#detail-status")).to_have_attribute("data-status", "closed")
    expect(page.locator(f"#assigned li[data-unit='{unit_id}']")).to_have_attribute("data-status", "available")
    assert page_errors == []


def test_a_dispatcher_with_a_second_factor_is_asked_for_the_code_in_the_log_in_form(
    live_server: LiveServer, open_page, page_errors: PageErrors
) -> None:
    live_server.services.auth.second_factor.require_totp = True  # as `jingwu serve` runs
    enrolment = live_server.services.auth.second_factor.enrol(DISPATCHER)
    key = totp.decode_secret(enrolment.secret)
    page = open_page("/")
    page.fill("#username", DISPATCHER)
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-error")).to_have_text("请输入身份验证器上的动态验证码")
    expect(page.locator("#totp")).to_be_focused()
    page.fill("#totp", "000000" if totp.totp(key, time.time()) != "000000" else "111111")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-error")).to_have_text("动态验证码错误或已使用，请等下一个")
    page.fill("#password", PASSWORD)  # the browser keeps it; filled again as a person would
    page.fill("#totp", totp.totp(key, time.time()))
    page.click("#login-form button[type=submit]")
    expect(page.locator("body")).not_to_have_class("logged-out")
    expect(page.locator("#conn-status")).to_have_attribute("data-status", "live")
    assert page_errors.excluding("status of 401") == []
