"""The console's recommendation list and its "why not?" toggle: a foot patrol next to a burglary
is not silently missing, and a cleared unit is amber and flagged, on the map and in the list."""

from __future__ import annotations

from playwright.sync_api import expect

from jingwu.domain.status import UnitKind, UnitStatus
from tests.browser.conftest import LiveServer, PageErrors
from tests.browser.test_console import SCENE, log_in, new_incident
from tests.conftest import make_unit


def _near(live_server: LiveServer, metres_north: float) -> tuple[float, float]:
    p = live_server.network.snap(SCENE.lat + metres_north / 111_000, SCENE.lon, 1_000)
    return p.lat, p.lon


def test_the_dispatcher_asks_why_a_foot_patrol_beside_a_burglary_is_not_listed(
    live_server: LiveServer, open_page, page_errors: PageErrors
) -> None:
    live_server.seed_units(
        [
            make_unit("foot1", *_near(live_server, 100), kind=UnitKind.FOOT),
            make_unit("car1", *_near(live_server, 800)),
            make_unit("clr1", *_near(live_server, 200), status=UnitStatus.CLEARED),
        ]
    )
    incident_id = new_incident(live_server.services, type_code="crim.theft.burglary")  # priority 2
    page = open_page("/")
    log_in(page)
    page.locator(f"#queue li[data-id='{incident_id}']").click()
    recs = page.locator("#recommendations li[data-unit]")
    expect(recs).to_have_count(2)
    # Free first; the cleared unit after it, flagged, with the map's colour for "not free".
    assert recs.nth(0).get_attribute("data-unit") == "car1"
    assert recs.nth(1).get_attribute("data-unit") == "clr1"
    expect(recs.nth(1).locator(".conditional")).to_be_visible()
    colours = page.evaluate(
        "() => import('/static/console/map.js').then((m) => [m.STATUS_COLOURS.cleared, "
        "m.STATUS_COLOURS.available])"
    )
    dot = recs.nth(1).locator(".status-dot").get_attribute("style")
    assert colours[0] != colours[1] and colours[0] in (dot or "")

    why = page.locator("#why-not")
    expect(why).to_be_visible()
    why.locator("summary").click()
    foot = why.locator("li[data-unit='foot1']")
    expect(foot).to_have_attribute("data-reason", "kind_not_allowed")
    expect(foot.locator(".why")).to_contain_text("不能处置此类警情")
    assert page_errors == []
