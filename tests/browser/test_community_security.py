"""The community's device view at the station desk (智慧安防): a community officer sees the cameras
of their station (name, community, state, whether a facade is calibrated) and the recent thrown
objects (高空抛物) newest first; a new one arrives on the live stream at the top at once,
highlighted, with its floor, window, time and incident. A commander of the station sees the
same with the evidence: the snapshot thumbnail and the clip."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from jingwu.service.auth import Role
from tests.browser.conftest import LiveServer, PageErrors
from tests.browser.test_console_throws import report_throw
from tests.browser.test_throws_calibration import facade_video, register, wait_for_picture
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _log_in(page: Page, username: str) -> None:
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page.locator("body")).not_to_have_class("logged-out")


def _calibrate(api: httpx.Client, camera_id: str, facade: dict[str, Any]) -> None:
    answer = api.put(f"/api/cameras/{camera_id}/calibration", json={"facade": facade})
    assert answer.status_code == 200, answer.text


def test_a_community_officer_sees_the_cameras_and_a_new_throw_arrives_at_the_top_highlighted(
    live_server: LiveServer, open_page: Any, page_errors: PageErrors, screenshot_dir: Path
) -> None:
    live_server.add_user("chief", Role.ADMIN)
    live_server.add_user("sqmj", Role.COMMUNITY_OFFICER, station_id="south")
    live_server.add_user("north_sqmj", Role.COMMUNITY_OFFICER, station_id="north")
    admin = live_server.client("chief")
    video, truth, _w, _h = facade_video(live_server.services.settings.resolved_video_file_dir)
    tower = register(admin, "3号楼 楼下", f"file://{video}")
    register(admin, "5号楼 楼下", "rtsp://192.0.2.55:554/s1", probe=False)
    _calibrate(admin, tower["id"], truth)
    picture = wait_for_picture(admin, tower["id"])
    earlier = report_throw(live_server.services, tower["id"], picture, floor=5, column=2)

    page = open_page("/station/#security", viewport=(1400, 900))
    _log_in(page, "sqmj")
    expect(page.locator("[data-tab=security]")).to_have_text("智慧安防")
    expect(page.locator("#tab-security")).to_be_visible()
    cameras = page.locator("[data-testid=security-camera]")
    expect(cameras).to_have_count(2)
    calibrated = cameras.filter(has_text="3号楼")
    expect(calibrated).to_have_attribute("data-calibrated", "true")
    expect(calibrated).to_contain_text("已标定")
    expect(calibrated).to_contain_text("花园小区")
    expect(calibrated).to_have_attribute("data-state", "online")
    expect(cameras.filter(has_text="5号楼")).to_contain_text("未标定")

    throws = page.locator("[data-testid=security-throw]")
    expect(throws).to_have_count(1)
    expect(throws.first).to_have_attribute("data-incident-id", earlier["incident_id"])
    expect(throws.first.locator("[data-testid=security-where]")).to_contain_text("5层 · 第2列窗")
    # The evidence is the community officer's to see: finding the window is their work.
    thumb = throws.first.locator("[data-testid=security-snapshot]")
    expect(thumb).to_be_visible()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    expect(throws.first.locator("[data-testid=security-no-access]")).to_have_count(0)
    expect(page.locator("[data-testid=security-live]")).to_have_attribute("data-status", "live")

    # A new throw: at the top at once, highlighted, with its floor, window, time and incident.
    time.sleep(1.1)  # a later detection time than the first
    fresh = report_throw(live_server.services, tower["id"], picture, floor=12, column=3)
    expect(throws).to_have_count(2)
    top = throws.first
    expect(top).to_have_attribute("data-throw-id", fresh["id"])
    expect(top).to_have_attribute("data-fresh", "true")
    expect(top).to_have_class("throw-row fresh")
    expect(top.locator("[data-testid=security-where]")).to_have_text("高空抛物 · 12层 · 第3列窗（±0.4层）")
    expect(top.locator("[data-testid=security-incident]")).to_have_text(fresh["incident_id"])
    expect(top).to_contain_text("3号楼 楼下")
    expect(throws.nth(1)).to_have_attribute("data-fresh", "false")
    expect(page.locator("#notice")).to_contain_text("高空抛物：3号楼 楼下 · 12层 · 第3列窗")
    page.screenshot(path=str(screenshot_dir / "station-security.png"))

    # In English.
    page.click(".tools .lang-toggle")
    expect(page.locator("[data-tab=security]")).to_have_text("Community security")
    expect(top.locator("[data-testid=security-where]")).to_have_text(
        "Thrown object · floor 12 · window column 3 (±0.4 floors)"
    )
    expect(calibrated).to_contain_text("calibrated")

    # Another station's community officer sees neither the cameras nor the throws.
    other = open_page("/station/#security", viewport=(1400, 900))
    _log_in(other, "north_sqmj")
    expect(other.locator("#tab-security")).to_be_visible()
    expect(other.locator("[data-testid=security-camera]")).to_have_count(0)
    expect(other.locator("[data-testid=security-throws]")).to_contain_text("近期没有高空抛物告警")
    live_server.services.video.throws.wait_for_clips(30)
    assert page_errors.excluding("WebSocket connection") == []


def test_a_station_commander_sees_the_snapshot_and_the_clip_of_a_throw(
    live_server: LiveServer, open_page: Any, page_errors: PageErrors
) -> None:
    live_server.add_user("chief", Role.ADMIN)
    live_server.add_user("suozhang", Role.COMMANDER, station_id="south")
    admin = live_server.client("chief")
    video, _truth, _w, _h = facade_video(live_server.services.settings.resolved_video_file_dir)
    tower = register(admin, "3号楼 楼下", f"file://{video}")
    picture = wait_for_picture(admin, tower["id"])
    time.sleep(3)  # buffer before the throw, for its clip

    page = open_page("/station/#security", viewport=(1400, 900))
    _log_in(page, "suozhang")
    expect(page.locator("[data-testid=security-live]")).to_have_attribute("data-status", "live")
    fresh = report_throw(live_server.services, tower["id"], picture, floor=8, column=4)
    row = page.locator(f"[data-testid=security-throw][data-throw-id='{fresh['id']}']")
    expect(row).to_have_attribute("data-fresh", "true")
    thumb = row.locator("[data-testid=security-snapshot]")
    expect(thumb).to_be_visible()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    assert thumb.evaluate("(img) => img.naturalWidth") == Image.open(io.BytesIO(picture)).width
    expect(row.locator("[data-testid=security-clip-cutting]")).to_be_visible()

    # The clip, once cut: a link that plays it.
    link = row.locator("[data-testid=security-clip]")
    expect(link).to_be_visible(timeout=30_000)
    link.click()
    video_element = row.locator("[data-testid=security-clip-video]")
    expect(video_element).to_have_count(1)
    page.wait_for_function("(v) => v.readyState >= 1 && v.duration > 0", arg=video_element.element_handle())
    live_server.services.video.throws.wait_for_clips(30)
    assert page_errors.excluding("WebSocket connection") == []
