"""Corrections to an incident's record, and reopening a closed one, as pure rules.

A call taker's first guess is often wrong: the type turns out to be another, the place is a
street further on. Each correction is one ``incident.updated`` event with every changed field's
before and after, so that the history shows who changed what; reopening is ``incident.reopened``
with its reason. Like :mod:`.rules`, nothing here reads a clock or a database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from typing import Any, Final, Literal

from jingwu.domain.events import DomainEvent, EventType
from jingwu.domain.geo import GeoPoint
from jingwu.domain.incident_types import get_incident_type
from jingwu.domain.model import Incident
from jingwu.domain.rules import Decision, check_incident_transition, validate_priority
from jingwu.domain.status import IncidentStatus
from jingwu.errors import Conflict, ValidationFailed


class _Keep(Enum):
    KEEP = "keep"


#: A field left as it is (``None`` clears an address or a description).
KEEP: Final = _Keep.KEEP
Keep = Literal[_Keep.KEEP]

# A reopening's reason is read by the next dispatcher, and audited: a word or two is not one.
REASON_MIN_CHARS = 2
REASON_MAX_CHARS = 500


@dataclass(frozen=True, slots=True)
class IncidentEdit:
    """What a correction changes; ``KEEP`` leaves a field as it is."""

    type_code: str | Keep = KEEP
    priority: int | Keep = KEEP
    location: GeoPoint | Keep = KEEP
    address: str | Keep | None = KEEP
    description: str | Keep | None = KEEP

    @property
    def moves(self) -> bool:
        return self.location is not KEEP


def _location_view(point: GeoPoint) -> dict[str, float]:
    return {"lat": point.lat, "lon": point.lon}


def check_version(incident: Incident, expected: int | None) -> None:
    """Refuse a change made on an older copy of the record (two editors at once): the caller
    reloads and decides again. ``None``: the caller did not say which copy (no check)."""
    if expected is not None and expected != incident.version:
        raise Conflict(
            f"incident {incident.id} was changed by someone else (version {incident.version}, "
            f"you edited version {expected}); reload and try again",
            code="stale_incident",
            incident_id=incident.id,
            version=incident.version,
            expected_version=expected,
        )


def _blank_to_none(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.strip()
    return text or None


def edit_incident(
    incident: Incident,
    edit: IncidentEdit,
    *,
    now: datetime,
    actor: str | None,
    expected_version: int | None,
    station_id: str | None = None,
    reason: str | None = None,
) -> Decision:
    """Correct the record. ``station_id`` is the station of the new location (the caller derives
    it from the jurisdictions); it is used only when the edit moves the incident. A merged report
    is not edited (its incident is); a change to nothing is no event and no new version."""
    check_version(incident, expected_version)
    if incident.status is IncidentStatus.MERGED:
        raise Conflict(
            f"incident {incident.id} was merged into {incident.merged_into}; edit that one",
            code="incident_merged",
            incident_id=incident.id,
            merged_into=incident.merged_into,
        )
    after: dict[str, Any] = {}
    if edit.type_code is not KEEP:
        after["type_code"] = get_incident_type(edit.type_code).code
    if edit.priority is not KEEP:
        after["priority"] = validate_priority(edit.priority)
    if edit.address is not KEEP:
        after["address"] = _blank_to_none(edit.address)
    if edit.description is not KEEP:
        after["description"] = _blank_to_none(edit.description)
    if edit.location is not KEEP:
        after["location"] = edit.location
        after["station_id"] = station_id
    changed = {name: value for name, value in after.items() if getattr(incident, name) != value}
    if not changed:
        return Decision()
    updated = replace(incident, **changed)
    changes: dict[str, Mapping[str, Any]] = {}
    for name, value in changed.items():
        before = getattr(incident, name)
        if isinstance(value, GeoPoint):
            changes[name] = {"before": _location_view(before), "after": _location_view(value)}
        else:
            changes[name] = {"before": before, "after": value}
    data: dict[str, Any] = {"changes": changes}
    reason = _blank_to_none(reason)
    if reason is not None:
        data["reason"] = reason
    event = DomainEvent(EventType.INCIDENT_UPDATED, now, incident_id=incident.id, actor=actor, data=data)
    return Decision(incidents=(updated,), events=(event,))


def check_reason(reason: str | None) -> str:
    """A reopening's reason, trimmed; refused when missing or too short to say anything."""
    text = _blank_to_none(reason) or ""
    if len(text) < REASON_MIN_CHARS:
        raise ValidationFailed(
            "say why the incident is reopened (the next dispatcher reads it, and it is audited)",
            code="reason_required",
        )
    if len(text) > REASON_MAX_CHARS:
        raise ValidationFailed(
            f"a reason is at most {REASON_MAX_CHARS} characters", code="reason_too_long", length=len(text)
        )
    return text


def reopen_incident(
    incident: Incident, *, now: datetime, actor: str | None, reason: str, expected_version: int | None = None
) -> Decision:
    """Put a closed incident back in the queue as pending. The first response's stage times stay
    (the response-time statistics measure it); clearing and closing are recorded afresh, and the
    old disposition, which the closing's event keeps, no longer stands."""
    text = check_reason(reason)
    check_version(incident, expected_version)
    if incident.status is not IncidentStatus.CLOSED:
        raise Conflict(
            f"incident {incident.id} is {incident.status}; only a closed incident can be reopened",
            code="incident_not_closed",
            incident_id=incident.id,
            status=str(incident.status),
        )
    check_incident_transition(incident, IncidentStatus.PENDING)
    times: dict[IncidentStatus, datetime] = {
        stage: at
        for stage, at in incident.stage_times.items()
        if stage not in (IncidentStatus.CLEARED, IncidentStatus.CLOSED)
    }
    reopened = replace(incident, status=IncidentStatus.PENDING, stage_times=times, disposition=None)
    event = DomainEvent(
        EventType.INCIDENT_REOPENED,
        now,
        incident_id=incident.id,
        actor=actor,
        data={"from": str(incident.status), "to": str(IncidentStatus.PENDING), "reason": text},
    )
    return Decision(incidents=(reopened,), events=(event,))


__all__ = [
    "KEEP",
    "REASON_MAX_CHARS",
    "IncidentEdit",
    "Keep",
    "check_reason",
    "check_version",
    "edit_incident",
    "reopen_incident",
]
