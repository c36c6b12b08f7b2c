"""Smoke tests of the browser harness: the pages load in Chromium without errors, the vendored map
library is served as an ES module, and the live server survives a restart with its port and data."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ContextFactory, LiveServer, PageErrors, PageOpener

HARBIN = (45.7560, 126.6420)
FIGHT = {
    "type_code": "order.fight",
    "location": {"lat": 45.7610, "lon": 126.6290},
    "address": "南岗区果戈里大街",
    "source": "call_110",
}


@pytest.mark.parametrize(
    ("path", "options"),
    [
        ("/", {"viewport": (1280, 800)}),
        ("/terminal/", {"viewport": (390, 844), "geolocation": HARBIN, "is_mobile": True, "has_touch": True}),
        ("/station/", {"viewport": (1280, 800)}),
    ],
    ids=["console", "terminal", "station"],
)
def test_page_loads_without_errors(
    open_page: PageOpener,
    page_errors: PageErrors,
    screenshot_dir: Path,
    path: str,
    options: dict[str, object],
) -> None:
    page = open_page(path, **options)
    assert "警务" in page.title()  # "Jingwu 警务", "警务终端", …
    page.screenshot(path=screenshot_dir / f"smoke-{path.strip('/') or 'console'}.png")
    assert page_errors == []


def test_vendored_leaflet_loads_as_an_es_module(open_page: PageOpener, page_errors: PageErrors) -> None:
    page = open_page("/")
    version = page.evaluate("async () => (await import('/static/vendor/leaflet/leaflet-src.esm.js')).version")
    assert version == "1.9.4"
    assert page_errors == []


def test_live_server_restart_keeps_port_and_data(live_server: LiveServer) -> None:
    url, port = live_server.url, live_server.port
    dispatcher = live_server.client()
    created = dispatcher.post("/api/incidents", json=FIGHT)
    assert created.status_code == 201, created.text
    incident_id = created.json()["id"]

    live_server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/healthz", timeout=2)
    live_server.start()

    assert (live_server.url, live_server.port) == (url, port)
    assert httpx.get(f"{url}/healthz", timeout=5).json() == {"status": "ok", "demo": False}
    listed = dispatcher.get("/api/incidents")  # the token was stored: it outlives the process
    assert listed.status_code == 200, listed.text
    assert incident_id in [i["id"] for i in listed.json()]


def test_page_websocket_resumes_across_a_restart(
    live_server: LiveServer, new_context: ContextFactory, page_errors: PageErrors
) -> None:
    """What the console's reconnect relies on: the page sees the restart (close code 1012), reconnects
    to the same address and, resuming with ?after=, is sent what happened meanwhile."""
    token = live_server.login()["access_token"]
    page = new_context().new_page()
    page.goto(live_server.url + "/")
    page.evaluate(
        """(url) => {
            window.live = {messages: [], closes: []};
            const ws = new WebSocket(url);
            ws.onmessage = (e) => window.live.messages.push(JSON.parse(e.data));
            ws.onclose = (e) => window.live.closes.push(e.code);
        }""",
        f"{live_server.ws_url}/api/events?access_token={token}",
    )
    page.wait_for_function("() => window.live.messages.length > 0")
    hello = page.evaluate("window.live.messages[0]")
    assert hello["type"] == "hello"

    live_server.restart()
    page.wait_for_function("() => window.live.closes.length > 0")
    assert page.evaluate("window.live.closes") == [1012]  # "service restart"

    created = live_server.client().post("/api/incidents", json=FIGHT)
    assert created.status_code == 201, created.text
    page.evaluate(
        """(url) => {
            window.live = {messages: [], closes: []};
            const ws = new WebSocket(url);
            ws.onmessage = (e) => window.live.messages.push(JSON.parse(e.data));
        }""",
        f"{live_server.ws_url}/api/events?access_token={token}&after={hello['last_event_id']}",
    )
    page.wait_for_function("() => window.live.messages.some((m) => m.type === 'incident.created')")
    replayed = page.evaluate("window.live.messages.find((m) => m.type === 'incident.created')")
    assert replayed["incident_id"] == created.json()["id"]
    assert page_errors == []


def test_a_demo_server_is_labelled_on_every_page_before_log_in_too(
    live_server: LiveServer, open_page: PageOpener, page_errors: PageErrors
) -> None:
    console = open_page("/")
    expect(console.locator(".login-card [data-demo-badge]")).to_be_hidden()  # not a demo
    live_server.services.demo = True
    for path in ("/", "/terminal/"):
        page = open_page(path)
        expect(page.locator(".login-card [data-demo-badge]")).to_be_visible()
        expect(page.locator(".login-card [data-demo-badge]")).to_contain_text("演示环境")
    assert page_errors == []
