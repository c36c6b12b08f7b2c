from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select

from jingwu.bus import BusMessage
from jingwu.composition import Services
from jingwu.domain.geo import GeoPoint
from jingwu.domain.status import IncidentStatus, SourceChannel, UnitKind, UnitStatus
from jingwu.errors import Conflict, JingwuError, NotFound, OffRoadError, ValidationFailed
from jingwu.routing import RoadNetwork
from jingwu.service.dispatching import NewIncident
from jingwu.store import tables as t
from tests.conftest import FakeClock, ServicesFactory, make_unit

# A real street in central Nangang, and points on roads around it.
CENTRE = (45.7560, 126.6420)


def road_points(network: RoadNetwork, n: int, seed: int) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    return [(p.lat, p.lon) for p in (network.random_road_point(rng) for _ in range(n))]


def store_state(services: Services) -> dict[str, Any]:
    with services.engine.connect() as conn:
        return {
            "incidents": conn.execute(select(func.count()).select_from(t.incidents)).scalar_one(),
            "events": conn.execute(select(func.count()).select_from(t.events)).scalar_one(),
            "assignments": conn.execute(select(func.count()).select_from(t.assignments)).scalar_one(),
            "units": sorted(
                tuple(r) for r in conn.execute(select(t.units.c.id, t.units.c.status, t.units.c.version))
            ),
        }


def robbery_at(lat: float, lon: float, priority: int | None = None) -> NewIncident:
    return NewIncident(
        type_code="crim.robbery",
        location=GeoPoint(lat, lon),
        source=SourceChannel.CALL_110,
        priority=priority,
        address="测试路1号",
    )


def test_create_incident_is_stored_with_station_and_announced(make_services: ServicesFactory) -> None:
    services = make_services()
    seen: list[BusMessage] = []
    services.bus.subscribe(seen.append)
    incident = services.dispatch.create_incident(robbery_at(*CENTRE), actor="dispatcher")
    stored = services.dispatch.get_incident(incident.id)
    assert stored.status is IncidentStatus.PENDING
    assert stored.priority == 1  # the type's default
    assert stored.station_id == "south"
    assert stored.version == 1
    services.bus.close()  # drains the delivery thread
    assert [m.type for m in seen] == ["incident.created"]
    assert seen[0].id is not None and seen[0].payload["data"]["incident"]["id"] == incident.id


@pytest.mark.parametrize(
    ("request_", "error", "code"),
    [
        (
            NewIncident("no.such.type", GeoPoint(*CENTRE), SourceChannel.APP),
            ValidationFailed,
            "unknown_incident_type",
        ),
        (robbery_at(*CENTRE, priority=7), ValidationFailed, "invalid_priority"),
        # In the Songhua west of the highway bridge, 1.1 km from any road (the widest water in the extract).
        (robbery_at(45.7860, 126.5340), OffRoadError, "off_road"),
        # Far outside the city's road network.
        (robbery_at(39.9, 116.4), OffRoadError, "off_road"),
    ],
)
def test_bad_incident_is_refused_and_changes_nothing(
    make_services: ServicesFactory, request_: NewIncident, error: type[JingwuError], code: str
) -> None:
    services = make_services()
    before = store_state(services)
    with pytest.raises(error) as err:
        services.dispatch.create_incident(request_, actor="dispatcher")
    assert err.value.code == code
    assert store_state(services) == before


def test_recommendations_rank_by_road_eta_and_skip_unavailable_units(
    make_services: ServicesFactory, network: RoadNetwork
) -> None:
    points = road_points(network, 12, seed=3)
    units = [make_unit(f"u{i}", lat, lon) for i, (lat, lon) in enumerate(points)]
    units[0] = make_unit("u0", *points[0], status=UnitStatus.OUT_OF_SERVICE)
    units[1] = make_unit("u1", *points[1], kind=UnitKind.DRONE, capabilities=frozenset({"aerial"}))
    services = make_services(units)
    incident = services.dispatch.create_incident(robbery_at(*CENTRE), actor="d")
    recs = services.dispatch.recommend(incident.id, limit=5)
    assert len(recs) == 5
    etas = [r.eta_s for r in recs]
    assert etas == sorted(etas)
    ids = {r.unit.id for r in recs}
    assert "u0" not in ids and "u1" not in ids  # out of service; drones don't answer robberies
    for r in recs:
        assert r.distance_m >= r.straight_line_m * 0.95  # roads are never much shorter than a straight line
        assert r.route is not None and r.route["type"] == "LineString"
    # Exact: every eligible unit not recommended is no faster than the last recommended one.
    target = network.snap(*CENTRE)
    others = [u for u in units[2:] if u.id not in ids]
    for unit in others:
        assert unit.position is not None
        route = network.route(network.snap(unit.position.lat, unit.position.lon, 1000), target)
        assert route is None or route.eta_s >= recs[-1].eta_s - 1e-6


