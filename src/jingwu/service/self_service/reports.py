"""A resident's non-urgent report (noise, lost property, a tip …) with its place and photos: an
incident like any other, in the one queue, from the resident app channel."""

from __future__ import annotations

from jingwu.domain.attachments import AttachmentInfo
from jingwu.domain.geo import GeoPoint
from jingwu.domain.incident_types import INCIDENT_TYPES, IncidentType, get_incident_type
from jingwu.domain.model import Incident
from jingwu.domain.status import SourceChannel
from jingwu.errors import NotFound, ValidationFailed
from jingwu.service.dispatching import DispatchService, NewIncident

# The least urgent types only: anything urgent is a 110 call, and the portal says so.
NON_URGENT_PRIORITY = 4


def report_types() -> list[IncidentType]:
    return [t for t in INCIDENT_TYPES.values() if t.default_priority >= NON_URGENT_PRIORITY]


class Reports:
    def __init__(self, dispatch: DispatchService) -> None:
        self.dispatch = dispatch

    def report(
        self, type_code: str, location: GeoPoint, *, address: str | None, description: str | None, actor: str
    ) -> Incident:
        """An incident from the app channel (422 ``not_a_non_urgent_type`` for an urgent type)."""
        kind = get_incident_type(type_code)
        if kind.default_priority < NON_URGENT_PRIORITY:
            raise ValidationFailed(
                f"{type_code} is urgent: call 110",
                code="not_a_non_urgent_type",
                type_code=type_code,
                allowed=[t.code for t in report_types()],
            )
        return self.dispatch.create_incident(
            NewIncident(
                type_code=type_code,
                location=location,
                source=SourceChannel.APP,
                address=address,
                description=description,
            ),
            actor=actor,
        )

    def own(self, incident_id: str, username: str) -> Incident:
        """The resident's own report; another's is as good as absent (404)."""
        try:
            incident = self.dispatch.get_incident(incident_id)
        except NotFound:
            incident = None
        if incident is None or incident.created_by != username:
            raise NotFound(f"no report {incident_id!r}", code="report_not_found", incident_id=incident_id)
        return incident

    def mine(self, username: str, *, limit: int = 50) -> list[Incident]:
        return self.dispatch.list_incidents(created_by=username, limit=limit)

    def add_photo(self, incident_id: str, content_type: str, data: bytes, *, username: str) -> AttachmentInfo:
        self.own(incident_id, username)
        return self.dispatch.add_attachment(incident_id, content_type, data, actor=username)


__all__ = ["NON_URGENT_PRIORITY", "Reports", "report_types"]
