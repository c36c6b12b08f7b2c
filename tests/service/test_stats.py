"""Today's figures read from the store: the local day is cut at the bureau's midnight."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from jingwu.errors import ValidationFailed
from jingwu.service.stats import StatsService
from jingwu.settings import Settings
from tests.conftest import FakeClock, ServicesFactory
from tests.service.test_dispatching import CENTRE, robbery_at


def test_unknown_time_zone_is_refused_at_start_up_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JINGWU_TIMEZONE", "Asia/Harbin-ish")
    with pytest.raises(ValidationFailed) as err:
        Settings.from_environment()
    assert err.value.code == "invalid_setting" and "JINGWU_TIMEZONE" in err.value.message
    monkeypatch.setenv("JINGWU_TIMEZONE", "Europe/Berlin")
    assert Settings.from_environment().zone == ZoneInfo("Europe/Berlin")


def test_incidents_today_depend_on_where_midnight_falls(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = make_services()
    clock.now = datetime(2026, 11, 24, 23, 0, tzinfo=UTC)  # the 24th in UTC, 07:00 on the 25th in Shanghai
    services.dispatch.create_incident(robbery_at(*CENTRE), actor="d")
    clock.now = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
    services.dispatch.create_incident(robbery_at(*CENTRE), actor="d")
    clock.now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)

    shanghai = services.stats.today()
    assert shanghai.day.day.isoformat() == "2026-11-25" and shanghai.incidents_today == 2
    in_utc = StatsService(services.engine, ZoneInfo("UTC"), clock=clock).today()
    assert in_utc.day.day.isoformat() == "2026-11-25" and in_utc.incidents_today == 1
    assert shanghai.open_incidents == in_utc.open_incidents == 2
