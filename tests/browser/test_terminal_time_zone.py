"""The terminal shows the bureau's clock (JINGWU_TIMEZONE), as the console does, even on a phone
set to another time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.browser.conftest import ContextFactory, LiveServer
from tests.browser.test_terminal import dispatch_incident, log_in, officer_unit, open_terminal


def test_a_phone_in_another_time_zone_shows_the_dispatch_time_on_the_bureaus_clock(
    live_server: LiveServer, new_context: ContextFactory
) -> None:
    unit = officer_unit(live_server)
    # New York is 12 or 13 hours behind Harbin: the two clocks never read alike.
    page = open_terminal(new_context, live_server, timezone_id="America/New_York")
    log_in(page, unit.id)
    incident_id = dispatch_incident(live_server, unit)
    created = live_server.client().get(f"/api/incidents/{incident_id}").json()["created_at"]
    at = datetime.fromisoformat(created)
    bureau = at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%H:%M:%S")
    phone = at.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M:%S")
    assert bureau != phone
    expect(page.locator("#dispatch-time")).to_have_text(bureau)
