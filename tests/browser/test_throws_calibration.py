"""An admin calibrates a camera's facade for thrown-object detection (高空抛物) in the browser, on a
still frame of a camera playing a generated video through a real video worker: clicks the wall's
four corners in the order asked, drags one, types the floors and columns, sees the floor and
column lines drawn through the outline's perspective, drags a column line, and saves; the PUT
carries the corners in the video's pixels (not the screen's). A quad given upside down is refused
with the server's message beside the form; the saved calibration comes back for editing and is
removed; a camera with no picture says so."""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from playwright.sync_api import Page, expect

from jingwu.service.auth import Role
from jingwu.vision.throws.synth import random_scene, write_scene
from jingwu.vision.throws.synth_scene import calibration
from tests.browser.conftest import LiveServer, PageErrors
from tests.browser.test_console import SCENE
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def facade_video(folder: Path, name: str = "tower") -> tuple[Path, dict[str, Any], int, int]:
    """A video of a tower's facade seen from its foot (jingwu.vision.throws.synth, no throws in
    it) whose wall lies inside the picture, copied into ``folder``, and the facade's truth as the
    calibration has it (``corners_px``, ``floors``, ``columns``, …), with its size."""
    made, facade, width, height = _facade_scene()
    path = folder / f"{name}.mp4"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(made, path)
    return path, facade, width, height


@functools.cache
def _facade_scene() -> tuple[Path, dict[str, Any], int, int]:
    """Drawn once a test process (a few seconds of rendering each time otherwise)."""
    folder = Path(tempfile.mkdtemp(prefix="jingwu-facade-"))
    atexit.register(shutil.rmtree, folder, True)
    for seed in range(400):
        spec = random_scene(
            seed, width=960, height=540, duration_s=6.0, throws=0, distractors=(), night=False
        )
        facade: Any = calibration(spec)["facade"]
        if all(40 <= u <= spec.width - 40 and 40 <= v <= spec.height - 40 for u, v in facade["corners_px"]):
            drawn = write_scene(spec, folder, "drawn")
            path = as_a_camera_sends(drawn, folder / "tower.mp4")
            written = json.loads((folder / "drawn.calibration.json").read_text(encoding="utf-8"))
            return path, written["facade"], spec.width, spec.height
    raise AssertionError("no generated scene shows the whole wall")


def as_a_camera_sends(video: Path, out: Path) -> Path:
    """The generator's video encoded again as an IP camera sends its stream: a keyframe each
    second, no B-frames, a fine quantizer that keeps a small object's pixels; the container
    from ``out``'s suffix (.mp4, or .ts for MPEG-TS). The generator's own file has B-frames, which
    hold each decoded keyframe back until two more have come, and a keyframe every two seconds:
    a worker reading it had its first picture four seconds after it began, where a camera's
    comes at its first keyframe. The picture is the same (its size, its wall)."""
    with av.open(str(video)) as source, av.open(str(out), "w") as copy:
        decoded = source.streams.video[0]
        fps = int(decoded.average_rate or 25)
        params = f"keyint={fps}:min-keyint={fps}:scenecut=0:bframes=0"
        options = {"preset": "veryfast", "tune": "zerolatency", "crf": "18", "x264-params": params}
        encoder = copy.add_stream("libx264", rate=fps, options=options)
        assert isinstance(encoder, av.VideoStream)
        encoder.width, encoder.height, encoder.pix_fmt = decoded.width, decoded.height, "yuv420p"
        for n, frame in enumerate(source.decode(decoded)):
            picture = av.VideoFrame.from_ndarray(frame.to_ndarray(format="yuv420p"), format="yuv420p")
            picture.pts, picture.time_base = n, Fraction(1, fps)
            copy.mux(encoder.encode(picture))
        copy.mux(encoder.encode(None))
    return out


def register(
    api: httpx.Client, name: str, stream_url: str, *, probe: bool = True, **extra: Any
) -> dict[str, Any]:
    answer = api.post(
        f"/api/cameras{'' if probe else '?probe=false'}",
        json={
            "name": name,
            "kind": "fixed",
            "stream_url": stream_url,
            "lat": SCENE.lat,
            "lon": SCENE.lon,
            "heading_deg": 0,
            "fov_deg": 80,
            "range_m": 80,
            "community": "花园小区",
        }
        | extra,
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    camera: dict[str, Any] = answer.json()
    return camera


def wait_for_picture(api: httpx.Client, camera_id: str, within_s: float = 30) -> bytes:
    """The camera's snapshot, once its worker has a picture."""
    deadline = time.monotonic() + within_s
    while True:
        answer = api.get(f"/api/cameras/{camera_id}/snapshot.jpg")
        if answer.status_code == 200:
            return answer.content
        assert time.monotonic() < deadline, (answer.status_code, api.get(f"/api/cameras/{camera_id}").json())
        time.sleep(0.3)


def _log_in(page: Page, username: str) -> None:
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page.locator("body")).not_to_have_class("logged-out")


