"""A new 110 call at the address of an open dispute, in a real Chromium: the console shows the
dispute beside the incident ("此地址有未结家庭纠纷，风险：高"), raised by the call — the thing a
dispatcher sending a car to a family quarrel relies on."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from jingwu.domain.disputes import DisputeKind, RiskFactor
from jingwu.domain.geo import GeoPoint
from jingwu.domain.status import SourceChannel
from jingwu.service.dispatching import NewIncident
from jingwu.service.disputes import NewDispute, NewParty, everywhere
from tests.browser.conftest import LiveServer, PageErrors
from tests.browser.test_console import SCENE, log_in


def test_a_call_at_a_disputes_address_shows_the_dispute_raised_beside_the_incident(
    live_server: LiveServer, open_page, page_errors: PageErrors, screenshot_dir: Path
) -> None:
    services = live_server.services
    dispute = services.disputes.cases.open(
        NewDispute(
            kind=DisputeKind.FAMILY,
            summary="夫妻因家务长期争吵",
            address="南岗区西大直街 92 号 2 单元 301",
            location=GeoPoint(SCENE.lat, SCENE.lon),
            parties=[NewParty("王建国", phone="+8613812345678"), NewParty("李秀梅")],
            factors=frozenset({RiskFactor.REPEATED_CONFLICT}),
        ),
        actor="community-baojianlu",
        reach=everywhere,
    )
    assert dispute["risk_level"] == "medium"
    # Another call elsewhere: nothing beside it.
    elsewhere = services.dispatch.create_incident(
        NewIncident("crim.theft", GeoPoint(45.7420, 126.6600), SourceChannel.CALL_110), actor="calltaker"
    )
    page = open_page("/")
    log_in(page)
    page.click(f"#queue li[data-id='{elsewhere.id}']")
    expect(page.locator("#detail")).to_be_visible()
    expect(page.locator("#disputes-block")).to_be_hidden()

    # The new call, 20 m from the dispute's door, arrives while the console is open.
    call = services.dispatch.create_incident(
        NewIncident(
            "dispute.family",
            GeoPoint(SCENE.lat + 0.00018, SCENE.lon),
            SourceChannel.CALL_110,
            address="西大直街92号",
        ),
        actor="calltaker",
    )
    page.click(f"#queue li[data-id='{call.id}']")
    beside = page.locator(f"#disputes-block li[data-dispute='{dispute['id']}']")
    expect(page.locator("#disputes-block")).to_be_visible()
    expect(beside).to_have_attribute("data-risk", "high")
    expect(beside.locator(".dispute-headline")).to_have_text("此地址有未结家庭纠纷，风险：高")
    expect(beside).to_contain_text("已因本警情升级")
    expect(beside).to_contain_text(f"新警情 {call.id} 来自此地址")
    expect(beside).to_contain_text("王**")
    expect(beside).not_to_contain_text("王建国")  # names masked beside a call
    page.screenshot(path=str(screenshot_dir / "console-dispute-beside.png"))
    stored = services.disputes.cases.get(dispute["id"], reach=everywhere)
    assert stored["risk_level"] == "high" and stored["incidents"][0]["incident_id"] == call.id

    # In English too.
    page.click("#lang-toggle")
    expect(beside.locator(".dispute-headline")).to_have_text(
        "This address has an open family dispute, risk high"
    )
    expect(beside).to_contain_text(f"new call {call.id} from this address")
    assert page_errors == []