def test_priority_three_incident_does_not_pull_a_conditionally_available_unit(
    make_services: ServicesFactory, network: RoadNetwork
) -> None:
    (a,) = road_points(network, 1, seed=5)
    services = make_services([make_unit("u1", *a, status=UnitStatus.CLEARED)])
    theft = services.dispatch.create_incident(
        NewIncident("crim.theft", GeoPoint(*CENTRE), SourceChannel.APP, priority=3), actor="d"
    )
    urgent = services.dispatch.create_incident(robbery_at(*CENTRE, priority=1), actor="d")
    assert services.dispatch.recommend(theft.id) == []
    assert [r.unit.id for r in services.dispatch.recommend(urgent.id)] == ["u1"]


def test_dispatch_then_crew_progress_is_reflected_in_incident(
    make_services: ServicesFactory, network: RoadNetwork, clock: FakeClock
) -> None:
    (a,) = road_points(network, 1, seed=7)
    services = make_services([make_unit("u1", *a)])
    incident = services.dispatch.create_incident(robbery_at(*CENTRE), actor="d")
    services.dispatch.dispatch(incident.id, ["u1"], actor="dispatcher")
    for status in (UnitStatus.ACKNOWLEDGED, UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE, UnitStatus.CLEARED):
        clock.advance(60)
        services.dispatch.set_unit_status("u1", status, actor="U1")
    stored = services.dispatch.get_incident(incident.id)
    assert stored.status is IncidentStatus.CLEARED
    assert set(stored.stage_times) >= {
        IncidentStatus.PENDING,
        IncidentStatus.DISPATCHED,
        IncidentStatus.ACKNOWLEDGED,
        IncidentStatus.EN_ROUTE,
        IncidentStatus.ON_SCENE,
        IncidentStatus.CLEARED,
    }
    assert services.dispatch.get_unit("u1").status is UnitStatus.CLEARED
    closed = services.dispatch.close_incident(incident.id, disposition="处置完毕", actor="dispatcher")
    assert closed.status is IncidentStatus.CLOSED
    timeline = [m.type for m in services.dispatch.incident_timeline(incident.id)]
    assert timeline[0] == "incident.created" and timeline[-1] == "incident.status_changed"


def test_illegal_unit_transition_is_refused_and_changes_nothing(
    make_services: ServicesFactory, network: RoadNetwork
) -> None:
    (a,) = road_points(network, 1, seed=8)
    services = make_services([make_unit("u1", *a)])
    before = store_state(services)
    with pytest.raises(Conflict) as err:
        services.dispatch.set_unit_status("u1", UnitStatus.ON_SCENE, actor="d")
    assert err.value.code == "illegal_unit_transition"
    assert store_state(services) == before


def test_dispatch_of_unknown_unit_is_refused_and_changes_nothing(make_services: ServicesFactory) -> None:
    services = make_services()
    incident = services.dispatch.create_incident(robbery_at(*CENTRE), actor="d")
    before = store_state(services)
    with pytest.raises(NotFound):
        services.dispatch.dispatch(incident.id, ["nobody"], actor="d")
    assert store_state(services) == before


def test_concurrent_dispatch_of_one_unit_has_exactly_one_winner(
    make_services: ServicesFactory, network: RoadNetwork
) -> None:
    (a,) = road_points(network, 1, seed=9)
    services = make_services([make_unit("u1", *a)])
    first = services.dispatch.create_incident(robbery_at(*CENTRE), actor="d1")
    second = services.dispatch.create_incident(robbery_at(*CENTRE), actor="d2")
    barrier = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def race(incident_id: str, who: str) -> None:
        barrier.wait()
        try:
            services.dispatch.dispatch(incident_id, ["u1"], actor=who)
            result = "won"
        except Conflict as exc:
            result = exc.code
        with lock:
            outcomes.append(result)

    threads = [
        threading.Thread(target=race, args=((first if i % 2 else second).id, f"d{i}")) for i in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("won") == 1, outcomes
    assert all(o in ("won", "unit_not_available", "unit_already_assigned", "stale_unit") for o in outcomes)
    with services.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.assignments)).scalar_one() == 1


