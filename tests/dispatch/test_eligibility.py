from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest

from jingwu.dispatch.eligibility import PRIMARY_CODE, WhyNot, eligible_mask, is_eligible, why_not
from jingwu.domain.geo import GeoPoint
from jingwu.domain.incident_types import INCIDENT_TYPES, get_incident_type
from jingwu.domain.model import Incident, Position, Unit
from jingwu.domain.status import PRIMARY_OF, IncidentStatus, SourceChannel, UnitKind, UnitStatus

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
KIND_CODES = {str(k): i for i, k in enumerate(UnitKind)}
CAPABILITIES = ("armed", "traffic", "aerial")


def random_units(rng: np.random.Generator, n: int) -> list[Unit]:
    units = []
    for i in range(n):
        caps = frozenset(c for c in CAPABILITIES if rng.random() < 0.4)
        units.append(
            Unit(
                id=f"u{i}",
                callsign=f"U{i}",
                kind=list(UnitKind)[int(rng.integers(len(UnitKind)))],
                station_id="s",
                status=list(UnitStatus)[int(rng.integers(len(UnitStatus)))],
                capabilities=caps,
                position=Position(45.75, 126.63, T0),
            )
        )
    return units


@pytest.mark.parametrize("priority", [1, 2, 3, 4])
def test_vectorised_mask_agrees_with_the_rule_for_every_type(priority: int) -> None:
    rng = np.random.default_rng(priority)
    units = random_units(rng, 400)
    bits = {c: 1 << i for i, c in enumerate(CAPABILITIES)}
    for incident_type in INCIDENT_TYPES.values():
        incident = Incident(
            id="J1",
            type_code=incident_type.code,
            priority=priority,
            location=GeoPoint(45.75, 126.63),
            source=SourceChannel.APP,
            status=IncidentStatus.PENDING,
            created_at=T0,
        )
        mask = eligible_mask(
            primary=np.array([PRIMARY_CODE[PRIMARY_OF[u.status]] for u in units], dtype=np.int8),
            kind=np.array([KIND_CODES[str(u.kind)] for u in units], dtype=np.int8),
            capabilities=np.array([sum(bits[c] for c in u.capabilities) for u in units], dtype=np.int64),
            kind_codes=KIND_CODES,
            capability_bits=bits,
            incident=incident,
            incident_type=incident_type,
        )
        expected = [is_eligible(u, incident, incident_type) for u in units]
        assert mask.tolist() == expected, incident_type.code


def test_capability_no_unit_has_makes_nobody_eligible() -> None:
    incident_type = get_incident_type("crim.firearm.shots")  # needs "armed"
    incident = Incident(
        id="J1",
        type_code=incident_type.code,
        priority=1,
        location=GeoPoint(45.75, 126.63),
        source=SourceChannel.APP,
        status=IncidentStatus.PENDING,
        created_at=T0,
    )
    mask = eligible_mask(
        primary=np.zeros(3, dtype=np.int8),
        kind=np.zeros(3, dtype=np.int8),
        capabilities=np.zeros(3, dtype=np.int64),
        kind_codes=KIND_CODES,
        capability_bits={"traffic": 1},
        incident=incident,
        incident_type=incident_type,
    )
    assert not mask.any()


def _unit(kind: UnitKind, status: UnitStatus, capabilities: frozenset[str] = frozenset()) -> Unit:
    return Unit(
        id="u",
        callsign="U",
        kind=kind,
        station_id="s",
        status=status,
        capabilities=capabilities,
        position=Position(45.75, 126.63, T0),
    )


def _incident(type_code: str, priority: int) -> Incident:
    return Incident(
        id="J1",
        type_code=type_code,
        priority=priority,
        location=GeoPoint(45.75, 126.63),
        source=SourceChannel.APP,
        status=IncidentStatus.PENDING,
        created_at=T0,
    )


@pytest.mark.parametrize(
    ("unit", "type_code", "priority", "reason"),
    [
        (_unit(UnitKind.FOOT, UnitStatus.AVAILABLE), "crim.theft.burglary", 2, WhyNot.KIND_NOT_ALLOWED),
        (_unit(UnitKind.PATROL_CAR, UnitStatus.ON_SCENE), "crim.theft.burglary", 2, WhyNot.NOT_AVAILABLE),
        (_unit(UnitKind.PATROL_CAR, UnitStatus.CLEARED), "crim.theft.vehicle", 3, WhyNot.ROUTINE_CALL),
        (_unit(UnitKind.PATROL_CAR, UnitStatus.CLEARED), "crim.theft.burglary", 2, None),
        (
            _unit(UnitKind.PATROL_CAR, UnitStatus.AVAILABLE),
            "crim.firearm.shots",
            1,
            WhyNot.MISSING_CAPABILITY,
        ),
        (
            _unit(UnitKind.PATROL_CAR, UnitStatus.AVAILABLE, frozenset({"armed"})),
            "crim.firearm.shots",
            1,
            None,
        ),
        (
            replace(_unit(UnitKind.PATROL_CAR, UnitStatus.AVAILABLE), position=None),
            "crim.fraud",
            3,
            WhyNot.NO_POSITION,
        ),
    ],
)
def test_why_not_gives_the_one_rule_that_keeps_a_unit_off_the_list(
    unit: Unit, type_code: str, priority: int, reason: WhyNot | None
) -> None:
    incident = _incident(type_code, priority)
    assert why_not(unit, incident, get_incident_type(type_code)) is reason
    assert is_eligible(unit, incident, get_incident_type(type_code)) is (reason is None)


def test_a_unit_already_on_the_incident_is_not_offered_for_it_again() -> None:
    unit = replace(_unit(UnitKind.PATROL_CAR, UnitStatus.AVAILABLE), incident_id="J1")
    assert (
        why_not(unit, _incident("crim.fraud", 3), get_incident_type("crim.fraud")) is WhyNot.ON_THIS_INCIDENT
    )
