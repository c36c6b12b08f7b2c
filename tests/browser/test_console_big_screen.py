"""The big screen on a 1920×1080 wall in English: no header figure clipped, the legend off the
map, call signs large and never drawn over each other."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import LiveServer, PageErrors
from tests.browser.test_console import SCENE, arrive, log_in, new_incident
from tests.conftest import make_unit

CLIPPED = """() => [...document.querySelectorAll('#figures > div, #figures b, #figures span')]
  .filter((e) => e.offsetParent !== null)
  .filter((e) => {
    const box = e.getBoundingClientRect(), bar = document.querySelector('#figures').getBoundingClientRect();
    return e.scrollWidth > e.clientWidth + 1 || box.left < bar.left - 1 || box.right > bar.right + 1;
  })
  .map((e) => e.textContent)"""


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    )


def test_the_wall_in_english_clips_no_figure_keeps_the_legend_off_the_map_and_labels_apart(
    live_server: LiveServer, open_page, page_errors: PageErrors, screenshot_dir: Path
) -> None:
    # Thirty cars in a few blocks: their call signs would pile up.
    rng_points = [
        live_server.network.snap(SCENE.lat + 0.0004 * (i % 6), SCENE.lon + 0.0005 * (i // 6), 1_000)
        for i in range(30)
    ]
    live_server.seed_units([make_unit(f"w{i:02d}", p.lat, p.lon) for i, p in enumerate(rng_points)])
    # Today's medians filled in: the figures are at their widest (numbers, not dashes).
    services = live_server.services
    for _ in range(3):
        incident_id = new_incident(services)
        unit_id = services.dispatch.recommend(incident_id, limit=1)[0].unit.id
        services.dispatch.dispatch(incident_id, [unit_id], actor="dispatcher")
        arrive(services, unit_id, incident_id)
    page = open_page("/", viewport=(1920, 1080))
    log_in(page)
    page.keyboard.press("l")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.keyboard.press("f")
    expect(page.locator("body")).to_have_class("bigscreen")
    expect(page.locator("[data-figure=open_incidents] span")).to_have_text("Open incidents")
    expect(page.locator("#figures [data-figure=arrivals_within_target] b")).to_have_text("100%")
    page.wait_for_timeout(300)  # the map takes its new size
    page.screenshot(path=str(screenshot_dir / "console-bigscreen-en.png"))
    assert page.evaluate(CLIPPED) == []

    legend = page.locator("#legend").bounding_box()
    map_box = page.locator("#map").bounding_box()
    assert legend and map_box
    assert legend["y"] + legend["height"] <= map_box["y"] + 1, (legend, map_box)

    # In braces: setView returns the map, which Playwright would serialize whole, every road
    # included (half a minute).
    page.evaluate(
        f"() => {{ window.jingwuConsole.map.map.setView([{SCENE.lat + 0.001}, {SCENE.lon + 0.001}], 16); }}"
    )
    page.wait_for_timeout(300)
    boxes = page.evaluate("() => window.jingwuConsole.map.labelBoxes")
    assert len(boxes) >= 5
    assert all(b["h"] >= 18 for b in boxes), "call signs on the wall are at least 18 px"
    assert not [(a["id"], b["id"]) for a, b in combinations(boxes, 2) if _overlap(a, b)]
    page.screenshot(path=str(screenshot_dir / "console-bigscreen-labels.png"))
    assert page_errors == []