def test_unacknowledged_dispatch_escalates_once_and_offers_next_unit(
    make_services: ServicesFactory, network: RoadNetwork, clock: FakeClock
) -> None:
    a, b = road_points(network, 2, seed=11)
    services = make_services([make_unit("u1", *a), make_unit("u2", *b)], ack_timeout_s=30)
    incident = services.dispatch.create_incident(robbery_at(*CENTRE), actor="d")
    services.dispatch.dispatch(incident.id, ["u1"], actor="d")
    clock.advance(29)
    assert services.dispatch.escalate_overdue() == 0
    clock.advance(2)
    assert services.dispatch.escalate_overdue() == 1
    assert services.dispatch.escalate_overdue() == 0  # once, not every sweep
    events = [m for m in services.dispatch.incident_timeline(incident.id) if m.type == "dispatch.ack_overdue"]
    assert len(events) == 1
    assert events[0].payload["unit_id"] == "u1"
    assert events[0].payload["data"]["offer"]["unit_id"] == "u2"


def test_acknowledged_dispatch_does_not_escalate(
    make_services: ServicesFactory, network: RoadNetwork, clock: FakeClock
) -> None:
    (a,) = road_points(network, 1, seed=12)
    services = make_services([make_unit("u1", *a)], ack_timeout_s=30)
    incident = services.dispatch.create_incident(robbery_at(*CENTRE), actor="d")
    services.dispatch.dispatch(incident.id, ["u1"], actor="d")
    clock.advance(10)
    services.dispatch.set_unit_status("u1", UnitStatus.ACKNOWLEDGED, actor="U1")
    clock.advance(60)
    assert services.dispatch.escalate_overdue() == 0


def test_merge_links_duplicate_report(make_services: ServicesFactory) -> None:
    services = make_services()
    first = services.dispatch.create_incident(robbery_at(*CENTRE), actor="d")
    dup = services.dispatch.create_incident(robbery_at(*CENTRE), actor="d")
    merged_into = services.dispatch.merge_incident(dup.id, first.id, actor="d")
    assert merged_into.linked_ids == (dup.id,)
    assert services.dispatch.get_incident(dup.id).status is IncidentStatus.MERGED
    assert [i.id for i in services.dispatch.list_incidents(open_only=True)] == [first.id]


# Across the Songhua: the north-bank unit is nearer as the crow flies, the south-bank one by road.
RIVER_INCIDENT = (45.77744, 126.62002)  # 友谊路, south bank by Stalin Park
NORTH_BANK_UNIT = (45.80023, 126.61084)  # 船厂路, Songbei side
SOUTH_BANK_UNIT = (45.75002, 126.59996)  # 建河二道街, south bank


def test_unit_across_the_river_ranks_below_unit_nearer_by_road(make_services: ServicesFactory) -> None:
    services = make_services(
        [make_unit("north", *NORTH_BANK_UNIT, station="north"), make_unit("south", *SOUTH_BANK_UNIT)]
    )
    incident = services.dispatch.create_incident(robbery_at(*RIVER_INCIDENT), actor="d")
    recs = services.dispatch.recommend(incident.id, limit=2)
    assert [r.unit.id for r in recs] == ["south", "north"]
    south, north = recs
    assert north.straight_line_m < south.straight_line_m  # the map would pick the wrong unit
    assert north.distance_m > 4 * north.straight_line_m  # it has to drive round by a bridge
    assert south.eta_s < north.eta_s / 2


def test_a_drone_is_offered_by_its_air_line_and_not_beyond_its_battery(
    make_services: ServicesFactory, network: RoadNetwork
) -> None:
    from jingwu.dispatch.recommend import DRONE_LAUNCH_S, DRONE_SPEED_MS

    lat, lon = CENTRE
    near = make_unit("d1", lat + 0.018, lon, kind=UnitKind.DRONE, capabilities=frozenset({"aerial"}))  # ~2 km
    far = make_unit("d2", lat - 0.13, lon, kind=UnitKind.DRONE, capabilities=frozenset({"aerial"}))  # ~14 km
    (car,) = road_points(network, 1, seed=8)
    services = make_services([near, far, make_unit("c1", *car)])
    crowd = services.dispatch.create_incident(
        NewIncident("order.mass_disturbance", GeoPoint(lat, lon), SourceChannel.CALL_110), actor="d"
    )
    recs = {r.unit.id: r for r in services.dispatch.recommend(crowd.id, limit=5)}
    assert "d2" not in recs  # there and back (~31 min) with 10 min on scene exceeds its 30 min
    drone = recs["d1"]
    assert drone.distance_m == pytest.approx(drone.straight_line_m)
    assert drone.eta_s == pytest.approx(DRONE_LAUNCH_S + drone.straight_line_m / DRONE_SPEED_MS)
    assert drone.route is not None and len(drone.route["coordinates"]) == 2
    assert "c1" in recs and recs["c1"].distance_m > recs["c1"].straight_line_m * 0.95
