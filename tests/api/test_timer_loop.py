"""The app's timer loop: every job runs on its own schedule even while another keeps failing,
and a failing job is reported once a minute rather than every second."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable

import pytest

from jingwu.api import factory as app_module
from jingwu.composition import Services


def test_a_failing_job_neither_stops_the_others_nor_floods_the_log(
    services: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(app_module, "TIMER_PERIOD_S", 0.005)
    monkeypatch.setattr(app_module, "DEVICE_SWEEP_EVERY", 2)
    monkeypatch.setattr(app_module, "POSITION_UPKEEP_EVERY", 3)
    monkeypatch.setattr(app_module, "BOARD_REFRESH_EVERY", 4)
    ran: Counter[str] = Counter()

    def counted(name: str, work: Callable[[], object]) -> Callable[[], object]:
        def run() -> object:
            ran[name] += 1
            return work()

        return run

    def escalate_broken() -> None:
        ran["escalate"] += 1
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services.dispatch, "escalate_overdue", escalate_broken)
    sweep = counted("sweep", services.community_devices.sweep_offline)
    monkeypatch.setattr(services.community_devices, "sweep_offline", sweep)
    monkeypatch.setattr(services.positions, "maintain", counted("upkeep", services.positions.maintain))
    monkeypatch.setattr(services.dispatch, "refresh_board", counted("board", services.dispatch.refresh_board))

    async def run_for_a_while() -> None:
        task = asyncio.create_task(app_module._timer_loop(services))
        while ran["board"] < 3:
            await asyncio.sleep(0.01)
        task.cancel()

    with caplog.at_level(logging.ERROR, logger=app_module.log.name):
        asyncio.run(asyncio.wait_for(run_for_a_while(), timeout=30))
    assert ran["escalate"] >= 12 and ran["sweep"] >= 6 and ran["upkeep"] >= 4
    reports = [r for r in caplog.records if "escalate_overdue" in r.getMessage()]
    assert len(reports) == 1  # a dozen failures within the minute: one report
