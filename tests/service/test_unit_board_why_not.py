"""The board's recommendation and its "why not?": one rule for free (a cleared unit comes after
every free one, and only for urgent calls), and a reason for every nearby unit left out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jingwu.dispatch.eligibility import WhyNot
from jingwu.domain.geo import GeoPoint
from jingwu.domain.model import Incident
from jingwu.domain.status import IncidentStatus, SourceChannel, UnitKind, UnitStatus
from jingwu.routing import RoadNetwork
from jingwu.service import unit_board
from jingwu.service.unit_board import UnitBoard
from tests.conftest import make_unit

T0 = datetime(2026, 11, 25, 8, tzinfo=UTC)
SCENE = (45.7550, 126.6330)  # a Nangang street corner


@pytest.fixture(autouse=True)
def _fresh_rosters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(unit_board, "POSITION_REFRESH_S", 0.0)


def incident(type_code: str, priority: int, at: tuple[float, float] = SCENE) -> Incident:
    return Incident(
        id="J1",
        type_code=type_code,
        priority=priority,
        location=GeoPoint(*at),
        source=SourceChannel.CALL_110,
        status=IncidentStatus.PENDING,
        created_at=T0,
    )


def near(network: RoadNetwork, metres_north: float) -> tuple[float, float]:
    """A road point about ``metres_north`` north of the scene."""
    p = network.snap(SCENE[0] + metres_north / 111_000, SCENE[1], 1_000)
    return p.lat, p.lon


def test_a_cleared_unit_nearer_than_a_free_one_is_offered_after_it_and_flagged(network: RoadNetwork) -> None:
    board = UnitBoard(network)
    board.load(
        [
            make_unit("cleared", *near(network, 100), status=UnitStatus.CLEARED),
            make_unit("free", *near(network, 1500)),
        ]
    )
    urgent = board.recommend(incident("crim.robbery", 1), limit=5)
    assert [(r.unit.id, r.conditional) for r in urgent] == [("free", False), ("cleared", True)]
    assert urgent[1].eta_s < urgent[0].eta_s  # nearer by road, yet second: it is not free
    # A routine call waits for a free unit: the cleared one is not offered at all.
    routine = board.recommend(incident("crim.theft.vehicle", 3), limit=5)
    assert [r.unit.id for r in routine] == ["free"]


def test_a_cleared_unit_fills_the_list_only_when_free_ones_run_out(network: RoadNetwork) -> None:
    board = UnitBoard(network)
    board.load(
        [make_unit(f"f{i}", *near(network, 300 * (i + 1))) for i in range(3)]
        + [make_unit("c", *near(network, 50), status=UnitStatus.CLEARED)]
    )
    assert [r.unit.id for r in board.recommend(incident("crim.robbery", 1), limit=2)] == ["f0", "f1"]
    assert [r.unit.id for r in board.recommend(incident("crim.robbery", 1), limit=4)] == [
        "f0",
        "f1",
        "f2",
        "c",
    ]


def test_why_not_names_the_reason_for_every_unit_near_the_scene(network: RoadNetwork) -> None:
    board = UnitBoard(network)
    board.load(
        [
            make_unit("foot", *near(network, 100), kind=UnitKind.FOOT),
            make_unit("busy", *near(network, 150), status=UnitStatus.ON_SCENE),
            make_unit("car1", *near(network, 400)),
            make_unit("car2", *near(network, 600)),
            make_unit("cleared", *near(network, 200), status=UnitStatus.CLEARED),
            make_unit("far", *near(network, 9000)),
            make_unit("elsewhere", *near(network, 300), station="north"),
        ]
    )
    burglary = incident("crim.theft.burglary", 3)
    verdicts = board.explain(burglary, limit=1, radius_m=2_000, station_ids={"south"})
    by_id = {v.unit.id: v for v in verdicts}
    assert set(by_id) == {"foot", "busy", "car1", "car2", "cleared"}  # in range, and the caller's
    assert [v.unit.id for v in verdicts] == sorted(by_id, key=lambda u: by_id[u].straight_line_m)
    assert by_id["foot"].reason is WhyNot.KIND_NOT_ALLOWED
    assert by_id["busy"].reason is WhyNot.NOT_AVAILABLE
    assert by_id["cleared"].reason is WhyNot.ROUTINE_CALL
    # Of the two cars, the one nearer by road is listed; the other is told it was outranked.
    listed, other = sorted((by_id["car1"], by_id["car2"]), key=lambda v: v.reason is not None)
    assert listed.reason is None and listed.rank == 0
    assert other.reason is WhyNot.OUTRANKED and other.rank is None
    assert listed.eta_s is not None and other.eta_s is not None and other.eta_s >= listed.eta_s


def test_why_not_tells_a_unit_off_every_road_from_one_that_is_outranked(network: RoadNetwork) -> None:
    board = UnitBoard(network)
    # In the Songhua, 1.1 km from any road: beyond the distance a unit is snapped from.
    board.load([make_unit("river", 45.7860, 126.5340), make_unit("car", 45.7800, 126.5400)])
    verdicts = board.explain(incident("crim.robbery", 2, at=(45.7800, 126.5400)), limit=5, radius_m=5_000)
    reasons = {v.unit.id: v.reason for v in verdicts}
    assert reasons == {"river": WhyNot.OFF_ROAD, "car": None}
