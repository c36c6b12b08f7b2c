"""The base map as a new dispatcher sees it: the Songhua drawn as water, its name and the streets'
names written on the map, and no name drawn over another or over a call sign; the terminal's map
names its streets too."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path
from typing import Any

from playwright.sync_api import Page
from shapely.geometry import shape

from tests.browser.conftest import LiveServer, PageErrors, units_on_roads
from tests.browser.test_console import SCENE, log_in
from tests.browser.test_terminal import dispatch_incident, officer_unit, open_terminal
from tests.browser.test_terminal import log_in as terminal_log_in

#: The Songhua's water colour in the console (map.js AREA_STYLE.water).
WATER_RGB = (0x16, 0x39, 0x5C)

VISIBLE_NAMES = """() => window.jingwuConsole.map.visibleNames
  .map((n) => ({kind: n.kind, name: n.name, boxes: n.boxes}))"""

AREA_PIXEL = """([lat, lon]) => {
  const map = window.jingwuConsole.map.map;
  const p = map.latLngToContainerPoint([lat, lon]);
  // Water and parks have a pane (and a canvas) of their own, under the roads.
  const canvas = map.getContainer().querySelector('.leaflet-areas-pane canvas');
  const box = canvas.getBoundingClientRect(), origin = map.getContainer().getBoundingClientRect();
  const ratio = canvas.width / box.width;
  const x = Math.round((p.x - (box.left - origin.left)) * ratio);
  const y = Math.round((p.y - (box.top - origin.top)) * ratio);
  return [...canvas.getContext('2d').getImageData(x, y, 1, 1).data];
}"""


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    )


def _collisions(names: list[dict[str, Any]], signs: list[dict[str, float]]) -> list[tuple[str, str]]:
    """Pairs of labels (names and call signs) whose boxes overlap; a name's own boxes may touch."""
    owners = [(n["name"], box) for n in names for box in n["boxes"]] + [
        (f"call sign {s['id']}", s) for s in signs
    ]
    return [(a, b) for (a, box_a), (b, box_b) in combinations(owners, 2) if a != b and _overlap(box_a, box_b)]


def _view(page: Page, lat: float, lon: float, zoom: int) -> list[dict[str, Any]]:
    # In braces: setView returns the map, which Playwright would copy back whole (seconds).
    page.evaluate(f"() => {{ window.jingwuConsole.map.map.setView([{lat}, {lon}], {zoom}); }}")
    page.wait_for_timeout(250)
    names: list[dict[str, Any]] = page.evaluate(VISIBLE_NAMES)
    return names


def test_the_console_map_shows_the_songhua_as_water_and_names_that_never_overlap(
    live_server: LiveServer, open_page, page_errors: PageErrors, screenshot_dir: Path
) -> None:
    live_server.seed_units(units_on_roads(live_server.network, 60))
    features = live_server.client().get("/api/map/features").json()["features"]
    water = shape(next(f for f in features if f["properties"]["layer"] == "water")["geometry"])
    songhua = max(water.geoms, key=lambda polygon: polygon.area)
    west, _, east, _ = live_server.network.bbox
    assert songhua.bounds[2] - songhua.bounds[0] > 0.6 * (east - west), "the river crosses the city"
    inside = songhua.representative_point()

    page = open_page("/")
    log_in(page)
    page.wait_for_function("() => window.jingwuConsole.map.names.labels.length > 0")

    names = _view(page, inside.y, inside.x, 12)
    assert tuple(page.evaluate(AREA_PIXEL, [inside.y, inside.x])[:3]) == WATER_RGB
    assert "松花江" in {n["name"] for n in names if n["kind"] == "waterway"}
    assert _collisions(names, []) == []
    page.screenshot(path=str(screenshot_dir / "console-basemap-river.png"))

    names = _view(page, SCENE.lat, SCENE.lon, 16)
    streets = {n["name"] for n in names if n["kind"] == "street"}
    assert len(streets) >= 3, names
    signs = page.evaluate("() => window.jingwuConsole.map.labelBoxes")
    assert _collisions(names, signs) == []
    page.screenshot(path=str(screenshot_dir / "console-basemap-streets.png"))

    # Everywhere on the way out, and along a pan: never two names over each other.
    for zoom in (15, 14, 13):
        names = _view(page, SCENE.lat + 0.004, SCENE.lon - 0.006, zoom)
        assert names, zoom
        assert _collisions(names, page.evaluate("() => window.jingwuConsole.map.labelBoxes")) == []
    assert page_errors == []


NAMES_DRAWN = """() => {
  const canvas = document.querySelector('#map canvas.map-names, canvas.map-names');
  if (!canvas || !canvas.width) return 0;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let inked = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 128) inked += 1;
  return inked;
}"""


def test_the_terminal_map_writes_names_over_its_roads_at_a_dispatch(
    live_server: LiveServer, new_context, page_errors: PageErrors, screenshot_dir: Path
) -> None:
    unit = officer_unit(live_server)
    page = open_terminal(new_context, live_server)
    terminal_log_in(page, unit.callsign)
    dispatch_incident(live_server, unit)
    page.wait_for_function("() => window.jingwuTerminal.state.route?.route")
    # Street names at the incident's zoom: a few hundred inked pixels at least.
    page.wait_for_function(f"({NAMES_DRAWN})() > 300")
    page.screenshot(path=str(screenshot_dir / "terminal-basemap.png"), animations="disabled")
    assert page_errors == []
