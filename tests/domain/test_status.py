from jingwu.domain.status import (
    INCIDENT_STAGE_RANK,
    INCIDENT_TRANSITIONS,
    PRIMARY_OF,
    UNIT_TRANSITIONS,
    IncidentStatus,
    UnitStatus,
)


def test_every_unit_status_has_a_transition_row_and_a_primary_status() -> None:
    assert set(UNIT_TRANSITIONS) == set(UnitStatus)
    assert set(PRIMARY_OF) == set(UnitStatus)


def test_every_incident_status_has_a_transition_row_and_a_stage_rank() -> None:
    assert set(INCIDENT_TRANSITIONS) == set(IncidentStatus)
    assert set(INCIDENT_STAGE_RANK) == set(IncidentStatus)


def test_terminal_incident_statuses_have_no_way_out_but_reopening() -> None:
    assert INCIDENT_TRANSITIONS[IncidentStatus.CLOSED] == frozenset({IncidentStatus.PENDING})
    assert INCIDENT_TRANSITIONS[IncidentStatus.MERGED] == frozenset()


def test_transition_tables_name_only_known_statuses_and_never_stay_put() -> None:
    for status, targets in UNIT_TRANSITIONS.items():
        assert status not in targets
        assert targets <= set(UnitStatus)
    for incident_status, incident_targets in INCIDENT_TRANSITIONS.items():
        assert incident_status not in incident_targets
        assert incident_targets <= set(IncidentStatus)
