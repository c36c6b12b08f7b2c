"""The live unit board: positions reach the roster on the roads, snapped once per roster rather
than once per report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from jingwu.domain.model import Position
from jingwu.routing import RoadNetwork, RoadPoint
from jingwu.service import unit_board
from jingwu.service.unit_board import UNIT_SNAP_DISTANCE_M, UnitBoard
from tests.conftest import make_unit

T0 = datetime(2026, 11, 25, 8, tzinfo=UTC)
FAR = (30.0, 120.0)  # Hangzhou: off every road of the Harbin extract


class CountingNetwork:
    """The real road network, counting the points it is asked to snap."""

    def __init__(self, network: RoadNetwork) -> None:
        self._network = network
        self.snapped = 0

    def snap_many(
        self,
        points: Sequence[tuple[float, float]],
        max_distance_m: float = 250.0,
        motions: Sequence[tuple[float | None, float | None]] | None = None,
    ) -> list[RoadPoint | None]:
        self.snapped += len(points)
        return self._network.snap_many(points, max_distance_m, motions)

    def __getattr__(self, name: str) -> object:
        return getattr(self._network, name)


@pytest.fixture(autouse=True)
def _fresh_rosters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(unit_board, "POSITION_REFRESH_S", 0.0)  # every roster sees the latest moves


def _places(network: RoadNetwork, n: int, seed: int) -> list[RoadPoint]:
    rng = np.random.default_rng(seed)
    return [network.random_road_point(rng) for _ in range(n)]


def _board(network: RoadNetwork, n: int = 4) -> tuple[UnitBoard, CountingNetwork]:
    counting = CountingNetwork(network)
    board = UnitBoard(counting)  # type: ignore[arg-type]
    board.load(make_unit(f"u{i}", p.lat, p.lon, at=T0) for i, p in enumerate(_places(network, n, 3)))
    return board, counting


def test_a_moved_unit_is_routed_from_its_new_road_point(network: RoadNetwork) -> None:
    board, _ = _board(network)
    there = _places(network, 1, 9)[0]
    board.move([("u1", Position(there.lat, there.lon, T0 + timedelta(seconds=5)))])
    assert board.position_of("u1") == Position(there.lat, there.lon, T0 + timedelta(seconds=5))
    roster = board.roster()
    assert roster.points[roster.index["u1"]] == network.snap(there.lat, there.lon, UNIT_SNAP_DISTANCE_M)
    assert roster.units[roster.index["u1"]].position == Position(
        there.lat, there.lon, T0 + timedelta(seconds=5)
    )


def test_a_gps_fix_is_kept_as_it_came_and_read_as_a_position(network: RoadNetwork) -> None:
    from jingwu.domain.gps import Fix

    board, _ = _board(network)
    there = _places(network, 1, 11)[0]
    at = T0 + timedelta(seconds=5)
    board.move([("u2", Fix(at, there.lat, there.lon, 8.5, 270.0, altitude=150.0, accuracy=6.0))])
    expected = Position(there.lat, there.lon, at, heading=270.0, speed=8.5)
    assert board.position_of("u2") == expected and type(board.position_of("u2")) is Position
    board.move([("u2", Fix(T0 + timedelta(seconds=1), *FAR))])  # older: ignored
    roster = board.roster()
    assert roster.units[roster.index["u2"]].position == expected
    assert roster.points[roster.index["u2"]] == network.snap(
        there.lat, there.lon, UNIT_SNAP_DISTANCE_M, heading=270.0, speed=8.5
    )


def test_a_moving_unit_is_placed_in_its_direction_of_travel(network: RoadNetwork) -> None:
    board, _ = _board(network)
    g = network._g  # white-box: a two-way street's direction at a random point on it
    rng = np.random.default_rng(21)
    while True:
        there = network.random_road_point(rng)
        if g.edge_twin[there.edge] >= 0 and network.snap(there.lat, there.lon).others == ():
            break
    heading = float(g.edge_bearing_out[there.edge])
    fix = Position(there.lat, there.lon, T0 + timedelta(seconds=5), heading=heading, speed=9.0)
    board.move([("u1", fix)])
    point = board.roster().points[board.roster().index["u1"]]
    assert point.directed and point == board.snap_position(fix)
    standing = board.snap_position(replace(fix, speed=0.5))
    assert standing is not None and not standing.directed


def test_reports_between_two_rosters_are_snapped_once_per_unit(network: RoadNetwork) -> None:
    board, counting = _board(network)
    board.roster()
    assert counting.snapped == 4  # the load, on the first roster
    places = _places(network, 10, 5)
    for k, place in enumerate(places):
        board.move([("u0", Position(place.lat, place.lon, T0 + timedelta(seconds=k + 1)))])
    board.move([("u2", Position(places[0].lat, places[0].lon, T0 + timedelta(seconds=1)))])
    assert counting.snapped == 4  # nothing yet: no one asked
    roster = board.roster()
    assert counting.snapped == 4 + 2
    assert roster.points[roster.index["u0"]] == network.snap(
        places[-1].lat, places[-1].lon, UNIT_SNAP_DISTANCE_M
    )
    board.roster()
    assert counting.snapped == 6  # nothing moved since


def test_an_older_report_does_not_move_the_unit_back(network: RoadNetwork) -> None:
    board, _ = _board(network)
    before = board.roster()
    far = _places(network, 1, 13)[0]
    board.move([("u1", Position(far.lat, far.lon, T0 - timedelta(seconds=1)))])
    assert board.position_of("u1") == before.units[before.index["u1"]].position
    after = board.roster()
    assert after.points[after.index["u1"]] == before.points[before.index["u1"]]


def test_a_unit_off_every_road_leaves_the_roster_until_it_is_back(network: RoadNetwork) -> None:
    board, _ = _board(network)
    board.move([("u3", Position(*FAR, T0 + timedelta(seconds=1)))])
    assert "u3" not in board.roster().index
    back = _places(network, 1, 17)[0]
    board.move([("u3", Position(back.lat, back.lon, T0 + timedelta(seconds=2)))])
    assert "u3" in board.roster().index


def test_a_reload_keeps_the_points_of_units_that_did_not_move(network: RoadNetwork) -> None:
    board, counting = _board(network)
    board.roster()
    units = {u.id: u for u in board.roster().units}
    moved = _places(network, 1, 21)[0]
    reloaded = [
        replace(u, position=Position(moved.lat, moved.lon, T0 + timedelta(seconds=9))) if u.id == "u2" else u
        for u in units.values()
    ]
    counting.snapped = 0
    board.load(reloaded)
    roster = board.roster()
    assert counting.snapped == 1  # only u2
    assert roster.points[roster.index["u2"]] == network.snap(moved.lat, moved.lon, UNIT_SNAP_DISTANCE_M)


def test_the_top_units_stay_exact_when_a_foot_patrol_falls_behind_on_its_walk(network: RoadNetwork) -> None:
    from jingwu.dispatch.recommend import travel_time
    from jingwu.domain.geo import GeoPoint
    from jingwu.domain.model import Incident
    from jingwu.domain.status import IncidentStatus, SourceChannel, UnitKind

    places = _places(network, 16, 11)
    units = [
        make_unit(f"u{i}", p.lat, p.lon, at=T0, kind=UnitKind.FOOT if i % 2 else UnitKind.PATROL_CAR)
        for i, p in enumerate(places)
    ]
    board = UnitBoard(network)
    board.load(units)
    theft = Incident(
        "J20261125-FOOT01",
        "crim.theft",
        3,
        GeoPoint(45.7560, 126.6420),
        SourceChannel.CALL_110,
        IncidentStatus.PENDING,
        T0,
    )
    # Each unit's own time, searched one by one: a car's drive, a foot patrol's walk.
    target = board.incident_point(theft)
    drive, own = {}, {}
    for u in units:
        [reach] = network.nearest_by_time(target, [board.snap_position(u.position)], 1, with_routes=False)
        drive[u.id] = reach.eta_s
        own[u.id] = travel_time(u, reach.eta_s, reach.distance_m)
    expected = sorted(own, key=lambda u: own[u])[:4]
    assert expected != sorted(drive, key=lambda u: drive[u])[:4]  # the walks change the order
    got = board.recommend(theft, limit=4)
    assert [r.unit.id for r in got] == expected
    assert [r.eta_s for r in got] == pytest.approx([own[u] for u in expected])
