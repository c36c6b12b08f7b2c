"""JSON-ready views of domain records, shared by the API, the live stream and the event log.

Views leave out personal data (the reporter): the live stream goes to every console. A reporter
is read only through service.personal_data, one audited look at a time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jingwu.domain.attachments import AttachmentInfo
from jingwu.domain.model import Incident, Position, Unit
from jingwu.domain.status import PRIMARY_OF, UnitKind, UnitStatus


def position_view(position: Position | None) -> dict[str, Any] | None:
    if position is None:
        return None
    return {
        "lat": round(position.lat, 7),
        "lon": round(position.lon, 7),
        "ts": position.ts.isoformat(),
        "heading": None if position.heading is None else round(position.heading, 1),
        "speed": None if position.speed is None else round(position.speed, 2),
    }


def unit_view(unit: Unit, *, with_position: bool = True) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": unit.id,
        "callsign": unit.callsign,
        "kind": str(unit.kind),
        "station_id": unit.station_id,
        "status": str(unit.status),
        "primary_status": str(PRIMARY_OF[unit.status]),
        "capabilities": sorted(unit.capabilities),
        "incident_id": unit.incident_id,
        "status_changed_at": unit.status_changed_at.isoformat() if unit.status_changed_at else None,
        # Which change this is: another server process keeps the newest it has heard of.
        "version": unit.version,
        "radio_id": unit.radio_id,
        "terminal_id": unit.terminal_id,
        "retired_at": unit.retired_at.isoformat() if unit.retired_at else None,
    }
    if with_position:
        view["position"] = position_view(unit.position)
    return view


def unit_from_view(view: dict[str, Any]) -> Unit:
    """A unit back from its view (another server process's event); the position, if the view
    has one, is read too."""
    changed_at = view.get("status_changed_at")
    return Unit(
        id=str(view["id"]),
        callsign=str(view["callsign"]),
        kind=UnitKind(view["kind"]),
        station_id=str(view["station_id"]),
        status=UnitStatus(view["status"]),
        capabilities=frozenset(view.get("capabilities") or ()),
        incident_id=view.get("incident_id"),
        position=position_from_view(view.get("position")),
        status_changed_at=datetime.fromisoformat(changed_at) if changed_at else None,
        version=int(view["version"]),
        radio_id=view.get("radio_id"),
        terminal_id=view.get("terminal_id"),
        retired_at=datetime.fromisoformat(view["retired_at"]) if view.get("retired_at") else None,
    )


def position_from_view(view: dict[str, Any] | None) -> Position | None:
    if not view:
        return None
    return Position(
        lat=float(view["lat"]),
        lon=float(view["lon"]),
        ts=datetime.fromisoformat(view["ts"]),
        heading=None if view.get("heading") is None else float(view["heading"]),
        speed=None if view.get("speed") is None else float(view["speed"]),
    )


def incident_view(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "type_code": incident.type_code,
        "priority": incident.priority,
        "location": {"lat": incident.location.lat, "lon": incident.location.lon},
        "address": incident.address,
        "description": incident.description,
        "source": str(incident.source),
        "status": str(incident.status),
        "station_id": incident.station_id,
        "created_by": incident.created_by,
        "created_at": incident.created_at.isoformat(),
        "stage_times": {str(k): v.isoformat() for k, v in incident.stage_times.items()},
        "merged_into": incident.merged_into,
        "linked_ids": list(incident.linked_ids),
        "disposition": incident.disposition,
        "version": incident.version,
    }


def attachment_view(info: AttachmentInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "incident_id": info.incident_id,
        "content_type": info.content_type,
        "size": info.size,
        "sha256": info.sha256,
        "created_at": info.created_at.isoformat(),
        "created_by": info.created_by,
    }


__all__ = [
    "attachment_view",
    "incident_view",
    "position_from_view",
    "position_view",
    "unit_from_view",
    "unit_view",
]
