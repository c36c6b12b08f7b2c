from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from jingwu.domain import rules
from jingwu.domain.events import EventType
from jingwu.domain.geo import GeoPoint
from jingwu.domain.model import Incident, Unit
from jingwu.domain.status import IncidentStatus, SourceChannel, UnitKind, UnitStatus
from jingwu.errors import Conflict, ValidationFailed

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def make_incident(**overrides: object) -> Incident:
    decision = rules.open_incident(
        incident_id="J1",
        now=T0,
        type_code="crim.robbery",
        priority=1,
        location=GeoPoint(45.75, 126.63),
        source=SourceChannel.CALL_110,
    )
    return replace(decision.incidents[0], **overrides)  # type: ignore[arg-type]


def make_unit(unit_id: str = "u1", **overrides: object) -> Unit:
    unit = Unit(
        id=unit_id,
        callsign=unit_id.upper(),
        kind=UnitKind.PATROL_CAR,
        station_id="s1",
        status=UnitStatus.AVAILABLE,
    )
    return replace(unit, **overrides)  # type: ignore[arg-type]


def test_open_incident_starts_pending_with_created_time() -> None:
    incident = make_incident()
    assert incident.status is IncidentStatus.PENDING
    assert incident.stage_times == {IncidentStatus.PENDING: T0}


@pytest.mark.parametrize("priority", [0, 5, 7, -1, True])
def test_open_incident_with_bad_priority_is_refused(priority: int) -> None:
    with pytest.raises(ValidationFailed) as err:
        rules.open_incident(
            incident_id="J1",
            now=T0,
            type_code="x",
            priority=priority,
            location=GeoPoint(45.7, 126.6),
            source=SourceChannel.APP,
        )
    assert err.value.code == "invalid_priority"


@pytest.mark.parametrize(("lat", "lon"), [(123.0, 126.0), (-91.0, 0.0), (45.0, 181.0), (float("nan"), 0.0)])
def test_geopoint_out_of_range_is_refused(lat: float, lon: float) -> None:
    with pytest.raises(ValidationFailed):
        GeoPoint(lat, lon)


def test_dispatch_moves_incident_and_units_and_sets_ack_deadline() -> None:
    decision = rules.dispatch(make_incident(), [make_unit("u1"), make_unit("u2")], now=T0, ack_timeout_s=30)
    assert [u.status for u in decision.units] == [UnitStatus.DISPATCHED, UnitStatus.DISPATCHED]
    assert all(u.incident_id == "J1" for u in decision.units)
    assert decision.incidents[0].status is IncidentStatus.DISPATCHED
    assert decision.assignments[0].ack_deadline == T0 + timedelta(seconds=30)
    assert [e.type for e in decision.events].count(EventType.UNIT_DISPATCHED) == 2


def test_dispatch_of_a_busy_unit_is_refused() -> None:
    with pytest.raises(Conflict) as err:
        rules.dispatch(
            make_incident(),
            [make_unit(status=UnitStatus.EN_ROUTE, incident_id="J9")],
            now=T0,
            ack_timeout_s=30,
        )
    assert err.value.code == "unit_not_available"


def test_dispatch_to_a_closed_incident_is_refused() -> None:
    with pytest.raises(Conflict) as err:
        rules.dispatch(make_incident(status=IncidentStatus.CLOSED), [make_unit()], now=T0, ack_timeout_s=30)
    assert err.value.code == "incident_not_open"


def test_dispatch_of_no_units_or_a_repeated_unit_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        rules.dispatch(make_incident(), [], now=T0, ack_timeout_s=30)
    with pytest.raises(ValidationFailed):
        rules.dispatch(make_incident(), [make_unit(), make_unit()], now=T0, ack_timeout_s=30)


def test_conditionally_available_unit_may_be_dispatched() -> None:
    decision = rules.dispatch(
        make_incident(), [make_unit(status=UnitStatus.CLEARED)], now=T0, ack_timeout_s=30
    )
    assert decision.units[0].status is UnitStatus.DISPATCHED


def _dispatched() -> tuple[Incident, Unit, rules.Decision]:
    d = rules.dispatch(make_incident(), [make_unit()], now=T0, ack_timeout_s=30)
    return d.incidents[0], d.units[0], d


def test_unit_progress_drives_incident_stages_and_acknowledges() -> None:
    incident, unit, d = _dispatched()
    assignment = d.assignments[0]
    t1 = T0 + timedelta(seconds=5)
    step = rules.change_unit_status(
        unit, UnitStatus.EN_ROUTE, now=t1, incident=incident, assignment=assignment
    )
    assert step.units[0].status is UnitStatus.EN_ROUTE
    assert step.incidents[0].status is IncidentStatus.EN_ROUTE
    assert step.assignments[0].acknowledged_at == t1
    incident, unit = step.incidents[0], step.units[0]
    t2 = t1 + timedelta(minutes=4)
    step = rules.change_unit_status(
        unit, UnitStatus.ON_SCENE, now=t2, incident=incident, assignment=step.assignments[0]
    )
    assert step.incidents[0].stage_times[IncidentStatus.ON_SCENE] == t2
    incident, unit = step.incidents[0], step.units[0]
    step = rules.change_unit_status(
        unit, UnitStatus.CLEARED, now=t2, incident=incident, assignment=assignment
    )
    assert step.units[0].incident_id is None
    assert step.incidents[0].status is IncidentStatus.CLEARED
    assert step.assignments[0].released_at == t2


def test_recalling_the_only_unit_returns_incident_to_pending() -> None:
    incident, unit, d = _dispatched()
    step = rules.change_unit_status(
        unit, UnitStatus.AVAILABLE, now=T0, incident=incident, assignment=d.assignments[0]
    )
    assert step.incidents[0].status is IncidentStatus.PENDING
    assert step.units[0].incident_id is None


