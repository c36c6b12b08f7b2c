"""Take the README's screenshots from a running demo: docs/images/console.png and terminal.png.

Start the demo first, let the city run a minute, then run this script:

    JINGWU_DEMO_PASSWORD='…' .venv/bin/jingwu --data-dir /tmp/jingwu-shots demo --port 8765 &
    JINGWU_DEMO_PASSWORD='…' .venv/bin/python scripts/screenshots.py --url http://127.0.0.1:8765

It picks an available patrol car of 保健路派出所 (BJ…), opens an incident about a kilometre from it
through the API, shows that incident with its recommendations on the dispatcher's console (a
1280×800 desk window), dispatches the car from the console, and shows the dispatch on that
officer's terminal (a 390×844 phone window). Playwright drives Debian's Chromium
(/usr/bin/chromium); nothing is downloaded. Raise the demo's `--call-rate` (say 30) for a fuller
queue: at night in Harbin the demo city is quiet.

The PNGs are reduced to 256 colours with Pillow when it can be imported (it is not a dependency
of Jingwu: e.g. `pip install --target /tmp/pillow pillow` and `PYTHONPATH=/tmp/pillow`), to keep
each under about 300 kB; without it they are left as Chromium wrote them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
DESK = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
# Offsets (degrees) tried in turn for the scene, about a kilometre from the car, until one is on a road.
OFFSETS = [(0.008, 0.0), (-0.008, 0.0), (0.0, 0.011), (0.0, -0.011), (0.006, 0.008), (-0.006, -0.008)]


def pick_unit(api: httpx.Client) -> dict[str, Any]:
    units = api.get("/api/units").raise_for_status().json()
    for unit in units:
        if (
            unit["callsign"].startswith("BJ")
            and unit["kind"] == "patrol_car"
            and unit["status"] == "available"
            and unit["position"]
        ):
            return dict(unit)
    sys.exit("no available BJ patrol car with a position: wait a little and run again")


def open_incident(api: httpx.Client, unit: dict[str, Any]) -> str:
    here = unit["position"]
    for dlat, dlon in OFFSETS:
        answer = api.post(
            "/api/incidents",
            json={
                "type_code": "order.fight",
                "location": {"lat": here["lat"] + dlat, "lon": here["lon"] + dlon},
                "address": "南岗区 果戈里大街",
                "description": "两人在店门口打架，一人受轻伤",
                "source": "call_110",
            },
        )
        if answer.status_code == 201:
            return str(answer.json()["id"])
    sys.exit("no road near the chosen car for the scene: run again")


def log_in(page: Page, username: str, password: str) -> None:
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-form button[type=submit]")


def shrink(path: Path) -> None:
    """Reduce a PNG to 256 colours, which keeps a map screenshot small (when Pillow is there)."""
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def console_shot(
    browser: Browser, url: str, password: str, incident_id: str, unit_id: str, out: Path
) -> None:
    context = browser.new_context(**DESK, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.goto(url + "/")
    log_in(page, "dispatcher", password)
    page.wait_for_function("() => window.jingwuConsole && window.jingwuConsole.ready")
    page.evaluate("window.jingwuConsole.ready")
    expect(page.locator("#conn-status")).to_have_attribute("data-status", "live", timeout=15_000)
    page.locator(f"#queue li[data-id='{incident_id}']").click()
    expect(page.locator(f"#recommendations li[data-unit='{unit_id}']")).to_be_visible(timeout=15_000)
    time.sleep(2)  # the routes and the map settle
    page.screenshot(path=str(out))
    page.locator(f"#recommendations li[data-unit='{unit_id}'] button[data-action=dispatch]").click()
    expect(page.locator(f"#assigned li[data-unit='{unit_id}']")).to_be_visible(timeout=15_000)
    context.close()


def terminal_shot(browser: Browser, url: str, password: str, callsign: str, out: Path) -> None:
    context = browser.new_context(**PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.goto(url + "/terminal/")
    page.evaluate("window.jingwuTerminal.ready")
    log_in(page, callsign, password)
    expect(page.locator("#dispatch")).to_be_visible(timeout=15_000)
    time.sleep(3)  # the route is drawn
    page.screenshot(path=str(out))
    context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8765", help="the running demo")
    parser.add_argument("--out", type=Path, default=Path("docs/images"), help="where the PNGs go")
    args = parser.parse_args()
    password = os.environ.get("JINGWU_DEMO_PASSWORD") or sys.exit("set JINGWU_DEMO_PASSWORD")
    args.out.mkdir(parents=True, exist_ok=True)

    with httpx.Client(base_url=args.url, timeout=30) as api:
        token = api.post("/api/auth/login", json={"username": "dispatcher", "password": password})
        api.headers["Authorization"] = "Bearer " + token.raise_for_status().json()["access_token"]
        unit = pick_unit(api)
        incident_id = open_incident(api, unit)
    print(f"unit {unit['callsign']} ({unit['id']}), incident {incident_id}")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            console_shot(browser, args.url, password, incident_id, unit["id"], args.out / "console.png")
            terminal_shot(browser, args.url, password, unit["callsign"], args.out / "terminal.png")
        finally:
            browser.close()
    for name in ("console.png", "terminal.png"):
        path = args.out / name
        shrink(path)
        print(f"{path}: {path.stat().st_size // 1024} kB")


if __name__ == "__main__":
    main()
