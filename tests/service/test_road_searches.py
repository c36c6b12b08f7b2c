"""A command's road search runs outside its write transaction: a slow search holds up no other
command, and what it found is used only if the places it was worked from still hold."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import pytest

from jingwu.composition import Services
from jingwu.domain.events import EventType
from jingwu.domain.geo import GeoPoint
from jingwu.domain.gps import Fix
from jingwu.domain.model import Position
from jingwu.routing import Reach, RoadNetwork
from jingwu.service.positions import Source
from jingwu.service.road_searches import SEARCH_ATTEMPTS
from jingwu.service.unit_board import UNIT_SNAP_DISTANCE_M
from tests.conftest import FakeClock, ServicesFactory, make_unit
from tests.service.test_dispatching import CENTRE, road_points, robbery_at

T = TypeVar("T")
WAIT_S = 10.0  # far longer than any command here takes when nothing holds it up


class SlowSearches:
    """The road network, whose first search waits at a gate (a slow search), and whose every
    search may first run ``meanwhile`` (something another request does while it searches)."""

    def __init__(self, network: RoadNetwork) -> None:
        self._network = network
        self.waiting = threading.Event()
        self.gate = threading.Event()
        self.calls = 0
        self._count = threading.Lock()
        self.meanwhile: Callable[[], None] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._network, name)

    def nearest_by_time(self, *args: Any, **kwargs: Any) -> list[Reach]:
        with self._count:
            self.calls += 1
            first = self.calls == 1
        if first:
            self.waiting.set()
            assert self.gate.wait(3 * WAIT_S)
        if self.meanwhile is not None:
            self.meanwhile()
        return self._network.nearest_by_time(*args, **kwargs)


def slow_searches(services: Services) -> SlowSearches:
    slow = SlowSearches(services.dispatch.network)
    services.dispatch.network = slow  # type: ignore[assignment]
    services.dispatch.board.network = slow  # type: ignore[assignment]
    return slow


class Running(Generic[T]):
    """A call on its own thread, as another request would run."""

    def __init__(self, call: Callable[[], T]) -> None:
        self._call = call
        self._result: list[T] = []
        self._error: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._result.append(self._call())
        except BaseException as exc:
            self._error.append(exc)

    def done_within(self, seconds: float) -> bool:
        self._thread.join(timeout=seconds)
        return not self._thread.is_alive()

    def result(self) -> T:
        assert self.done_within(3 * WAIT_S)
        if self._error:
            raise self._error[0]
        return self._result[0]


def exact_eta(network: RoadNetwork, position: Position | None, to: GeoPoint) -> float:
    """The ETA worked out afresh, on the bare network, from where the unit is stored now."""
    assert position is not None
    source = network.snap(position.lat, position.lon, UNIT_SNAP_DISTANCE_M, position.heading, position.speed)
    target = network.snap(to.lat, to.lon, UNIT_SNAP_DISTANCE_M)
    (reach,) = network.nearest_by_time(target, [source], 1, with_routes=False)
    return round(reach.eta_s, 1)


def move(services: Services, clock: FakeClock, unit_id: str, to: tuple[float, float]) -> None:
    """A position report of the unit, minutes after its last: a drive the GPS filter believes."""
    clock.advance(300)
    result = services.positions.ingest(
        [(unit_id, Fix(ts=clock(), lat=to[0], lon=to[1]))], source=Source.GATEWAY
    )
    assert result.accepted == 1


def dispatched_eta(services: Services, incident_id: str) -> Any:
    (event,) = [
        m for m in services.dispatch.incident_timeline(incident_id) if m.type == EventType.UNIT_DISPATCHED
    ]
    return event.payload["data"]["eta_s"]


def test_dispatch_search_holds_up_no_other_command_and_its_eta_is_exact(
    make_services: ServicesFactory, network: RoadNetwork
) -> None:
    a, b = road_points(network, 2, seed=21)
    services = make_services([make_unit("u1", *a), make_unit("u2", *b)])
    first = services.dispatch.create_incident(robbery_at(*CENTRE), actor="d1")
    second = services.dispatch.create_incident(robbery_at(*CENTRE), actor="d2")
    slow = slow_searches(services)
    sending = Running(lambda: services.dispatch.dispatch(first.id, ["u1"], actor="d1"))
    try:
        assert slow.waiting.wait(WAIT_S)
        noting = Running(lambda: services.dispatch.add_note(second.id, "同一嫌疑人", actor="d2"))
        assert noting.done_within(WAIT_S), "a command waited for another's road search"
        noting.result()
    finally:
        slow.gate.set()
    sending.result()
    assert dispatched_eta(services, first.id) == exact_eta(
        network, services.dispatch.get_unit("u1").position, first.location
    )
    assert slow.calls == 1  # nothing it was worked from moved: searched once


def test_dispatch_searches_again_when_the_unit_moved_during_its_search(
    make_services: ServicesFactory, network: RoadNetwork, clock: FakeClock
) -> None:
    a, b = road_points(network, 2, seed=22)
    services = make_services([make_unit("u1", *a)])
    incident = services.dispatch.create_incident(robbery_at(*CENTRE), actor="d1")
    slow = slow_searches(services)
    sending = Running(lambda: services.dispatch.dispatch(incident.id, ["u1"], actor="d1"))
    try:
        assert slow.waiting.wait(WAIT_S)
        moving = Running(lambda: move(services, clock, "u1", b))
        assert moving.done_within(WAIT_S), "a position report waited for a dispatch's road search"
        moving.result()
    finally:
        slow.gate.set()
    sending.result()
    moved_to = services.dispatch.get_unit("u1").position
    assert moved_to is not None and (moved_to.lat, moved_to.lon) == pytest.approx(b)
    at_start = Position(a[0], a[1], moved_to.ts, 0.0, 0.0)
    assert exact_eta(network, at_start, incident.location) != exact_eta(network, moved_to, incident.location)
    # The ETA is that of the place the unit was sent from, not of where the first search had it.
    assert dispatched_eta(services, incident.id) == exact_eta(network, moved_to, incident.location)
    assert slow.calls == 2


def test_dispatch_of_a_unit_moving_through_every_search_goes_out_without_an_eta(
    make_services: ServicesFactory, network: RoadNetwork, clock: FakeClock
) -> None:
    a, b = road_points(network, 2, seed=23)
    services = make_services([make_unit("u1", *a)])
    incident = services.dispatch.create_incident(robbery_at(*CENTRE), actor="d1")
    slow = slow_searches(services)
    slow.gate.set()
    places = [b, a] * SEARCH_ATTEMPTS

    def report_elsewhere() -> None:
        moving = Running(lambda: move(services, clock, "u1", places[slow.calls - 1]))
        assert moving.done_within(WAIT_S), "a position report waited for a dispatch's road search"
        moving.result()

    slow.meanwhile = report_elsewhere
    decision = services.dispatch.dispatch(incident.id, ["u1"], actor="d1")
    assert slow.calls == SEARCH_ATTEMPTS  # bounded: then sent without an ETA rather than a stale one
    assert decision.units[0].incident_id == incident.id
    assert dispatched_eta(services, incident.id) is None


def test_escalation_offer_search_holds_up_no_other_command_and_offers_a_unit_still_free(
    make_services: ServicesFactory, network: RoadNetwork, clock: FakeClock
) -> None:
    points = road_points(network, 3, seed=24)
    services = make_services([make_unit(f"u{i}", *p) for i, p in enumerate(points)], ack_timeout_s=30)
    incident = services.dispatch.create_incident(robbery_at(*CENTRE), actor="d1")
    elsewhere = services.dispatch.create_incident(robbery_at(*points[2]), actor="d2")
    services.dispatch.dispatch(incident.id, ["u0"], actor="d1")
    first_choice = services.dispatch.recommend(incident.id, limit=1, exclude=["u0"])[0].unit.id
    clock.advance(31)
    slow = slow_searches(services)
    escalating = Running(services.dispatch.escalate_overdue)
    try:
        assert slow.waiting.wait(WAIT_S)
        # The unit the search is about to offer is sent elsewhere meanwhile.
        taking = Running(lambda: services.dispatch.dispatch(elsewhere.id, [first_choice], actor="d2"))
        assert taking.done_within(WAIT_S), "a command waited for an escalation's road search"
        taking.result()
    finally:
        slow.gate.set()
    assert escalating.result() == 1
    (overdue,) = [
        m for m in services.dispatch.incident_timeline(incident.id) if m.type == EventType.ACK_OVERDUE
    ]
    (now_best,) = services.dispatch.recommend(incident.id, limit=1, exclude=["u0"])
    assert now_best.unit.id != first_choice
    assert overdue.payload["data"]["offer"] == {
        "unit_id": now_best.unit.id,
        "callsign": now_best.unit.callsign,
        "eta_s": round(now_best.eta_s, 1),
    }
