"""Judging a reported arrival (domain.arrivals) and what the rules do with it and with a crew's
disposition (domain.rules.change_unit_status, close_incident)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from jingwu.domain import rules
from jingwu.domain.arrivals import (
    POSITION_MAX_AGE,
    ArrivalEvidence,
    ArrivalFlag,
    check_arrival,
    is_flagged,
)
from jingwu.domain.geo import GeoPoint, haversine_m
from jingwu.domain.model import Assignment, Position, Unit
from jingwu.domain.status import IncidentStatus, UnitStatus
from jingwu.errors import Conflict, ValidationFailed
from tests.domain.test_rules import make_incident, make_unit

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
SCENE = GeoPoint(45.75, 126.63)
# Where the scene's road passes, 150 m east of a place in a courtyard.
ROAD = GeoPoint(45.75, 126.63193)
RADIUS_M = 200.0


def north_of(point: GeoPoint, metres: float) -> GeoPoint:
    return GeoPoint(point.lat + metres / 111_195.0, point.lon)


def evidence(
    at: GeoPoint | None,
    *,
    fix_age_s: float = 5.0,
    dispatched_s_before: float | None = 600.0,
    eta_s: float | None = 300.0,
    arrival: datetime = T0,
) -> ArrivalEvidence:
    position = None if at is None else Position(at.lat, at.lon, ts=arrival - timedelta(seconds=fix_age_s))
    dispatched = None if dispatched_s_before is None else arrival - timedelta(seconds=dispatched_s_before)
    return ArrivalEvidence(scene=(SCENE, ROAD), position=position, dispatched_at=dispatched, eta_s=eta_s)


def test_a_unit_within_the_radius_of_the_scene_has_arrived_unflagged() -> None:
    check = check_arrival(evidence(north_of(SCENE, 150)), at=T0, radius_m=RADIUS_M)
    assert check.flags == frozenset()
    assert check.distance_m == pytest.approx(150, abs=2)
    assert check.as_data(confirmed=False)["flags"] == []


def test_the_road_that_reaches_the_scene_counts_as_the_scene() -> None:
    by_the_road = north_of(ROAD, 120)  # 190 m from the place itself, 120 m from its road
    assert haversine_m(by_the_road, SCENE) > 180
    check = check_arrival(evidence(by_the_road), at=T0, radius_m=150)
    assert check.flags == frozenset()
    assert check.distance_m == pytest.approx(120, abs=2)


def test_a_unit_611_m_away_is_far_and_the_distance_is_kept() -> None:
    check = check_arrival(evidence(north_of(SCENE, 611)), at=T0, radius_m=RADIUS_M)
    assert check.flags == {ArrivalFlag.FAR}
    assert check.far
    data = check.as_data(confirmed=True)
    assert data["flags"] == ["far"] and data["confirmed"] is True and data["distance_m"] == 611


def test_a_far_arrival_soon_after_the_dispatch_is_also_too_soon() -> None:
    check = check_arrival(
        evidence(north_of(SCENE, 611), dispatched_s_before=20, eta_s=95), at=T0, radius_m=RADIUS_M
    )
    assert check.flags == {ArrivalFlag.FAR, ArrivalFlag.TOO_SOON}
    assert check.since_dispatch_s == 20 and check.eta_s == 95


def test_a_position_at_the_scene_settles_an_arrival_however_soon() -> None:
    check = check_arrival(evidence(SCENE, dispatched_s_before=5, eta_s=300), at=T0, radius_m=RADIUS_M)
    assert check.flags == frozenset()


@pytest.mark.parametrize("age_s", [POSITION_MAX_AGE.total_seconds() + 1, 3600])
def test_an_old_position_says_nothing_an_arrival_is_flagged_no_position(age_s: float) -> None:
    check = check_arrival(evidence(north_of(SCENE, 5000), fix_age_s=age_s), at=T0, radius_m=RADIUS_M)
    assert check.flags == {ArrivalFlag.NO_POSITION}
    assert check.distance_m is None and check.position_age_s == age_s
    assert not check.far  # nothing to confirm: the arrival is accepted, flagged


def test_no_position_and_sooner_than_half_the_road_eta_is_too_soon() -> None:
    soon = check_arrival(evidence(None, dispatched_s_before=140, eta_s=300), at=T0, radius_m=RADIUS_M)
    assert soon.flags == {ArrivalFlag.NO_POSITION, ArrivalFlag.TOO_SOON}
    in_time = check_arrival(evidence(None, dispatched_s_before=160, eta_s=300), at=T0, radius_m=RADIUS_M)
    assert in_time.flags == {ArrivalFlag.NO_POSITION}
    no_eta = check_arrival(evidence(None, dispatched_s_before=2, eta_s=None), at=T0, radius_m=RADIUS_M)
    assert no_eta.flags == {ArrivalFlag.NO_POSITION}


def test_a_fix_newer_than_the_arrival_counts_as_current() -> None:
    check = check_arrival(evidence(SCENE, fix_age_s=-30), at=T0, radius_m=RADIUS_M)
    assert check.flags == frozenset() and check.position_age_s == 0


def test_only_flagged_arrival_data_is_flagged() -> None:
    assert is_flagged({"to": "on_scene", "arrival": {"flags": ["far"]}})
    assert not is_flagged({"to": "on_scene", "arrival": {"flags": []}})
    assert not is_flagged({"to": "on_scene"})  # from before arrivals were judged


# ----------------------------------------------------------------------------- the rules


def en_route() -> tuple[rules.Decision, Assignment]:
    incident = make_incident(status=IncidentStatus.EN_ROUTE, location=SCENE)
    unit = make_unit(status=UnitStatus.EN_ROUTE, incident_id=incident.id)
    assignment = Assignment(incident.id, unit.id, T0 - timedelta(minutes=10), T0)
    return rules.Decision(incidents=(incident,), units=(unit,)), assignment


def arrive(check_at: GeoPoint, *, confirm_far: bool) -> rules.Decision:
    state, assignment = en_route()
    check = check_arrival(evidence(check_at), at=T0, radius_m=RADIUS_M)
    return rules.change_unit_status(
        state.units[0],
        UnitStatus.ON_SCENE,
        now=T0,
        incident=state.incidents[0],
        assignment=assignment,
        arrival=check,
        confirm_far=confirm_far,
    )


def test_a_far_arrival_is_refused_with_its_distance_until_confirmed() -> None:
    with pytest.raises(Conflict) as err:
        arrive(north_of(SCENE, 611), confirm_far=False)
    assert err.value.code == "far_from_scene"
    assert err.value.params["distance_m"] == 611 and err.value.params["radius_m"] == 200

    decision = arrive(north_of(SCENE, 611), confirm_far=True)
    assert decision.units[0].status is UnitStatus.ON_SCENE
    assert decision.incidents[0].status is IncidentStatus.ON_SCENE
    event = decision.events[0]
    assert event.data["arrival"]["flags"] == ["far"] and event.data["arrival"]["confirmed"] is True


def test_an_arrival_at_the_scene_is_kept_with_its_judgement_unflagged() -> None:
    decision = arrive(north_of(SCENE, 30), confirm_far=False)
    arrival = decision.events[0].data["arrival"]
    assert arrival["flags"] == [] and "confirmed" not in arrival
    assert arrival["since_dispatch_s"] == 600.0 and arrival["eta_s"] == 300.0


def on_scene(others: int = 0) -> tuple[rules.Decision, list[Unit]]:
    incident = make_incident(
        status=IncidentStatus.ON_SCENE, stage_times={IncidentStatus.ON_SCENE: T0 - timedelta(minutes=5)}
    )
    unit = make_unit(status=UnitStatus.ON_SCENE, incident_id=incident.id)
    mates = [
        make_unit(f"u{i + 2}", status=UnitStatus.ON_SCENE, incident_id=incident.id) for i in range(others)
    ]
    return rules.Decision(incidents=(incident,), units=(unit,)), mates


@pytest.mark.parametrize("others", [0, 1])
def test_the_crews_disposition_goes_with_clearing_into_the_incident(others: int) -> None:
    state, mates = on_scene(others)
    decision = rules.change_unit_status(
        state.units[0],
        UnitStatus.CLEARED,
        now=T0,
        incident=state.incidents[0],
        assignment=None,
        other_active_units=mates,
        disposition="  已调解，双方和解  ",
    )
    (incident,) = decision.incidents
    assert incident.disposition == "已调解，双方和解"
    # The last crew out clears the incident; with another crew still there it stays on scene.
    assert incident.status is (IncidentStatus.CLEARED if others == 0 else IncidentStatus.ON_SCENE)
    assert decision.events[0].data["disposition"] == "已调解，双方和解"

    closed = rules.close_incident(incident, [], [], now=T0, disposition=None)
    assert closed.incidents[0].disposition == "已调解，双方和解"
    reworded = rules.close_incident(incident, [], [], now=T0, disposition="调解结案")
    assert reworded.incidents[0].disposition == "调解结案"


def test_a_disposition_with_any_other_status_is_refused() -> None:
    state, _ = on_scene()
    unit = replace(state.units[0], status=UnitStatus.EN_ROUTE)
    incident = replace(state.incidents[0], status=IncidentStatus.EN_ROUTE)
    with pytest.raises(ValidationFailed) as err:
        rules.change_unit_status(
            unit, UnitStatus.ON_SCENE, now=T0, incident=incident, assignment=None, disposition="到了"
        )
    assert err.value.code == "disposition_not_expected"
