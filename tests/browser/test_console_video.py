"""The dispatcher's video journey on real parts: a real RTSP server (GStreamer, tests/video/rig.py)
serving two moving, clock-stamped streams; real video workers reading them; Chromium playing the
live pictures over MSE. The dispatcher opens an incident, sees the cameras that see it, opens two
live views and cuts a clip; the camera's stream is killed and restarted and the picture comes
back on its own within 10 s."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from jingwu.service.auth import Role
from tests.browser.conftest import LiveServer, PageErrors
from tests.browser.test_console import SCENE, log_in, new_incident
from tests.video.rig import RtspServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

M_LAT = 1 / 111_320
DEBUG = """(tile) => { const v = tile.querySelector('video'); if (!v) return 'no video';
  const b = []; for (let i = 0; i < v.buffered.length; i++) b.push([v.buffered.start(i), v.buffered.end(i)]);
  return {rs: v.readyState, ns: v.networkState, err: v.error && v.error.message, b, paused: v.paused,
    src: v.src, t: v.currentTime, html: tile.outerHTML.slice(0, 400)}; }"""
PLAYING = "(tile) => { const v = tile.querySelector('video'); return v ? v.currentTime : -1; }"


def _register(api: httpx.Client, name: str, url: str, north_m: float) -> dict[str, Any]:
    """A fixed camera ``north_m`` south of the scene looking north at it, its stream looked at
    first (the probe reaches the real server)."""
    answer = api.post(
        "/api/cameras",
        json={
            "name": name,
            "kind": "fixed",
            "stream_url": url,
            "lat": SCENE.lat - north_m * M_LAT,
            "lon": SCENE.lon,
            "heading_deg": 0,
            "fov_deg": 90,
            "range_m": 120,
        },
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    camera: dict[str, Any] = answer.json()
    return camera


def _online(api: httpx.Client, camera_id: str, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while api.get(f"/api/cameras/{camera_id}").json()["state"] != "online":
        assert time.monotonic() < deadline, api.get(f"/api/cameras/{camera_id}").json()
        time.sleep(0.2)


def _plays(page: Page, tile: Locator, within_s: float) -> float:
    """Wait until the tile's video advances; how long that took."""
    started = time.monotonic()
    first = tile.evaluate(PLAYING)
    while True:
        page.wait_for_timeout(200)
        now = tile.evaluate(PLAYING)
        if now > first + 0.3 and now > 0:
            return time.monotonic() - started
        assert time.monotonic() - started < within_s, (
            f"the tile's video is not playing ({first} → {now}): " + str(tile.evaluate(DEBUG))
        )


def test_a_dispatcher_watches_two_cameras_live_cuts_a_clip_and_a_dropped_stream_comes_back(
    live_server: LiveServer, open_page: Any, page_errors: PageErrors, rtsp_server: RtspServer
) -> None:
    live_server.add_user("chief", Role.ADMIN)
    admin = live_server.client("chief")
    incident_id = new_incident(live_server.services)
    gate = _register(admin, "保健路口 北向", rtsp_server.url("moving"), 30)
    square = _register(admin, "广场 北向", rtsp_server.url("switch"), 45)
    for camera in (gate, square):
        _online(admin, camera["id"], 30)

    page = open_page("/", viewport=(1440, 900))
    log_in(page)
    page.locator(f"#queue li[data-id='{incident_id}']").click()
    rows = page.locator("#cameras [data-testid=camera-row]")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-camera-id", gate["id"])
    expect(rows.first).to_have_attribute("data-sees", "true")
    rows.first.locator("[data-action=live]").click()
    rows.nth(1).locator("[data-action=live]").click()
    tiles = page.locator("#live-tiles [data-testid=live-tile]")
    expect(tiles).to_have_count(2)
    for tile in (tiles.first, tiles.nth(1)):
        expect(tile).to_have_attribute("data-state", "live", timeout=15_000)
        _plays(page, tile, 10)

    # A clip of the last 30 s (the default) from the first camera, listed with its hash.
    gate_tile = page.locator(f"#live-tiles [data-testid=live-tile][data-camera-id='{gate['id']}']")
    gate_tile.locator("[data-testid=cut-clip]").click()
    clip_row = page.locator("[data-testid=clip-row]")
    expect(clip_row).to_have_count(1, timeout=15_000)
    clips = live_server.client().get(f"/api/incidents/{incident_id}/clips").json()["clips"]
    assert len(clips) == 1 and clips[0]["camera_id"] == gate["id"] and clips[0]["size"] > 10_000
    expect(clip_row).to_have_attribute("data-sha256", clips[0]["sha256"])

    # The camera loses power (the server killed) and comes back: the tile recovers by itself.
    rtsp_server.stop()
    expect(gate_tile).not_to_have_attribute("data-state", "live", timeout=15_000)
    rtsp_server.start()
    back = time.monotonic()
    expect(gate_tile).to_have_attribute("data-state", "live", timeout=10_000)
    _plays(page, gate_tile, max(1.0, 10 - (time.monotonic() - back)))
    assert time.monotonic() - back < 10
    assert page_errors.excluding("WebSocket connection", "snapshot.jpg", "status of 409") == []