def _screen(page: Page, u: float, v: float) -> tuple[float, float]:
    """Where the video's pixel (u, v) is on the screen, from the shown picture's box and natural size."""
    box = page.evaluate(
        """() => { const img = document.querySelector('#calibrate .calib-img');
        const r = img.getBoundingClientRect();
        return {x: r.left, y: r.top, w: r.width, h: r.height,
                nw: img.naturalWidth, nh: img.naturalHeight}; }"""
    )
    return box["x"] + u * box["w"] / box["nw"], box["y"] + v * box["h"] / box["nh"]


def _click(page: Page, u: float, v: float) -> None:
    x, y = _screen(page, u, v)
    page.mouse.click(x, y)


def _drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, steps=4)
    page.mouse.move(*end, steps=4)
    page.mouse.up()


def _put_body(page: Page) -> dict[str, Any]:
    with page.expect_request(lambda r: r.method == "PUT" and r.url.endswith("/calibration")) as sent:
        page.locator("#calibrate button[data-action=save]").click()
    body = sent.value.post_data_json
    assert isinstance(body, dict), body
    return body


def test_an_admin_calibrates_a_facade_on_a_still_frame_and_the_put_carries_video_pixels(
    live_server: LiveServer, open_page: Any, page_errors: PageErrors, screenshot_dir: Path
) -> None:
    live_server.add_user("chief", Role.ADMIN)
    api = live_server.client("chief")
    video, truth, width, height = facade_video(live_server.services.settings.resolved_video_file_dir)
    corners = [(float(u), float(v)) for u, v in truth["corners_px"]]
    floors, columns = int(truth["floors"]), int(truth["columns"])
    tower = register(api, "3号楼 楼下", f"file://{video}")
    dark = register(api, "5号楼 楼下", "rtsp://192.0.2.55:554/s1", probe=False)  # installed later: no picture
    wait_for_picture(api, tower["id"])

    page = open_page("/admin/#cameras", viewport=(1100, 950))
    _log_in(page, "chief")
    rows = page.locator("#camera-rows [data-testid=camera-row]")
    expect(rows).to_have_count(2)

    # A camera with no picture cannot be calibrated on a still frame, and says so.
    rows.filter(has_text="5号楼").locator("button.calibrate").click()
    panel = page.locator("[data-testid=calibrate]")
    expect(panel).to_be_visible()
    expect(panel.locator("[data-testid=calib-no-picture]")).to_contain_text("没有画面")
    expect(panel.locator("[data-testid=calib-stage]")).to_be_hidden()
    assert dark["id"] != tower["id"]

    # The tower's camera: its picture at the video's own size, scaled to fit.
    rows.filter(has_text="3号楼").locator("button.calibrate").click()
    expect(panel.locator("#calib-title")).to_contain_text("3号楼 楼下")
    image = panel.locator(".calib-img")
    expect(panel.locator("[data-testid=calib-stage]")).to_be_visible()
    page.wait_for_function("() => document.querySelector('#calibrate .calib-img').naturalWidth > 0")
    natural = image.evaluate(
        "(img) => [img.naturalWidth, img.naturalHeight, img.getBoundingClientRect().width]"
    )
    assert natural[:2] == [width, height]
    assert natural[2] < width, "the picture is scaled down to fit the page"
    scale = width / natural[2]  # video pixels per screen pixel

    prompt = panel.locator("[data-testid=calib-prompt]")
    expect(prompt).to_contain_text("点击左下角")
    form = panel.locator(".calib-form")
    expect(form.locator("[name=floor_height_m]")).to_have_value("2.9")
    expect(form.locator("[name=protrusion_depth_m]")).to_have_value("0")
    asked = ["点击右下角", "点击右上角", "点击左上角"]
    for i, (u, v) in enumerate(corners):
        _click(page, u, v)
        if i < 3:
            expect(prompt).to_contain_text(asked[i])
    expect(prompt).to_have_attribute("data-next", "done")
    for name in ("bl", "br", "tr", "tl"):
        expect(panel.locator(f"[data-testid=calib-corner-{name}]")).to_have_count(1)

    # The counts typed: the floor lines and the column centre lines appear over the picture.
    form.locator("[name=floors]").fill(str(floors))
    form.locator("[name=columns]").fill(str(columns))
    overlay = panel.locator("[data-testid=calib-overlay]")
    expect(overlay.locator("[data-floor-line]")).to_have_count(floors - 1)
    expect(overlay.locator("[data-column-line]")).to_have_count(columns)
    # The first floor line runs through the perspective, a floor up each side.
    first = overlay.locator("[data-floor-line='1']")
    y1, y2 = float(first.get_attribute("y1") or 0), float(first.get_attribute("y2") or 0)
    (_, bl_v), (_, br_v), (_, tr_v), (_, tl_v) = corners
    assert min(bl_v, tl_v) < y1 < max(bl_v, tl_v) and min(br_v, tr_v) < y2 < max(br_v, tr_v)

    # Drag the top-right handle 30 screen pixels right; drag column 2's line a little left.
    tr = _screen(page, *corners[2])
    _drag(page, tr, (tr[0] + 30, tr[1]))
    moved_tr = (corners[2][0] + 30 * scale, corners[2][1])
    line = overlay.locator("[data-column-line='2']")
    x1, y1, x2, y2 = (float(line.get_attribute(a) or 0) for a in ("x1", "y1", "x2", "y2"))
    middle = _screen(page, (x1 + x2) / 2, (y1 + y2) / 2)
    _drag(page, middle, (middle[0] - 12, middle[1]))
    expect(panel.locator("[data-testid=calib-centres]")).to_have_text("已手动调整")
    page.screenshot(path=str(screenshot_dir / "admin-calibrate-facade.png"))

    body = _put_body(page)
    facade = body["facade"]
    expected = [corners[0], corners[1], moved_tr, corners[3]]
    tolerance = 1.5 * scale + 0.5  # a click lands within a screen pixel
    assert len(facade["corners_px"]) == 4
    for (u, v), (eu, ev) in zip(facade["corners_px"], expected, strict=True):
        assert abs(u - eu) <= tolerance and abs(v - ev) <= tolerance, (facade["corners_px"], expected)
    assert facade["floors"] == floors and facade["columns"] == columns
    assert facade["floor_height_m"] == 2.9 and facade["protrusion_depth_m"] == 0
    centres = facade["column_centres"]
    assert len(centres) == columns and centres == sorted(centres), centres
    assert centres[1] < 1.5 / columns - 0.005, "column 2's line was dragged left"

    expect(page.locator("#notice")).to_contain_text("楼面标定已保存")
    expect(rows.filter(has_text="3号楼").locator("[data-testid=camera-calibrated]")).to_have_count(1)
    stored = api.get(f"/api/cameras/{tower['id']}").json()["throw_calibration"]
    assert stored is not None and stored["facade"]["floors"] == floors

    # Corners given top first: the camera "looks down" on an upside-down wall. Refused, and the
    # server's message stands beside the form; nothing changes.
    panel.locator("button[data-action=redraw]").click()
    expect(prompt).to_contain_text("点击左下角")
    for u, v in (corners[3], corners[2], corners[1], corners[0]):
        _click(page, u, v)
    page.locator("#calibrate button[data-action=save]").click()
    error = panel.locator("[data-testid=calib-error]")
    expect(error).to_be_visible()
    expect(error).to_contain_text("摄像机方向不对")
    expect(error).to_contain_text("wrong way")
    assert api.get(f"/api/cameras/{tower['id']}").json()["throw_calibration"] == stored

    # Reopened after a reload: the saved calibration is there to edit.
    page.reload()
    expect(rows).to_have_count(2)
    rows.filter(has_text="3号楼").locator("button.calibrate").click()
    page.wait_for_function("() => document.querySelector('#calibrate .calib-img').naturalWidth > 0")
    expect(prompt).to_have_attribute("data-next", "done")
    expect(form.locator("[name=floors]")).to_have_value(str(floors))
    expect(form.locator("[name=columns]")).to_have_value(str(columns))
    expect(overlay.locator("[data-floor-line]")).to_have_count(floors - 1)
    expect(panel.locator("[data-testid=calib-centres]")).to_have_text("已手动调整")

    # In English.
    page.click(".tools .lang-toggle")
    expect(panel.locator("button[data-action=remove]")).to_have_text("Remove calibration")
    expect(rows.filter(has_text="3号楼").locator("button.calibrate")).to_have_text("Calibrate facade")
    panel.locator("button[data-action=redraw]").click()
    expect(prompt).to_contain_text("Click the bottom-left corner")
    page.reload()
    rows.filter(has_text="3号楼").locator("button.calibrate").click()

    # Removed.
    page.on("dialog", lambda dialog: dialog.accept())
    with page.expect_request(lambda r: r.method == "DELETE" and r.url.endswith("/calibration")):
        panel.locator("button[data-action=remove]").click()
    expect(rows.filter(has_text="3号楼").locator("[data-testid=camera-calibrated]")).to_have_count(0)
    expect(page.locator("#notice")).to_contain_text("Facade calibration removed")
    assert api.get(f"/api/cameras/{tower['id']}").json()["throw_calibration"] is None
    page.screenshot(path=str(screenshot_dir / "admin-calibrate-facade-en.png"))
    assert page_errors.excluding("status of 422", "status of 409") == []
