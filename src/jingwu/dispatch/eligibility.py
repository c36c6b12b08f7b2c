"""Which units may be recommended for an incident — before any road is looked at."""

from __future__ import annotations

from jingwu.domain.incident_types import IncidentType
from jingwu.domain.model import Incident, Unit
from jingwu.domain.status import PRIMARY_OF, PrimaryUnitStatus

# A conditionally available unit (clearing from a call, on administrative work) is pulled only
# for urgent work: priority 1 and 2. Lower priorities wait for a unit that is truly free.
CONDITIONAL_UNITS_UP_TO_PRIORITY = 2


def is_eligible(unit: Unit, incident: Incident, incident_type: IncidentType) -> bool:
    if unit.position is None or unit.incident_id == incident.id:
        return False
    primary = PRIMARY_OF[unit.status]
    if primary is PrimaryUnitStatus.NOT_AVAILABLE:
        return False
    if (
        primary is PrimaryUnitStatus.CONDITIONALLY_AVAILABLE
        and incident.priority > CONDITIONAL_UNITS_UP_TO_PRIORITY
    ):
        return False
    if str(unit.kind) not in incident_type.allowed_unit_kinds:
        return False
    return incident_type.required_capabilities <= unit.capabilities


__all__ = ["CONDITIONAL_UNITS_UP_TO_PRIORITY", "is_eligible"]
