"""An admin registers cameras in the browser (视频资源共享): adds a fixed camera whose stream URL
carries a password (kept sealed, never shown), sees the form change with the camera's kind,
imports a CSV file with one bad line (refused whole, the line's error shown, nothing added),
imports it fixed, and retires a camera."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import FilePayload, Page, expect

from jingwu.service.auth import Role
from tests.browser.conftest import LiveServer, PageErrors
from tests.browser.test_console import SCENE
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

HEADER = (
    "name,kind,stream_url,owner,lat,lon,heading_deg,fov_deg,range_m,height_m,tilt_deg,"
    "unit_id,community,station_id"
)
# Cameras that nothing serves (an import does not look at the streams).
WHERE = f"{SCENE.lat:.6f},{SCENE.lon + 0.0006:.6f}"
GOOD = f"东门岗亭,fixed,rtsp://192.0.2.21:554/s1,property,{WHERE},270,80,90,6,-15,,花园小区,"
WHERE = f"{SCENE.lat:.6f},{SCENE.lon - 0.0006:.6f}"
BAD = f"西门岗亭,tripod,rtsp://192.0.2.22:554/s1,property,{WHERE},90,80,90,6,-15,,花园小区,"
FIXED = BAD.replace("tripod", "fixed")


def _log_in(page: Page, username: str) -> None:
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")


def _import(page: Page, text: str, name: str = "cameras.csv") -> None:
    payload: FilePayload = {"name": name, "mimeType": "text/csv", "buffer": text.encode()}
    page.locator("#camera-import-file").set_input_files(files=payload)


def test_an_admin_adds_a_camera_and_imports_a_file_refused_whole_for_one_bad_line(
    live_server: LiveServer, open_page, page_errors: PageErrors, screenshot_dir: Path
) -> None:
    live_server.add_user("chief", Role.ADMIN)
    api = live_server.client("chief")
    page = open_page("/admin/#cameras", viewport=(1400, 900))
    _log_in(page, "chief")
    expect(page.locator("#tab-cameras")).to_be_visible()
    rows = page.locator("#camera-rows [data-testid=camera-row]")
    expect(rows).to_have_count(0)

    # A fixed camera with a password in its stream URL, not installed yet (no look at the stream).
    page.click("#camera-new")
    form = page.locator("#camera-form")
    form.locator("[name=name]").fill("西大直街口 1 号杆")
    form.locator("[name=kind]").select_option("fixed")
    form.locator("[name=owner]").select_option("police")
    form.locator("[name=stream_url]").fill("rtsp://admin:s3cret-pw@192.0.2.10:554/stream1")
    form.locator("[name=lat]").fill(f"{SCENE.lat - 0.0004:.6f}")
    form.locator("[name=lon]").fill(f"{SCENE.lon:.6f}")
    form.locator("[name=heading_deg]").fill("0")
    form.locator("[name=fov_deg]").fill("90")
    form.locator("[name=range_m]").fill("120")
    # A body camera rides a unit: the place and view give way to the unit, and come back.
    form.locator("[name=kind]").select_option("body")
    expect(form.locator("[name=lat]")).to_be_hidden()
    expect(form.locator("[name=unit_id]")).to_be_visible()
    form.locator("[name=kind]").select_option("fixed")
    expect(form.locator("[name=lat]")).to_be_visible()
    expect(form.locator("[name=unit_id]")).to_be_hidden()
    form.locator("[name=probe]").uncheck()
    form.locator("button[type=submit]").click()
    expect(form).to_be_hidden()
    expect(rows).to_have_count(1)
    row = rows.first
    expect(row).to_contain_text("西大直街口 1 号杆")
    expect(row).to_contain_text("rtsp://192.0.2.10:554/stream1")
    assert "s3cret-pw" not in page.content(), "a stream's password is never shown"
    stored = api.get("/api/cameras").json()["cameras"]
    assert [c["name"] for c in stored] == ["西大直街口 1 号杆"]
    assert stored[0]["has_credentials"] is True
    assert stored[0]["view"]["heading_deg"] == 0

    # A file with one bad line: nothing goes in, and the line's error is said.
    _import(page, "\n".join([HEADER, GOOD, BAD]) + "\n")
    result = page.locator("#camera-import")
    expect(result).to_have_attribute("data-result", "refused")
    errors = page.locator("#camera-import-errors [data-testid=import-error]")
    expect(errors).to_have_count(1)
    expect(errors.first).to_have_attribute("data-line", "3")
    expect(errors.first).to_contain_text("第 3 行")
    expect(errors.first).to_contain_text("tripod")
    page.screenshot(path=str(screenshot_dir / "admin-cameras-import-refused.png"))
    expect(rows).to_have_count(1)
    assert len(api.get("/api/cameras").json()["cameras"]) == 1

    # Fixed, the same file goes in whole.
    _import(page, "\n".join([HEADER, GOOD, FIXED]) + "\n")
    expect(result).to_have_attribute("data-result", "added")
    expect(page.locator("#camera-import-summary")).to_contain_text("2")
    expect(rows).to_have_count(3)
    assert len(api.get("/api/cameras").json()["cameras"]) == 3

    # Retired: off the list (its record stays on the server).
    page.on("dialog", lambda dialog: dialog.accept())
    rows.filter(has_text="东门岗亭").locator("button.danger").click()
    expect(rows).to_have_count(2)
    assert "东门岗亭" not in [c["name"] for c in api.get("/api/cameras").json()["cameras"]]

    # In English too.
    page.click(".tools .lang-toggle")
    expect(page.locator("[data-tab=cameras]")).to_have_text("Cameras")
    page.screenshot(path=str(screenshot_dir / "admin-cameras.png"))
    assert page_errors.excluding("status of 422") == []  # the refused import
