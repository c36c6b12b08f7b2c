"""Ranking: free units first, by road time; a conditionally available one after all of them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from jingwu.dispatch import EtaEntry, rank
from jingwu.dispatch.recommend import WALKING_SPEED_MS, travel_time
from jingwu.domain.geo import GeoPoint
from jingwu.domain.model import Position, Unit
from jingwu.domain.status import UnitKind, UnitStatus

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def unit(unit_id: str, status: UnitStatus) -> Unit:
    return Unit(
        id=unit_id,
        callsign=unit_id.upper(),
        kind=UnitKind.PATROL_CAR,
        station_id="s",
        status=status,
        capabilities=frozenset(),
        position=Position(45.75, 126.63, T0),
    )


def test_a_free_unit_ranks_before_a_nearer_cleared_or_busy_one_which_is_flagged() -> None:
    units = [unit("c", UnitStatus.CLEARED), unit("b", UnitStatus.BUSY), unit("f", UnitStatus.AVAILABLE)]
    table = [EtaEntry(0, 30.0, 200.0, None), EtaEntry(1, 60.0, 400.0, None), EtaEntry(2, 600.0, 5000.0, None)]
    ranked = rank(units, table, GeoPoint(45.75, 126.63), 3)
    assert [(r.unit.id, r.conditional) for r in ranked] == [("f", False), ("c", True), ("b", True)]
    assert [r.unit.id for r in rank(units, table, GeoPoint(45.75, 126.63), 1)] == ["f"]


def test_a_foot_patrol_ranks_by_its_walk_not_a_cars_drive() -> None:
    walker = replace(unit("w", UnitStatus.AVAILABLE), kind=UnitKind.FOOT)
    car = unit("c", UnitStatus.AVAILABLE)
    # By car the walker is 2 minutes away over 1.5 km, the car 4 minutes over 3 km; on foot the
    # walker needs 1,500 m / 1.4 m/s ≈ 18 minutes.
    table = [EtaEntry(0, 120.0, 1500.0, None), EtaEntry(1, 240.0, 3000.0, None)]
    ranked = rank([walker, car], table, GeoPoint(45.75, 126.63), 2)
    assert [r.unit.id for r in ranked] == ["c", "w"]
    assert ranked[1].eta_s == pytest.approx(1500.0 / WALKING_SPEED_MS)
    # A walk shorter than the drive's time (a lane a car must go round) keeps the road ETA.
    assert travel_time(walker, 300.0, 100.0) == 300.0
    assert travel_time(car, 120.0, 1500.0) == 120.0
