"""Which units may be recommended for an incident — before any road is looked at.

``is_eligible`` states the rule for one unit; ``eligible_mask`` applies the same rule to a whole
roster at once (numpy), which is what keeps a 2,000-unit recommendation in the sub-millisecond
range. A test holds the two to the same answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from jingwu.domain.incident_types import IncidentType
from jingwu.domain.model import Incident, Unit
from jingwu.domain.status import PRIMARY_OF, PrimaryUnitStatus

# A conditionally available unit (clearing from a call, on administrative work) is pulled only
# for urgent work: priority 1 and 2. Lower priorities wait for a unit that is truly free.
CONDITIONAL_UNITS_UP_TO_PRIORITY = 2

# Codes of the primary statuses in a roster's ``primary`` array.
PRIMARY_CODE: dict[PrimaryUnitStatus, int] = {
    PrimaryUnitStatus.AVAILABLE: 0,
    PrimaryUnitStatus.CONDITIONALLY_AVAILABLE: 1,
    PrimaryUnitStatus.NOT_AVAILABLE: 2,
}


class WhyNot(StrEnum):
    """Why a unit is not recommended for an incident, as the dispatcher is told on demand. The
    first six are the unit's own (``why_not``); the rest are found on the road board."""

    NO_POSITION = "no_position"  # never placed: nowhere to route from
    ON_THIS_INCIDENT = "on_this_incident"  # already working it
    NOT_AVAILABLE = "not_available"  # its status: dispatched, on scene, out of service, off duty
    ROUTINE_CALL = "routine_call"  # cleared or busy: pulled only for urgent work (priority 1-2)
    KIND_NOT_ALLOWED = "kind_not_allowed"  # e.g. a foot patrol for a burglary (car or motorcycle)
    MISSING_CAPABILITY = "missing_capability"  # e.g. not armed for shots fired
    OFF_ROAD = "off_road"  # its position is off every road
    UNREACHABLE = "unreachable"  # no road route from it to the scene
    OUTRANKED = "outranked"  # eligible, but the list was full of units that come first


def why_not(unit: Unit, incident: Incident, incident_type: IncidentType) -> WhyNot | None:
    """The first rule that keeps ``unit`` off the incident's list, or None when it may be
    recommended (the rules are checked in this order, so each unit gets one reason)."""
    if unit.position is None:
        return WhyNot.NO_POSITION
    if unit.incident_id == incident.id:
        return WhyNot.ON_THIS_INCIDENT
    primary = PRIMARY_OF[unit.status]
    if primary is PrimaryUnitStatus.NOT_AVAILABLE:
        return WhyNot.NOT_AVAILABLE
    if (
        primary is PrimaryUnitStatus.CONDITIONALLY_AVAILABLE
        and incident.priority > CONDITIONAL_UNITS_UP_TO_PRIORITY
    ):
        return WhyNot.ROUTINE_CALL
    if str(unit.kind) not in incident_type.allowed_unit_kinds:
        return WhyNot.KIND_NOT_ALLOWED
    if not incident_type.required_capabilities <= unit.capabilities:
        return WhyNot.MISSING_CAPABILITY
    return None


def is_eligible(unit: Unit, incident: Incident, incident_type: IncidentType) -> bool:
    return why_not(unit, incident, incident_type) is None


def eligible_mask(
    *,
    primary: NDArray[np.int8],
    kind: NDArray[np.int8],
    capabilities: NDArray[np.int64],
    kind_codes: Mapping[str, int],
    capability_bits: Mapping[str, int],
    incident: Incident,
    incident_type: IncidentType,
) -> NDArray[np.bool_]:
    """``is_eligible`` for every unit of a roster whose statuses, kinds and capabilities are coded
    as arrays (``kind_codes`` / ``capability_bits`` say how). Units on this incident are already
    not available, and the roster holds only units with a position."""
    allowed_primary = PRIMARY_CODE[PrimaryUnitStatus.AVAILABLE]
    if incident.priority <= CONDITIONAL_UNITS_UP_TO_PRIORITY:
        allowed_primary = PRIMARY_CODE[PrimaryUnitStatus.CONDITIONALLY_AVAILABLE]
    mask: NDArray[np.bool_] = primary <= allowed_primary
    kind_allowed = np.zeros(max(kind_codes.values(), default=0) + 1, dtype=np.bool_)
    for k in incident_type.allowed_unit_kinds:
        if k in kind_codes:
            kind_allowed[kind_codes[k]] = True
    mask &= kind_allowed[kind]
    required = 0
    for capability in incident_type.required_capabilities:
        if capability not in capability_bits:
            return np.zeros_like(mask)  # nobody on the roster has it
        required |= capability_bits[capability]
    if required:
        mask &= (capabilities & required) == required
    return mask


__all__ = [
    "CONDITIONAL_UNITS_UP_TO_PRIORITY",
    "PRIMARY_CODE",
    "WhyNot",
    "eligible_mask",
    "is_eligible",
    "why_not",
]