def test_recalling_one_of_two_units_keeps_incident_dispatched() -> None:
    d = rules.dispatch(make_incident(), [make_unit("u1"), make_unit("u2")], now=T0, ack_timeout_s=30)
    step = rules.change_unit_status(
        d.units[0],
        UnitStatus.AVAILABLE,
        now=T0,
        incident=d.incidents[0],
        assignment=d.assignments[0],
        other_active_units=[d.units[1]],
    )
    assert step.incidents == ()


@pytest.mark.parametrize(
    ("start", "to"),
    [
        (UnitStatus.AVAILABLE, UnitStatus.ON_SCENE),
        (UnitStatus.ON_SCENE, UnitStatus.AVAILABLE),
        (UnitStatus.OFF_DUTY, UnitStatus.EN_ROUTE),
        (UnitStatus.OUT_OF_SERVICE, UnitStatus.CLEARED),
    ],
)
def test_illegal_unit_transition_is_refused_naming_both_statuses(start: UnitStatus, to: UnitStatus) -> None:
    with pytest.raises(Conflict) as err:
        rules.change_unit_status(make_unit(status=start), to, now=T0, incident=None, assignment=None)
    assert err.value.code == "illegal_unit_transition"
    assert err.value.params["from_status"] == start
    assert err.value.params["to_status"] == to


def test_status_change_cannot_dispatch_a_unit() -> None:
    with pytest.raises(ValidationFailed):
        rules.change_unit_status(make_unit(), UnitStatus.DISPATCHED, now=T0, incident=None, assignment=None)


def test_close_frees_units_on_the_incident() -> None:
    incident, unit, d = _dispatched()
    closed = rules.close_incident(incident, [unit], d.assignments, now=T0, disposition="false alarm")
    assert closed.incidents[0].status is IncidentStatus.CLOSED
    assert closed.incidents[0].disposition == "false alarm"
    assert closed.units[0].status is UnitStatus.AVAILABLE
    assert closed.assignments[0].released_at == T0


def test_closed_incident_cannot_be_closed_again() -> None:
    with pytest.raises(Conflict):
        rules.close_incident(make_incident(status=IncidentStatus.CLOSED), [], [], now=T0, disposition=None)


def test_merge_folds_pending_duplicate_into_target() -> None:
    target = make_incident()
    duplicate = replace(make_incident(), id="J2")
    d = rules.merge_incident(duplicate, target, now=T0)
    assert d.incidents[0].status is IncidentStatus.MERGED
    assert d.incidents[0].merged_into == "J1"
    assert d.incidents[1].linked_ids == ("J2",)


def test_merge_of_a_dispatched_incident_is_refused() -> None:
    incident, _unit, _d = _dispatched()
    with pytest.raises(Conflict):
        rules.merge_incident(incident, replace(make_incident(), id="J3"), now=T0)


def test_unacknowledged_dispatch_escalates_once_after_deadline() -> None:
    _incident, _unit, d = _dispatched()
    assignment = d.assignments[0]
    assert rules.escalate_unacknowledged(assignment, now=T0 + timedelta(seconds=29)).events == ()
    late = rules.escalate_unacknowledged(assignment, now=T0 + timedelta(seconds=31))
    assert [e.type for e in late.events] == [EventType.ACK_OVERDUE]
    assert rules.escalate_unacknowledged(late.assignments[0], now=T0 + timedelta(seconds=60)).events == ()


def test_acknowledged_dispatch_never_escalates() -> None:
    _incident, _unit, d = _dispatched()
    acked = replace(d.assignments[0], acknowledged_at=T0)
    assert rules.escalate_unacknowledged(acked, now=T0 + timedelta(hours=1)).events == ()


def test_recalling_a_backup_from_a_handled_incident_clears_it_not_requeues_it() -> None:
    incident, unit, d = _dispatched()
    on_scene = rules.change_unit_status(
        unit, UnitStatus.ON_SCENE, now=T0, incident=incident, assignment=d.assignments[0]
    )
    cleared = rules.change_unit_status(
        on_scene.units[0],
        UnitStatus.CLEARED,
        now=T0,
        incident=on_scene.incidents[0],
        assignment=on_scene.assignments[0],
    )
    backup = rules.dispatch(cleared.incidents[0], [make_unit("b")], now=T0, ack_timeout_s=30)
    assert backup.incidents[0].status is IncidentStatus.DISPATCHED
    recalled = rules.change_unit_status(
        backup.units[0],
        UnitStatus.AVAILABLE,
        now=T0,
        incident=backup.incidents[0],
        assignment=backup.assignments[0],
    )
    assert recalled.incidents[0].status is IncidentStatus.CLEARED


def test_a_late_report_counts_when_it_happened_within_bounds() -> None:
    now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    before = now - timedelta(minutes=3)
    assert rules.reported_time(None, now=now, not_before=before) == now
    tapped = now - timedelta(seconds=40)
    assert rules.reported_time(tapped, now=now, not_before=before) == tapped
    # A phone a little fast is read as now; a change never predates the unit's previous one.
    assert rules.reported_time(now + timedelta(seconds=30), now=now, not_before=before) == now
    assert rules.reported_time(before - timedelta(seconds=5), now=now, not_before=before) == before
    for bad, code in [
        (now + timedelta(minutes=5), "future_time"),
        (now - timedelta(hours=13), "stale_time"),
        (datetime(2026, 11, 26, 7, 59), "naive_time"),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            rules.reported_time(bad, now=now, not_before=before)
        assert refused.value.code == code
