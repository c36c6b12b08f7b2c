"""The analytics page (大数据研判) in Chromium: an analyst picks a month over two years of the test
city's past and reads the same CompStat total as the API, sees both charts drawn, the heat layer's
cells on the map and the hotspot forecast's method and PAI beside it, imports a small police.uk
file and reads its report (a bad row's reason and line), and switches to English; a dispatcher is
told they may not use the page."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import FilePayload, Page, expect

from jingwu.domain.cases import Case, CaseKind
from jingwu.service.auth import Role
from jingwu.store.db import write_transaction
from jingwu.store.history import insert_past_cases, insert_past_incidents
from tests.analytics.police_uk import HEADER
from tests.browser.conftest import ContextFactory, LiveServer, PageErrors
from tests.conftest import PASSWORD
from tests.service.test_analytics import past_incidents

pytestmark = pytest.mark.browser

MONTH = "2025-06"
# Chromium logs every refused request as a console error; the page says these refusals in words.
EXPECTED_REFUSALS = ("status of 422",)


def _police_uk_csv() -> bytes:
    """Three crimes in Birmingham in July 2019, and on line 4 one whose month is written in words."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    rows = [
        ("2019-07", "-1.9000", "52.4800", "Burglary"),
        ("2019-07", "-1.9010", "52.4810", "Burglary"),
        ("July 2019", "-1.9020", "52.4820", "Drugs"),  # line 4: a time the format cannot read
        ("2019-07", "-1.8990", "52.4790", "Vehicle crime"),
    ]
    force, place = ["West Midlands Police"] * 2, ["On or near Test Street", "E01009999", "Birmingham 050A"]
    for i, (month, lon, lat, kind) in enumerate(rows):
        writer.writerow([f"c{i:04d}", month, *force, lon, lat, *place, kind, "Under investigation", ""])
    return out.getvalue().encode()


def _log_in(page: Page, username: str) -> None:
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")


def _loads(page: Page) -> int:
    return int(page.evaluate("() => Number(document.getElementById('main').dataset.loaded || 0)"))


def _wait_for_load_after(page: Page, before: int) -> None:
    page.wait_for_function(
        "n => Number(document.getElementById('main').dataset.loaded || 0) > n", arg=before, timeout=15_000
    )


def _drawn_pixels(page: Page, selector: str) -> int:
    """Pixels not left transparent in the first canvas under `selector`."""
    return int(
        page.evaluate(
            """selector => {
                const canvas = document.querySelector(`${selector} canvas`);
                if (!canvas || !canvas.width || !canvas.height) return 0;
                const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
                let drawn = 0;
                for (let i = 3; i < data.length; i += 4) if (data[i]) drawn += 1;
                return drawn;
            }""",
            selector,
        )
    )


