"""The composition root's preparation of a server process."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from jingwu.composition import SERVING_GC_THRESHOLD, assemble, settle_heap
from jingwu.routing import RoadNetwork
from jingwu.settings import Settings
from jingwu.store.db import make_engine


@pytest.fixture
def restored_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored_collector")
def test_settling_the_heap_freezes_what_start_up_built_and_collects_the_young_less_often() -> None:
    built_at_start = [{"kept": n} for n in range(1000)]  # long-lived containers, as the app's
    middle, oldest = gc.get_threshold()[1:]
    settle_heap()
    assert gc.get_freeze_count() >= len(built_at_start)
    assert gc.get_threshold() == (SERVING_GC_THRESHOLD, middle, oldest)
    # Frozen is not forgotten: the objects are alive and the collector still frees new cycles.
    assert built_at_start[999] == {"kept": 999}
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1


def test_assemble_with_speed_profile_routes_at_the_bureau_s_local_hour(
    network: RoadNetwork, migrated_database_url: str, tmp_path: Path
) -> None:
    rush = {"*": [0.5 if hour == 8 else 1.0 for hour in range(24)]}
    settings = Settings(data_dir=tmp_path, database_url=migrated_database_url, speed_profile=rush)
    at = [datetime(2026, 12, 1, 0, 30, tzinfo=UTC)]  # 08:30 in Harbin (Asia/Shanghai)
    services = assemble(settings, make_engine(migrated_database_url), network, clock=lambda: at[0])
    try:
        routed = services.network
        assert routed.speed_profile is not None and network.speed_profile is None
        rng = np.random.default_rng(8)
        roster = tuple(network.random_road_point(rng) for _ in range(50))
        target = network.random_road_point(rng)
        at_rush = [r.eta_s for r in routed.nearest_by_time(target, roster, 3, with_routes=False)]
        usual = [r.eta_s for r in network.nearest_by_time(target, roster, 3, with_routes=False)]
        assert at_rush == [r.eta_s for r in routed.nearest_by_time(target, roster, 3, False, hour=8)]
        assert at_rush[0] > usual[0]
        at[0] = datetime(2026, 12, 1, 2, 30, tzinfo=UTC)  # 10:30 there
        assert [r.eta_s for r in routed.nearest_by_time(target, roster, 3, with_routes=False)] == usual
    finally:
        services.close()
