"""Domain events: what happened, in the past tense. Each state change the core makes is one event.

Events are plain data so that the store can persist them, the bus can carry them and the live
stream can replay them; ``data`` holds JSON-ready values only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    INCIDENT_CREATED = "incident.created"
    INCIDENT_STATUS_CHANGED = "incident.status_changed"
    INCIDENT_MERGED = "incident.merged"
    # A correction of the record (type, priority, place, address, description): ``data.changes``
    # holds each changed field's before and after. Reopening a closed incident has its own event.
    INCIDENT_UPDATED = "incident.updated"
    INCIDENT_REOPENED = "incident.reopened"
    INCIDENT_NOTE_ADDED = "incident.note_added"
    BACKUP_REQUESTED = "incident.backup_requested"
    INCIDENT_ATTACHMENT_ADDED = "incident.attachment_added"
    UNIT_DISPATCHED = "unit.dispatched"
    UNIT_STATUS_CHANGED = "unit.status_changed"
    # Administration: ``data.unit`` / ``data.station`` is the record after the change (and
    # ``data.changes`` what changed, before → after); every process reloads what it keeps of it.
    UNIT_CREATED = "unit.created"
    UNIT_UPDATED = "unit.updated"
    UNIT_RETIRED = "unit.retired"
    STATION_CHANGED = "station.changed"
    ACK_OVERDUE = "dispatch.ack_overdue"
    # A community device (domain.devices) heard again, or silent for three heartbeat intervals;
    # ``data.device`` is its record, ``data.alert`` is true where the command room must act.
    DEVICE_ONLINE = "device.online"
    DEVICE_OFFLINE = "device.offline"
    # A patrol check (巡逻盘查) matched a watch list: ``data`` holds the check, the officer, the
    # unit, the position and the entries hit; the command room is alerted at once.
    CHECK_HIT = "check.hit"
    # A dispute (矛盾纠纷) whose risk rose, e.g. because a new call came from its address or parties.
    DISPUTE_ESCALATED = "dispute.escalated"
    # An analyst's early-warning model (大数据建模) matched: ``data`` holds the model, the warning,
    # the stations concerned and the evidence (aggregates and record ids, never a person's data).
    MODEL_WARNING = "model.warning"
    # A case filed for an incident (立案) and its solving (破案): ``data`` holds the case.
    CASE_FILED = "case.filed"
    CASE_SOLVED = "case.solved"
    # A camera's picture became usable or not (domain.cameras.CameraState): ``data.camera`` is its
    # record with the new state; an evidence clip cut from a camera's buffer for an incident.
    CAMERA_STATE = "camera.state"
    CLIP_ATTACHED = "clip.attached"
    # A camera's worker saw an object thrown from a tower (高空抛物): ``data.camera`` is the camera's
    # record (it decides who hears it: camera.read where the camera stands), ``data.throw`` the
    # detection (floor, window column, track, snapshot), ``data.repeat`` whether it was noted on
    # the camera's open incident rather than opening one.
    THROW_DETECTED = "throw.detected"
    # Positions are high-rate and superseded within seconds: carried live, not kept in the log.
    UNIT_POSITIONS = "unit.positions"


@dataclass(frozen=True, slots=True)
class DomainEvent:
    type: EventType
    at: datetime
    incident_id: str | None = None
    unit_id: str | None = None
    actor: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


__all__ = ["DomainEvent", "EventType"]
