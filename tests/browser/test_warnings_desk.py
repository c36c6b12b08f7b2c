"""An analyst's early warning reaches the station desk, in a real Chromium: a model saved,
back-tested and switched on over the API runs over three family-dispute calls at one address; the
south station's community officer sees the warning (and not the north station's) on the desk's
预警 tab, with its evidence, and acknowledges it."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.sync_api import expect

from jingwu.domain.access import Role
from jingwu.domain.geo import GeoPoint
from jingwu.domain.status import SourceChannel
from jingwu.domain.watchlists import SubjectKind
from jingwu.service.dispatching import NewIncident
from tests.browser.conftest import ContextFactory, LiveServer, PageErrors
from tests.browser.test_records_collection import _log_in

HOME = GeoPoint(45.7560, 126.6420)  # on a road inside the test city's south station
DOMESTIC = {
    "name": "家暴反复报警",
    "purpose": "同一地址 30 天内三次家庭纠纷或家暴警情，提醒社区民警上门走访",
    "kind": "repeat_address",
    "params": {"incident_types": ["dispute.family", "order.domestic_violence"]},
    "sources": ["incidents"],
}
CLONED = {
    "name": "套牌车",
    "purpose": "同一车牌短时间内出现在相距很远的两地，疑似套牌",
    "kind": "plate_far_apart",
    "params": {"min_km": 5, "max_minutes": 30},
    "sources": ["checks"],
}


def _switch_on_and_run(analyst: httpx.Client, body: dict[str, object]) -> dict[str, object]:
    model = analyst.post("/api/models", json=body)
    assert model.status_code == 201, model.text
    model_id = model.json()["id"]
    assert analyst.post(f"/api/models/{model_id}/backtest", json={"days": 30}).status_code == 201
    assert analyst.post(f"/api/models/{model_id}/enable").json()["enabled"] is True
    run = analyst.post(f"/api/models/{model_id}/run")
    assert run.status_code == 201, run.text
    result: dict[str, object] = run.json()
    return result


def test_a_models_warning_shows_on_its_stations_desk_and_is_acknowledged_there(
    live_server: LiveServer, new_context: ContextFactory, page_errors: PageErrors, screenshot_dir: Path
) -> None:
    services = live_server.services
    live_server.add_user("analyst", Role.ANALYST)
    live_server.add_user("community-south", Role.COMMUNITY_OFFICER, station_id="south")
    for _ in range(3):
        services.dispatch.create_incident(
            NewIncident("dispute.family", HOME, SourceChannel.CALL_110, address="保健路 12 号"),
            actor="calltaker",
        )
    # A plate checked twice 15 km apart within minutes, both times in the north station.
    for lon in (126.55, 126.75):
        services.checks.check(
            SubjectKind.VEHICLE,
            "黑A9X527",
            reason="设卡检查",
            location=GeoPoint(45.80, lon),
            officer="north-officer",
            unit_id=None,
        )
    analyst = live_server.client("analyst")
    assert _switch_on_and_run(analyst, DOMESTIC)["warnings_raised"] == 1
    assert _switch_on_and_run(analyst, CLONED)["warnings_raised"] == 1  # the north station's alone

    desk = new_context(viewport=(1400, 900)).new_page()
    desk.goto(live_server.url + "/station/")
    _log_in(desk, "community-south")
    desk.locator("#tabs button[data-tab='warnings']").click()
    panel = desk.locator("#tab-warnings")
    rows = panel.locator(".warnings-list tr[data-id]")
    expect(rows).to_have_count(1)  # not the north station's plate
    row = rows.first
    expect(row).to_have_attribute("data-status", "new")
    expect(row).to_have_attribute("data-station", "south")
    expect(row.locator(".warnings-title")).to_contain_text("保健路 12 号：30 天内 3 起家庭纠纷警情")
    expect(row.locator(".warnings-kind")).to_have_text("同址反复报警")
    expect(row.locator(".warnings-evidence")).to_contain_text("警情 3 起")
    desk.screenshot(path=str(screenshot_dir / "station-desk-warnings.png"))

    row.locator("input[name=note]").fill("已安排社区民警上门")
    row.locator("button.warnings-ack").click()
    expect(panel.locator(".warnings-list tr[data-id]")).to_have_count(0)  # no longer new
    (stored,) = services.warning_models.alerts.list(station_ids={"south"})
    assert (stored["status"], stored["acted_by"], stored["note"]) == (
        "acknowledged",
        "community-south",
        "已安排社区民警上门",
    )
    panel.locator("select[name=status]").select_option("acknowledged")
    acknowledged = panel.locator(".warnings-list tr[data-id]")
    expect(acknowledged).to_have_count(1)
    expect(acknowledged.locator(".warnings-status")).to_contain_text("已签收")
    expect(acknowledged.locator(".warnings-status")).to_contain_text("已安排社区民警上门")
    assert not page_errors.excluding("favicon")
