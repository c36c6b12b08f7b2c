"""The console tells the command room when a community alarm column goes silent (docs/devices.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect
from sqlalchemy import update

from jingwu.devices.protocol import device_topic, signed_payload
from jingwu.domain.devices import DeviceKind, MessageKind
from jingwu.service.community_devices import NewDevice
from jingwu.store import tables as t
from jingwu.store.db import write_transaction
from tests.browser.conftest import LiveServer, PageErrors
from tests.browser.test_console import SCENE, log_in


def test_an_alarm_column_going_silent_is_an_alert_on_the_console(
    live_server: LiveServer, open_page, page_errors: PageErrors
) -> None:
    services = live_server.services
    column = NewDevice("col-console-1", DeviceKind.ALARM_COLUMN, "保健路社区", SCENE)
    _, secret = services.community_devices.register(column, actor="admin", source="test")
    topic = device_topic(column.id, MessageKind.HEARTBEAT)
    beat = {"ts": int(datetime.now(UTC).timestamp() * 1000), "seq": 1}
    assert services.community_devices.handle(topic, signed_payload(secret, topic, beat)) is None
    page = open_page("/")
    log_in(page)
    # Ten minutes of silence, as the store would hold them; the next sweep takes it offline.
    with write_transaction(services.engine) as conn:
        conn.execute(update(t.community_devices).values(last_seen=datetime.now(UTC) - timedelta(minutes=10)))
    services.community_devices.sweep_offline()
    expect(page.locator("#toast")).to_contain_text("一键报警柱 col-console-1（保健路社区）已离线，无法报警")
    assert page_errors == []
