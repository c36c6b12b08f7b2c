"""Incidents as records: corrections, reopening, ids, and search paged with a cursor, on real
SQLite and PostgreSQL over the real Harbin roads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from jingwu.composition import Services
from jingwu.domain import rules
from jingwu.domain.geo import GeoPoint
from jingwu.domain.incident_edits import IncidentEdit
from jingwu.domain.incident_query import IncidentFilter
from jingwu.domain.model import Incident
from jingwu.domain.status import IncidentStatus, SourceChannel, UnitStatus
from jingwu.errors import Conflict, OffRoadError, ValidationFailed
from jingwu.service.dispatching import DispatchService, NewIncident
from jingwu.store import repository as repo
from jingwu.store.db import write_transaction
from tests.conftest import FakeClock, ServicesFactory, make_unit
from tests.service.test_dispatching import CENTRE, robbery_at, store_state

# A road on the north bank (Songbei), inside the test city's "north" station.
NORTH_BANK = (45.8005, 126.5352)


def _north_bank(services: Services) -> GeoPoint:
    # Snapped to a road, so that the test does not hang on how far a hand-picked point lies.
    p = services.network.snap(*NORTH_BANK, 2000.0)
    return GeoPoint(p.lat, p.lon)


def timeline_types(services: Services, incident_id: str) -> list[str]:
    return [m.type for m in services.dispatch.incident_timeline(incident_id)]


def test_edit_changes_the_record_with_one_event_of_before_and_after(make_services: ServicesFactory) -> None:
    services = make_services()
    incident = services.dispatch.create_incident(robbery_at(*CENTRE), actor="calltaker")
    edited = services.dispatch.records.edit(
        incident.id,
        IncidentEdit(type_code="crim.theft", priority=3, address="保健路12号", description="手机被抢"),
        actor="dispatcher",
        expected_version=incident.version,
        reason="回拨核实",
        source="10.0.0.7",
    )
    assert (edited.type_code, edited.priority, edited.address, edited.description) == (
        "crim.theft",
        3,
        "保健路12号",
        "手机被抢",
    )
    assert edited.version == incident.version + 1
    assert services.dispatch.get_incident(incident.id) == edited
    event = services.dispatch.incident_timeline(incident.id)[-1].payload
    assert event["type"] == "incident.updated" and event["actor"] == "dispatcher"
    assert event["data"]["changes"] == {
        "type_code": {"before": "crim.robbery", "after": "crim.theft"},
        "priority": {"before": 1, "after": 3},
        "address": {"before": "测试路1号", "after": "保健路12号"},
        "description": {"before": None, "after": "手机被抢"},
    }
    assert event["data"]["reason"] == "回拨核实"
    assert event["data"]["incident"]["version"] == edited.version
    audited = services.audit.page(limit=1)[0]
    assert (audited.action, audited.actor, audited.target, audited.source) == (
        "incident.updated",
        "dispatcher",
        f"incident:{incident.id}",
        "10.0.0.7",
    )
    assert audited.details["fields"] == ["address", "description", "priority", "type_code"]


def test_edit_on_an_older_version_changes_nothing(make_services: ServicesFactory) -> None:
    services = make_services()
    incident = services.dispatch.create_incident(robbery_at(*CENTRE), actor="calltaker")
    services.dispatch.records.edit(
        incident.id, IncidentEdit(priority=2), actor="a", expected_version=incident.version
    )
    before = store_state(services)
    with pytest.raises(Conflict) as refused:
        services.dispatch.records.edit(
            incident.id, IncidentEdit(priority=4), actor="b", expected_version=incident.version
        )
    assert refused.value.code == "stale_incident"
    assert refused.value.params["version"] == incident.version + 1
    assert store_state(services) == before
    assert services.dispatch.get_incident(incident.id).priority == 2


def test_edit_moving_the_place_rederives_the_station_and_resnaps(make_services: ServicesFactory) -> None:
    services = make_services([make_unit("n1", *NORTH_BANK, station="north")])
    incident = services.dispatch.create_incident(robbery_at(*CENTRE), actor="calltaker")
    assert incident.station_id == "south"
    place = _north_bank(services)
    moved = services.dispatch.records.edit(
        incident.id, IncidentEdit(location=place), actor="dispatcher", expected_version=incident.version
    )
    assert moved.location == place and moved.station_id == "north"
    changes = services.dispatch.incident_timeline(incident.id)[-1].payload["data"]["changes"]
    assert changes["station_id"] == {"before": "south", "after": "north"}
    assert changes["location"]["after"] == {"lat": place.lat, "lon": place.lon}
    # Recommendations now drive to the new place: the north-bank car is minutes away, not across the river.
    best = services.dispatch.recommend(incident.id, limit=1)[0]
    assert best.unit.id == "n1" and best.eta_s < 300


def test_edit_to_a_place_off_the_roads_is_refused_and_changes_nothing(make_services: ServicesFactory) -> None:
    services = make_services()
    incident = services.dispatch.create_incident(robbery_at(*CENTRE), actor="calltaker")
    before = store_state(services)
    with pytest.raises(OffRoadError):
        # The Songhua west of the highway bridge, 1.1 km from any road.
        services.dispatch.records.edit(
            incident.id,
            IncidentEdit(location=GeoPoint(45.7860, 126.5340), priority=2),
            actor="dispatcher",
            expected_version=incident.version,
        )
    assert store_state(services) == before


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        (IncidentEdit(type_code="no.such.type"), "unknown_incident_type"),
        (IncidentEdit(priority=0), "invalid_priority"),
    ],
)
def test_edit_with_bad_values_is_refused_and_changes_nothing(
    make_services: ServicesFactory, edit: IncidentEdit, code: str
) -> None:
    services = make_services()
    incident = services.dispatch.create_incident(robbery_at(*CENTRE), actor="calltaker")
    before = store_state(services)
    with pytest.raises(ValidationFailed) as refused:
        services.dispatch.records.edit(incident.id, edit, actor="d", expected_version=incident.version)
    assert refused.value.code == code
    assert store_state(services) == before


def test_edit_to_the_same_values_is_no_event_and_no_new_version(make_services: ServicesFactory) -> None:
    services = make_services()
    incident = services.dispatch.create_incident(robbery_at(*CENTRE), actor="calltaker")
    same = services.dispatch.records.edit(
        incident.id,
        IncidentEdit(priority=incident.priority, address="  测试路1号 "),
        actor="d",
        expected_version=incident.version,
    )
    assert same == incident
    assert timeline_types(services, incident.id) == ["incident.created"]


def test_a_merged_report_is_not_edited(make_services: ServicesFactory) -> None:
    services = make_services()
    first = services.dispatch.create_incident(robbery_at(*CENTRE), actor="a")
    repeat = services.dispatch.create_incident(robbery_at(*CENTRE), actor="b")
    merged = services.dispatch.merge_incident(repeat.id, first.id, actor="d")
    stale = services.dispatch.get_incident(repeat.id)
    assert merged.id == first.id
    with pytest.raises(Conflict) as refused:
        services.dispatch.records.edit(
            repeat.id, IncidentEdit(priority=2), actor="d", expected_version=stale.version
        )
    assert refused.value.code == "incident_merged"


def test_reopen_puts_a_closed_incident_back_in_the_queue(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = make_services([make_unit("u1", *CENTRE)])
    incident = services.dispatch.create_incident(robbery_at(*CENTRE), actor="calltaker")
    services.dispatch.dispatch(incident.id, ["u1"], actor="d")
    services.dispatch.set_unit_status("u1", UnitStatus.ON_SCENE, actor="u1")
    clock.advance(600)
    closed = services.dispatch.close_incident(incident.id, disposition="已调解", actor="d")
    clock.advance(3600)
    reopened = services.dispatch.records.reopen(
        incident.id, reason="当事人再次报警", actor="commander", expected_version=closed.version
    )
    assert reopened.status is IncidentStatus.PENDING and reopened.disposition is None
    # The first response's times stay for the statistics; clearing and closing start afresh.
    assert set(reopened.stage_times) == {
        IncidentStatus.PENDING,
        IncidentStatus.DISPATCHED,
        IncidentStatus.ON_SCENE,
    }
    assert reopened.id in {i.id for i in services.dispatch.list_incidents(open_only=True)}
    event = services.dispatch.incident_timeline(incident.id)[-1].payload
    assert (event["type"], event["actor"]) == ("incident.reopened", "commander")
    assert event["data"]["reason"] == "当事人再次报警" and event["data"]["to"] == "pending"
    audited = services.audit.page(limit=1)[0]
    assert (audited.action, audited.reason) == ("incident.reopened", "当事人再次报警")
    # Worked again like any other call: dispatched, and closed at the new time.
    services.dispatch.dispatch(incident.id, ["u1"], actor="d")
    clock.advance(60)
    again = services.dispatch.close_incident(incident.id, disposition="已处理", actor="d")
    assert again.stage_times[IncidentStatus.CLOSED] == clock.now


def test_reopen_is_refused_for_an_open_incident_or_without_a_reason(make_services: ServicesFactory) -> None:
    services = make_services()
    incident = services.dispatch.create_incident(robbery_at(*CENTRE), actor="calltaker")
    with pytest.raises(Conflict) as not_closed:
        services.dispatch.records.reopen(incident.id, reason="再次报警", actor="d")
    assert not_closed.value.code == "incident_not_closed"
    services.dispatch.close_incident(incident.id, disposition=None, actor="d")
    before = store_state(services)
    with pytest.raises(ValidationFailed) as no_reason:
        services.dispatch.records.reopen(incident.id, reason="  ", actor="d")
    assert no_reason.value.code == "reason_required"
    assert store_state(services) == before


# ------------------------------------------------------------------ ids


def test_incident_ids_are_dated_in_the_bureaus_local_day(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = make_services()
    clock.now = datetime(2026, 11, 25, 17, 30, tzinfo=UTC)  # 01:30 on the 26th in Harbin
    incident = services.dispatch.create_incident(robbery_at(*CENTRE), actor="calltaker")
    assert incident.id.startswith("J20261126-")


def test_a_taken_incident_id_is_drawn_again(make_services: ServicesFactory, clock: FakeClock) -> None:
    services = make_services()
    first = services.dispatch.create_incident(robbery_at(*CENTRE), actor="calltaker")
    draws: Iterator[str] = iter([first.id, first.id, "J20261125-FRESH1"])
    dispatch = DispatchService(
        services.engine, services.bus, services.network, clock=clock, incident_ids=lambda _now: next(draws)
    )
    second = dispatch.create_incident(robbery_at(*CENTRE), actor="calltaker")
    assert second.id == "J20261125-FRESH1"
    assert services.dispatch.get_incident(first.id) == first  # untouched
    assert timeline_types(services, second.id) == ["incident.created"]


# ------------------------------------------------------------------ search and paging


def _bulk_incidents(services: Services, n: int, start: datetime, *, per_instant: int = 7) -> list[Incident]:
    """``n`` incidents written straight through the repository (seconds for thousands), several
    to each instant, so that paging must break ties by id."""
    made = []
    with write_transaction(services.engine) as conn:
        for i in range(n):
            decision = rules.open_incident(
                incident_id=f"J20261125-B{i:05d}",
                now=start + timedelta(seconds=i // per_instant),
                type_code="crim.theft" if i % 3 else "crim.robbery",
                priority=1 + i % 4,
                location=GeoPoint(*CENTRE),
                source=SourceChannel.CALL_110,
                address=f"测试路{i}号",
                station_id="south" if i % 2 else "north",
            )
            repo.apply_decision(conn, decision, new_incident_ids=frozenset({decision.incidents[0].id}))
            made.extend(decision.incidents)
    return made


def _walk(services: Services, found: IncidentFilter, limit: int) -> list[Incident]:
    seen: list[Incident] = []
    cursor: str | None = None
    while True:
        page, cursor = services.dispatch.records.page(found, limit=limit, cursor=cursor)
        assert len(page) <= limit
        seen.extend(page)
        if cursor is None:
            return seen


def test_paging_walks_thousands_without_duplicates_or_gaps(make_services: ServicesFactory) -> None:
    services = make_services()
    made = _bulk_incidents(services, 3000, datetime(2026, 11, 24, tzinfo=UTC))
    walked = _walk(services, IncidentFilter(), limit=97)
    assert [i.id for i in walked] == [
        i.id for i in sorted(made, key=lambda i: (i.created_at, i.id), reverse=True)
    ]
    south = _walk(services, IncidentFilter(station_ids=frozenset({"south"}), priorities=frozenset({2})), 50)
    assert sorted(i.id for i in south) == sorted(
        i.id for i in made if i.station_id == "south" and i.priority == 2
    )


def test_a_walk_is_stable_while_incidents_keep_arriving(make_services: ServicesFactory) -> None:
    services = make_services()
    made = _bulk_incidents(services, 400, datetime(2026, 11, 24, tzinfo=UTC))
    first, cursor = services.dispatch.records.page(IncidentFilter(), limit=150)
    arrived = services.dispatch.create_incident(robbery_at(*CENTRE), actor="calltaker")  # newer than all
    rest: list[Incident] = []
    while cursor is not None:
        page, cursor = services.dispatch.records.page(IncidentFilter(), limit=150, cursor=cursor)
        rest.extend(page)
    walked = [i.id for i in first + rest]
    assert len(walked) == len(set(walked)) == len(made)
    assert arrived.id not in walked


def test_search_filters_by_words_type_status_unit_and_time(
    make_services: ServicesFactory, clock: FakeClock
) -> None:
    services = make_services([make_unit("u1", *CENTRE)])
    day = clock.now
    hit = services.dispatch.create_incident(
        NewIncident(
            "crim.robbery",
            GeoPoint(*CENTRE),
            SourceChannel.APP,
            address="红军街 10% 商场",
            description="抢包",
        ),
        actor="a",
    )
    clock.advance(3600)
    services.dispatch.create_incident(
        NewIncident("crim.theft", GeoPoint(*CENTRE), SourceChannel.APP, address="红军街100号"), actor="a"
    )
    services.dispatch.dispatch(hit.id, ["u1"], actor="d")

    def ids(found: IncidentFilter) -> list[str]:
        return [i.id for i in services.dispatch.records.page(found, limit=50)[0]]

    assert ids(IncidentFilter(words=("红军街", "抢包"))) == [hit.id]
    assert ids(IncidentFilter(words=("10%",))) == [hit.id]  # % is a character, not a wildcard
    assert ids(IncidentFilter(type_codes=frozenset({"crim.robbery"}))) == [hit.id]
    assert ids(IncidentFilter(statuses=frozenset({IncidentStatus.DISPATCHED}))) == [hit.id]
    assert ids(IncidentFilter(unit_ids=frozenset({"u1"}))) == [hit.id]
    assert ids(IncidentFilter(created_from=day, created_to=day + timedelta(minutes=30))) == [hit.id]
    assert ids(IncidentFilter(words=("红军街",), station_ids=frozenset({"north"}))) == []
