"""A dispatcher's console when a camera at the foot of a tower sees an object thrown (高空抛物): the
detection arrives on the live stream as an alert naming the camera, floor and window, the new
incident opens by itself, and its detail shows the detection prominently — floor, window column
and uncertainty, confidence, the snapshot with the track drawn on it — and the evidence clip,
"being cut…" until the video service has cut it, then playable and downloadable. The detection
is put in place as a video worker reports one, through the server's throw service, for a real
camera playing a generated video (so the clip is cut from its real buffer)."""

from __future__ import annotations

import io
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from jingwu.composition import Services
from jingwu.service.auth import Role
from tests.browser.conftest import LiveServer, PageErrors
from tests.browser.test_console import log_in
from tests.browser.test_throws_calibration import facade_video, register, wait_for_picture

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def track_snapshot(picture: bytes, track: list[list[float]]) -> bytes:
    """The camera's picture with the track drawn on it, as the worker sends it."""
    image = Image.open(io.BytesIO(picture)).convert("RGB")
    draw = ImageDraw.Draw(image)
    draw.line([(u, v) for _, u, v in track], fill=(255, 40, 40), width=4)
    for _, u, v in track:
        draw.ellipse((u - 4, v - 4, u + 4, v + 4), outline=(255, 230, 0), width=2)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def report_throw(
    services: Services, camera_id: str, picture: bytes, *, floor: int = 12, column: int = 3
) -> dict[str, Any]:
    """What a video worker reports for a throw seen now (first sight 1.5 s ago, landed now), put
    through the server's throw service; the detection as the API shows it."""
    now_ms = int(time.time() * 1000)
    track = [[i, 600.0 + 2 * i, 120.0 + 0.9 * i * i] for i in range(0, 24, 2)]
    detection = services.video.throws.record(
        {
            "camera_id": camera_id,
            "first_wall_ms": now_ms - 1500,
            "landed_wall_ms": now_ms,
            "event": {
                "floor": floor,
                "column": column,
                "floor_uncertainty": 0.4,
                "confidence": 0.87,
                "track": track,
            },
            "snapshot": track_snapshot(picture, track),
        }
    )
    assert detection is not None
    found: list[dict[str, Any]] = services.video.throws.for_incident(detection.incident_id)
    return next(d for d in found if d["id"] == detection.id)


def test_a_thrown_object_raises_an_alert_and_opens_its_incident_with_floor_window_snapshot_and_clip(
    live_server: LiveServer,
    open_page: Any,
    page_errors: PageErrors,
    screenshot_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The clip ends 6 s after the landing, not 2: long enough for a loaded machine's page to show
    # it being cut (once it was ready before the page looked).
    monkeypatch.setattr("jingwu.service.video.throws.CLIP_AFTER", timedelta(seconds=6))
    live_server.add_user("chief", Role.ADMIN)
    admin = live_server.client("chief")
    video, _truth, _w, _h = facade_video(live_server.services.settings.resolved_video_file_dir)
    camera = register(admin, "3号楼 楼下", f"file://{video}")
    picture = wait_for_picture(admin, camera["id"])
    time.sleep(3)  # a few seconds in the camera's buffer before the throw, for its clip

    page = open_page("/", viewport=(1440, 900))
    log_in(page)
    throw = report_throw(live_server.services, camera["id"], picture)
    incident_id = throw["incident_id"]

    alert = page.locator("[data-testid=throw-alert]")
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text("3号楼 楼下")
    expect(alert).to_contain_text("12层")
    expect(alert).to_contain_text("第3列窗")
    expect(alert).to_have_attribute("data-incident-id", incident_id)

    # Nothing was open: the thrown object's incident opens by itself.
    detail = page.locator("#detail")
    expect(detail).to_be_visible()
    expect(detail).to_have_attribute("data-id", incident_id)
    expect(page.locator("#detail-title")).to_contain_text("高空抛物")
    item = page.locator("[data-testid=throw-item]")
    expect(item).to_have_count(1)
    expect(item.locator("[data-testid=throw-headline]")).to_have_text("高空抛物 · 12层 · 第3列窗（±0.4层）")
    expect(item.locator("[data-testid=throw-confidence]")).to_have_text("置信度 87%")
    expect(item).to_contain_text("3号楼 楼下")
    snapshot = item.locator("[data-testid=throw-snapshot]")
    expect(snapshot).to_be_visible()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=snapshot.element_handle())
    assert snapshot.evaluate("(img) => img.naturalWidth") == Image.open(io.BytesIO(picture)).width

    # The clip is cut once the buffer holds the seconds after the landing.
    clip = item.locator("[data-testid=throw-clip]")
    expect(clip).to_have_attribute("data-state", "cutting")
    expect(clip).to_contain_text("录像截取中")
    page.screenshot(path=str(screenshot_dir / "console-throw-cutting.png"))
    expect(clip).to_have_attribute("data-state", "ready", timeout=30_000)
    live_server.services.video.throws.wait_for_clips(30)
    stored = live_server.services.video.throws.for_incident(incident_id)[0]
    assert stored["clip_id"], stored
    expect(item).to_have_attribute("data-clip-id", stored["clip_id"])
    with page.expect_download() as downloading:
        clip.locator("[data-testid=throw-clip-download]").click()
    assert downloading.value.suggested_filename.endswith(".mp4")
    assert Path(downloading.value.path()).stat().st_size > 1000
    clip.locator("button[data-action=throw-clip-play]").click()
    expect(clip.locator("video")).to_have_count(1)

    # The timeline says it too; and in English.
    expect(page.locator("#timeline li[data-type='throw.detected']")).to_contain_text("12层 · 第3列窗")
    page.click("#lang-toggle")
    expect(item.locator("[data-testid=throw-headline]")).to_have_text(
        "Thrown object · floor 12 · window column 3 (±0.4 floors)"
    )
    expect(item.locator("[data-testid=throw-confidence]")).to_have_text("confidence 87%")
    page.screenshot(path=str(screenshot_dir / "console-throw.png"))
    assert page_errors.excluding("WebSocket connection") == []


def test_a_throw_while_another_incident_is_open_is_alerted_and_opened_from_the_alert(
    live_server: LiveServer, open_page: Any, page_errors: PageErrors
) -> None:
    from tests.browser.test_console import new_incident

    live_server.add_user("chief", Role.ADMIN)
    admin = live_server.client("chief")
    video, _truth, _w, _h = facade_video(live_server.services.settings.resolved_video_file_dir)
    camera = register(admin, "7号楼 楼下", f"file://{video}")
    picture = wait_for_picture(admin, camera["id"])
    other = new_incident(live_server.services)

    page = open_page("/", viewport=(1440, 900))
    log_in(page)
    page.locator(f"#queue li[data-id='{other}']").click()
    expect(page.locator("#detail")).to_have_attribute("data-id", other)
    throw = report_throw(live_server.services, camera["id"], picture, floor=3, column=1)

    # The dispatcher's work is not pulled away; the alert waits with a button to the incident.
    alert = page.locator("[data-testid=throw-alert]")
    expect(alert).to_contain_text("3层 · 第1列窗")
    expect(page.locator("#detail")).to_have_attribute("data-id", other)
    alert.locator("button[data-action=throw-alert-show]").click()
    expect(page.locator("#detail")).to_have_attribute("data-id", throw["incident_id"])
    expect(page.locator("[data-testid=throw-headline]")).to_contain_text("3层 · 第1列窗")
    expect(alert).to_have_count(0)
    live_server.services.video.throws.wait_for_clips(30)
    assert page_errors.excluding("WebSocket connection") == []
