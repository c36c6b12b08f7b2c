"""The composition root's preparation of a server process."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from jingwu.composition import SERVING_GC_THRESHOLD, settle_heap


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
