"""The cameras on the dispatcher's console (视频资源共享): the incident panel lists the cameras that
can see the incident, ranked as the server ranks them with each one's state and why, draws their
view cones on the map, and opens a live tile per camera (closed tile by tile); a camera whose
stream cannot be read shows up live in the offline list (离线摄像机); the camera wall on the big
screen keeps every figure whole.

The live picture and a clip cut from a real RTSP stream are another test's (the lead's)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from jingwu.service.auth import Role
from tests.browser.conftest import LiveServer, PageErrors
from tests.browser.test_console import SCENE, log_in, new_incident

pytestmark = pytest.mark.browser

M_LAT = 1 / 111_320  # degrees of latitude a metre
M_LON = 1 / (111_320 * 0.6976)  # …and of longitude at 45.75° N
CLIPPED = """() => [...document.querySelectorAll('#figures > div, #figures b, #figures span')]
  .filter((e) => e.offsetParent !== null)
  .filter((e) => {
    const box = e.getBoundingClientRect(), bar = document.querySelector('#figures').getBoundingClientRect();
    return e.scrollWidth > e.clientWidth + 1 || box.left < bar.left - 1 || box.right > bar.right + 1;
  })
  .map((e) => e.textContent)"""


def _camera(
    api: httpx.Client, name: str, north_m: float, east_m: float, heading: float, stream: str
) -> dict[str, Any]:
    """A fixed camera `north_m`/`east_m` from the scene looking along `heading`, registered without
    looking at its stream (nothing serves it)."""
    response = api.post(
        "/api/cameras?probe=false",
        json={
            "name": name,
            "kind": "fixed",
            "stream_url": stream,
            "owner": "police",
            "lat": SCENE.lat + north_m * M_LAT,
            "lon": SCENE.lon + east_m * M_LON,
            "heading_deg": heading,
            "fov_deg": 90,
            "range_m": 150,
        },
    )
    assert response.status_code == 201, response.text
    camera: dict[str, Any] = response.json()
    return camera


def _settled(api: httpx.Client, count: int, timeout_s: float = 30.0) -> None:
    """Wait until the video workers have said of `count` cameras whether they have a picture
    (here they never do: their streams lead nowhere), so that the ranking no longer changes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        cameras = api.get("/api/cameras").json()["cameras"]
        if len(cameras) >= count and all(c["state"] != "unknown" for c in cameras):
            return
        time.sleep(0.2)
    raise AssertionError(f"the cameras' states did not settle: {cameras}")


def _open_incident(page: Page, incident_id: str) -> None:
    page.locator(f"#queue li[data-id='{incident_id}']").click()
    expect(page.locator("#detail")).to_have_attribute("data-id", incident_id)


def test_the_incident_panel_lists_the_cameras_that_see_it_and_opens_live_tiles(
    live_server: LiveServer, open_page, page_errors: PageErrors, screenshot_dir: Path
) -> None:
    live_server.add_user("chief", Role.ADMIN)
    admin = live_server.client("chief")
    incident_id = new_incident(live_server.services)
    # Two cameras south of the scene, one looking at it (north), one away (south); one far off.
    # Their streams lead nowhere: a closed port on this machine refuses at once.
    _camera(admin, "南侧路口杆", -40, 0, 0, "rtsp://127.0.0.1:9/facing")
    _camera(admin, "南侧背向杆", -45, 5, 180, "rtsp://127.0.0.1:9/away")
    _camera(admin, "远处杆", 3000, 3000, 0, "rtsp://127.0.0.1:9/far")
    _settled(admin, 3)
    dispatcher = live_server.client()
    ranked = dispatcher.get(f"/api/incidents/{incident_id}/cameras").json()["cameras"]
    assert [e["camera"]["name"] for e in ranked][:2] == ["南侧路口杆", "南侧背向杆"], ranked

    page = open_page("/", viewport=(1440, 900))
    log_in(page)
    _open_incident(page, incident_id)
    rows = page.locator("#cameras [data-testid=camera-row]")
    expect(rows).to_have_count(len(ranked))
    for row, entry in zip(rows.all(), ranked, strict=True):
        expect(row).to_have_attribute("data-camera-id", entry["camera"]["id"])
        expect(row).to_have_attribute("data-sees", "true" if entry["sees"] else "false")
        expect(row).to_have_attribute("data-state", entry["camera"]["state"])
        expect(row.locator(".cam-why")).to_have_text(entry["why_zh"])
        expect(row.locator(".cam-state")).to_have_text(entry["camera"]["state_label"])
    expect(rows.first).to_have_attribute("data-sees", "true")
    expect(rows.nth(1)).to_have_attribute("data-sees", "false")
    # Each fixed camera on the map with its view cone.
    expect(page.locator("path.camera-cone")).to_have_count(len(ranked))
    expect(page.locator("path.camera-dot")).to_have_count(len(ranked))

    # Two live tiles at once, each with its own state; closed one by one.
    rows.first.locator("[data-action=live]").click()
    rows.nth(1).locator("[data-action=live]").click()
    tiles = page.locator("#live-tiles [data-testid=live-tile]")
    expect(tiles).to_have_count(2)
    expect(tiles.first).to_have_attribute("data-camera-id", ranked[0]["camera"]["id"])
    # No worker reads a stream that leads nowhere: the tile says so (the server's state).
    expect(tiles.first).to_have_attribute("data-state", "offline")
    expect(tiles.first.locator(".tile-state")).to_have_text("离线")
    expect(tiles.first.locator("[data-testid=cut-clip]")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "console-cameras.png"))
    tiles.first.locator("[data-action=close-tile]").click()
    expect(tiles).to_have_count(1)
    expect(tiles.first).to_have_attribute("data-camera-id", ranked[1]["camera"]["id"])

    # In English, the same list says why in English.
    page.keyboard.press("l")
    expect(rows.first.locator(".cam-why")).to_have_text(ranked[0]["why"])
    expect(page.locator("#camera-block h3").first).to_have_text("Cameras that can see this incident")
    tiles.first.locator("[data-action=close-tile]").click()
    expect(tiles).to_have_count(0)
    assert page_errors.excluding("WebSocket connection", "snapshot.jpg", "status of 409") == []


