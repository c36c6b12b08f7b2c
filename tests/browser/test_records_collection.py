"""A community officer's field collection, made offline on the terminal, reaches the server exactly
once when the connection is back, and is approved at the station desk (real Chromium)."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
from playwright.sync_api import Page, expect
from sqlalchemy import select

from jingwu.domain.access import Jurisdiction, Role
from jingwu.simulation.people import synthetic_person
from jingwu.store import records_tables as rt
from tests.browser.conftest import PASSWORD, ContextFactory, LiveServer, PageErrors, wait_until

PHONE = {"viewport": (390, 844), "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
HOUSE_AT = (45.7560, 126.6420)  # inside the test city's south station


def _png(width: int = 4, height: int = 3) -> bytes:
    """A real (decodable) PNG: the terminal scales photos through a canvas before queuing them."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    rows = b"".join(b"\x00" + b"\xc0\x40\x20" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _users(live_server: LiveServer) -> None:
    accounts = live_server.services.auth.accounts
    south = Jurisdiction.parse("station:south")
    accounts.create_user(
        "community-south", PASSWORD, Role.COMMUNITY_OFFICER, station_id="south", jurisdiction=south
    )
    accounts.create_user("chief-south", PASSWORD, Role.COMMANDER, station_id="south", jurisdiction=south)


def _collections(live_server: LiveServer) -> list[dict[str, str]]:
    with live_server.services.engine.connect() as conn:
        rows = conn.execute(select(rt.records_collections.c.id, rt.records_collections.c.status)).all()
    return [{"id": r.id, "status": r.status} for r in rows]


def _log_in(page: Page, username: str) -> None:
    expect(page.locator("#login-form")).to_be_visible()
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")


def test_a_collection_made_offline_syncs_once_and_is_approved_at_the_station(
    live_server: LiveServer, new_context: ContextFactory, page_errors: PageErrors, screenshot_dir: Path
) -> None:
    _users(live_server)
    person = synthetic_person(np.random.default_rng(42), today=date.today(), min_age=30, max_age=50)
    context = new_context(**PHONE, geolocation=HOUSE_AT)
    page = context.new_page()
    page.goto(live_server.url + "/terminal/")
    page.evaluate("window.jingwuTerminal.ready")
    _log_in(page, "community-south")
    tab = page.locator("#tabs button[data-tab='collect']")
    expect(page.locator("#tab-collect")).to_be_attached()
    tab.click()  # a community officer starts on 今日工作
    form = page.locator("#tab-collect form")
    expect(form).to_be_visible()
    page.evaluate("navigator.serviceWorker.ready")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")

    context.set_offline(True)
    form.locator("select[name=kind]").select_option("resident")
    for name, value in {
        "street_address": "红军街85号",
        "community": "保健路",
        "building": "3",
        "unit": "2",
        "room": "501",
        "lat": str(HOUSE_AT[0]),
        "lon": str(HOUSE_AT[1]),
        "name": person.name,
        "id_number": person.id_number,
        "phone": person.phone or "13812345678",
        "registered_address": "黑龙江省哈尔滨市南岗区",
        "plates": "黑A12345",
    }.items():
        form.locator(f"input[name={name}]").fill(value)
    form.locator("select[name=relation]").select_option("head")
    form.locator("input[name=photos]").set_input_files(
        files=[{"name": "door.png", "mimeType": "image/png", "buffer": _png()}]
    )
    form.locator("button[type=submit]").click()
    waiting = page.locator("#tab-collect .collect-item[data-status='waiting']")
    expect(waiting).to_have_count(1)
    wait_until(page, "async () => (await window.jingwuTerminal.outbox.count()) === 1")
    page.screenshot(path=str(screenshot_dir / "terminal-collect-offline.png"))
    assert _collections(live_server) == []  # nothing reached the server while offline

    context.set_offline(False)
    wait_until(page, "async () => (await window.jingwuTerminal.outbox.count()) === 0", timeout_s=20)
    expect(page.locator("#tab-collect .collect-item[data-status='pending']")).to_have_count(1)
    page.evaluate("window.jingwuTerminal.outbox.flush()")  # a further flush sends nothing again
    page.wait_for_timeout(500)
    stored = _collections(live_server)
    assert len(stored) == 1 and stored[0]["status"] == "pending"
    with live_server.services.engine.connect() as conn:
        photos = conn.execute(select(rt.records_photos.c.content_type, rt.records_photos.c.size)).all()
    assert len(photos) == 1 and photos[0].size > 0

    desk = context.browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    try:
        station = desk.new_page()
        station.goto(live_server.url + "/station/")
        _log_in(station, "chief-south")
        row = station.locator(f".records-queue tr[data-id='{stored[0]['id']}']")
        expect(row).to_be_visible()
        expect(row).to_contain_text("红军街85号")
        expect(row).to_contain_text(person.id_number)  # a commander holds personal_data.full
        station.screenshot(path=str(screenshot_dir / "station-records-queue.png"))
        row.locator("button.records-approve").click()
        expect(row).to_be_hidden()
        # The approved resident is found by a search with a reason, and their history opens.
        search = station.locator("form.records-search")
        search.locator("select[name=by]").select_option("id_number")
        search.locator("input[name=value]").fill(person.id_number)
        search.locator("input[name=reason]").fill("入户走访核查")
        search.locator("button[type=submit]").click()
        found = station.locator(".records-results li")
        expect(found).to_have_count(1)
        expect(found).to_contain_text(person.name)
        found.locator("button.records-history-open").click()
        history = station.locator(".records-history tbody tr")
        expect(history.filter(has_text="身份证号")).to_contain_text(person.id_number)
        expect(history.first).to_contain_text("community-south / chief-south")
        station.screenshot(path=str(screenshot_dir / "station-records-history.png"))
    finally:
        desk.close()
    assert _collections(live_server)[0]["status"] == "approved"
    with live_server.services.engine.connect() as conn:
        residents = conn.execute(select(rt.records_residents.c.id, rt.records_residents.c.updated_at)).all()
    assert len(residents) == 1 and residents[0].updated_at <= datetime.now(UTC)
    reads = [r for r in live_server.services.audit.page(limit=200) if r.actor == "chief-south"]
    assert {"records.search", "records.resident.read"} <= {r.action for r in reads}
    assert all(
        r.reason == "入户走访核查" for r in reads if r.action in ("records.search", "records.resident.read")
    )