def test_an_analyst_reads_compstat_charts_heat_and_hotspots_imports_a_file_and_reads_it_in_english(
    live_server: LiveServer, new_context: ContextFactory, page_errors: PageErrors, screenshot_dir: Path
) -> None:
    history = past_incidents(1200)
    # Three cases filed mid-June (立案), one of them solved the next day (破案).
    june = [i for i in history if i.created_at.strftime("%Y-%m") == MONTH and 5 <= i.created_at.day <= 25][:3]
    cases = [
        Case(i.id, f"X202506{n:05d}", CaseKind.CRIMINAL, i.created_at + timedelta(hours=2), "chief")
        for n, i in enumerate(june)
    ]
    cases[0] = replace(cases[0], solved_at=june[0].created_at + timedelta(days=1), solved_by="chief")
    with write_transaction(live_server.services.engine) as conn:
        insert_past_incidents(conn, history)
        insert_past_cases(conn, cases)
    live_server.services.analytics.refresh()  # the analytical store sees the seeded past at once
    live_server.add_user("analyst", Role.ANALYST)
    api = live_server.client("analyst")
    expected = api.get("/api/analytics/compstat", params={"period": MONTH}).json()
    heat = api.get("/api/analytics/heat", params={"period": MONTH}).json()
    forecast = api.get("/api/analytics/hotspots", params={"month": MONTH, "area_share": 0.05}).json()

    page = new_context(viewport=(1280, 900)).new_page()
    page.goto(f"{live_server.url}/analytics/")
    _log_in(page, "analyst")
    expect(page.locator("#whoami")).to_have_text("analyst")
    page.wait_for_function("() => document.getElementById('main').dataset.loaded")

    # A month picked: the table's total is the API's, counts a year earlier beside it.
    before = _loads(page)
    page.fill("#period-value", MONTH)
    _wait_for_load_after(page, before)
    total = expected["filed"]["total"]
    expect(page.locator("#compstat .filed [data-total=current]")).to_have_text(str(total["current"]))
    expect(page.locator("#compstat .filed [data-total=previous]")).to_have_text(str(total["previous"]))
    expect(page.locator("#compstat .filed thead")).to_contain_text(f"本期 {MONTH}")
    expect(page.locator("#compstat .filed tbody tr")).to_have_count(len(expected["filed"]["rows"]))
    # The count of cases (立案) instead: the three filed in June, one of them solved (破案).
    before = _loads(page)
    page.select_option("#compstat-basis", "cases")
    _wait_for_load_after(page, before)
    expect(page.locator("#compstat .filed [data-total=current]")).to_have_text("3")
    expect(page.locator("#compstat .solved [data-total=current]")).to_have_text("1")
    expect(page.locator("#compstat .compstat-tables")).to_contain_text("立案")
    before = _loads(page)
    page.select_option("#compstat-basis", "records")
    _wait_for_load_after(page, before)
    expect(page.locator("#report-link")).to_have_attribute(
        "href", re.compile(rf"^/api/analytics/report\.pdf\?period={MONTH}&dataset=jingwu(&|$)")
    )

    # Both charts drawn on their canvases; the response times' figures in minutes.
    assert _drawn_pixels(page, "#compstat-chart") > 2000
    assert _drawn_pixels(page, "#trend-chart") > 2000
    expect(page.locator("#times [data-figure=within]")).to_have_text(re.compile(r"^\d+(\.\d)?%$"))
    expect(page.locator("#times")).to_contain_text("接警→到达")

    # The heat layer: one rectangle per occupied cell, on the map's own canvas, with a legend and
    # the base map's attribution.
    expect(page.locator("#map")).to_have_attribute("data-heat-cells", str(len(heat["cells"])))
    assert len(heat["cells"]) > 10
    assert _drawn_pixels(page, "#map .leaflet-analysis-pane") > 500
    expect(page.locator("#heat-panel .legend .swatch").first).to_be_visible()
    expect(page.locator("#map .leaflet-control-attribution")).to_contain_text("OpenStreetMap")

    # The forecast beside the map: its method and PAI, and the baselines it is judged against.
    panel = page.locator("#hotspot-panel")
    expect(panel.locator("b[data-method]")).to_have_attribute("data-method", forecast["method"])
    expect(panel.locator("[data-figure=pai]")).to_have_text(re.compile(r"^\d+(\.\d+)?$"))
    expect(panel.locator(".baselines")).to_contain_text("朴素计数")
    expect(panel.locator(".baselines")).to_contain_text("核密度")
    expect(page.locator("#map")).to_have_attribute("data-hotspot-cells", str(forecast["cells"]))
    map_box, panel_box = page.locator("#map").bounding_box(), panel.bounding_box()
    assert map_box and panel_box
    assert panel_box["x"] >= map_box["x"] + map_box["width"] - 1  # to the right of the map
    map_bottom, panel_bottom = map_box["y"] + map_box["height"], panel_box["y"] + panel_box["height"]
    assert panel_box["y"] < map_bottom and map_box["y"] < panel_bottom  # beside it, not below
    expect(page.locator("#map")).to_have_attribute("data-base", "drawn", timeout=20_000)
    page.screenshot(path=str(screenshot_dir / "analytics.png"), full_page=True)

    # A period outside the data is said once, in words, with the span the data covers.
    before = _loads(page)
    page.fill("#period-value", "2030-01")
    _wait_for_load_after(page, before)
    expect(page.locator("#period-error")).to_contain_text("所选时段 2030-01 超出数据范围")
    expect(page.locator("#period-error")).to_contain_text("从 2024-01-01 到 2025-12-")
    expect(page.locator("#times .error")).to_be_hidden()

    # An import: the report names the bad row's reason and line, and the page turns to the dataset.
    page.fill("#import-form [name=dataset]", "west-midlands")
    page.select_option("#import-format", "police-uk")
    page.set_input_files(
        "#import-form [name=file]",
        files=[FilePayload(name="2019-07-west-midlands.csv", mimeType="text/csv", buffer=_police_uk_csv())],
    )
    page.click("#import-form button[type=submit]")
    report = page.locator("#imports .import-report")
    expect(report).to_contain_text("读取 4 行，导入 3 行，错误 1 行")
    expect(report.locator("table.bad-rows tbody tr")).to_have_count(1)
    expect(report.locator("table.bad-rows tbody tr")).to_contain_text("时间无法识别")
    expect(report.locator("table.bad-rows tbody td").nth(1)).to_have_text("Month")
    expect(report.locator("table.bad-rows tbody td").nth(3)).to_have_text("4")
    expect(page.locator("#dataset")).to_have_value("west-midlands")
    expect(page.locator("#compstat .filed [data-total=current]")).to_have_text("3")
    expect(page.locator("#imports .dataset-list")).to_contain_text("west-midlands")
    expect(page.locator("#period-error")).to_be_hidden()
    # Monthly crime files hold no response times: the section says so instead of drawing nothing.
    expect(page.locator("#times .error")).to_have_text("这些记录没有接警、派警和到达时间，无法计算出警时效")

    # In English, the headings are English.
    page.click("header .lang-toggle")
    expect(page.locator("#compstat h2")).to_have_text("CompStat")
    expect(page.locator("#times h2")).to_have_text("Response times")
    expect(page.locator("#map-section h2")).to_have_text("Heat map and hotspot forecast")
    expect(page.locator("#hotspot-panel h3")).to_have_text("Hotspot forecast")
    expect(page.locator("#imports h2")).to_have_text("Import")
    expect(page.locator("#report-link")).to_have_text("Download the report (PDF)")
    expect(page.locator("#compstat .filed tfoot")).to_contain_text("Total")
    assert page_errors.excluding(*EXPECTED_REFUSALS) == []


def test_a_dispatcher_is_told_they_lack_the_analytics_permission(
    live_server: LiveServer, new_context: ContextFactory, page_errors: PageErrors
) -> None:
    page = new_context().new_page()
    page.goto(f"{live_server.url}/analytics")  # the redirect to /analytics/
    _log_in(page, "dispatcher")
    expect(page.locator("#login-error")).to_contain_text("没有大数据研判的权限")
    expect(page.locator("body")).to_have_class("logged-out")
    assert page.evaluate("() => localStorage.getItem('jingwu.console.session')") is None
    assert page_errors == []