def test_a_camera_without_a_picture_shows_in_the_offline_list_as_it_happens(
    live_server: LiveServer, open_page, page_errors: PageErrors
) -> None:
    live_server.add_user("chief", Role.ADMIN)
    admin = live_server.client("chief")
    page = open_page("/", viewport=(1440, 900))
    log_in(page)
    expect(page.locator("#camera-faults")).to_be_visible()
    faults = page.locator("#camera-fault-list [data-testid=offline-camera-row]")
    expect(faults).to_have_count(0)
    # Registered while the console watches: its worker cannot reach the stream, says so, and the
    # console hears it from the live stream (camera.state), without a reload.
    camera = _camera(admin, "无人值守杆", -40, 0, 0, "rtsp://127.0.0.1:9/nothing")
    row = page.locator(f"#camera-fault-list [data-camera-id='{camera['id']}']")
    expect(row).to_be_visible(timeout=30_000)
    expect(row).to_contain_text("无人值守杆")
    expect(row).to_have_attribute("data-state", "offline")
    expect(page.locator("#camera-fault-count")).to_have_text("1")
    assert page_errors.excluding("WebSocket connection") == []


def test_the_camera_wall_on_the_big_screen_shows_a_chosen_camera_and_keeps_the_figures_whole(
    live_server: LiveServer, open_page, page_errors: PageErrors, screenshot_dir: Path
) -> None:
    live_server.add_user("chief", Role.ADMIN)
    admin = live_server.client("chief")
    incident_id = new_incident(live_server.services)
    camera = _camera(admin, "南侧路口杆", -40, 0, 0, "rtsp://127.0.0.1:9/facing")
    page = open_page("/", viewport=(1920, 1080))
    log_in(page)
    # The dispatcher puts the incident's camera on the wall (上墙) from the incident panel.
    _open_incident(page, incident_id)
    row = page.locator(f"#cameras [data-camera-id='{camera['id']}']")
    row.locator("[data-action=pin]").click()
    expect(row.locator("[data-action=pin]")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("f")
    expect(page.locator("body")).to_have_class("bigscreen")
    expect(page.locator("#camera-wall")).to_be_hidden()
    page.keyboard.press("v")
    wall = page.locator("#camera-wall")
    expect(wall).to_be_visible()
    tile = wall.locator(f"[data-testid=live-tile][data-camera-id='{camera['id']}']")
    expect(tile).to_be_visible()
    expect(tile).to_contain_text("南侧路口杆")
    expect(tile.locator("[data-testid=cut-clip]")).to_have_count(0)  # the wall only watches
    page.wait_for_timeout(300)
    page.screenshot(path=str(screenshot_dir / "console-camera-wall.png"))
    assert page.evaluate(CLIPPED) == []
    legend = page.locator("#legend").bounding_box()
    map_box = page.locator("#map").bounding_box()
    assert legend and map_box
    assert legend["y"] + legend["height"] <= map_box["y"] + 1, (legend, map_box)
    assert page.evaluate(
        "() => { const l = document.getElementById('legend'); return l.scrollHeight <= l.clientHeight + 1; }"
    )
    # Off again: the wall and its streams go.
    page.keyboard.press("v")
    expect(wall).to_be_hidden()
    expect(page.locator("[data-testid=live-tile]")).to_have_count(0)
    assert page_errors.excluding("WebSocket connection", "snapshot.jpg", "status of 409") == []


def test_the_coverage_view_draws_seen_and_unseen_streets_and_the_blind_spots(
    live_server: LiveServer, open_page, page_errors: PageErrors, screenshot_dir: Path
) -> None:
    live_server.add_user("chief", Role.ADMIN)
    admin = live_server.client("chief")
    new_incident(live_server.services)
    _camera(admin, "南侧路口杆", -40, 0, 0, "rtsp://127.0.0.1:9/facing")
    coverage = live_server.client().get("/api/cameras/coverage").json()
    covered = [f for f in coverage["features"] if f["properties"].get("covered")]
    page = open_page("/", viewport=(1440, 900))
    log_in(page)
    page.click("#camera-coverage-toggle")
    expect(page.locator("#camera-coverage-toggle")).to_have_class("on")
    if covered:
        expect(page.locator("path.coverage-covered").first).to_be_attached()
    expect(page.locator("path.coverage-uncovered").first).to_be_attached()
    page.screenshot(path=str(screenshot_dir / "console-camera-coverage.png"))
    page.click("#camera-coverage-toggle")
    expect(page.locator("path.coverage-uncovered")).to_have_count(0)
    assert page_errors.excluding("WebSocket connection") == []
