"""A photo stored with an incident, inside the caller's write transaction, with the event that
says so: one way for a dispatcher's upload and a camera's snapshot of a thrown object alike."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Connection

from jingwu.domain.attachments import AttachmentInfo
from jingwu.domain.events import DomainEvent, EventType
from jingwu.service.views import attachment_view
from jingwu.store import attachments


def store_photo(
    conn: Connection,
    now: datetime,
    *,
    attachment_id: str,
    incident_id: str,
    content_type: str,
    data: bytes,
    actor: str,
) -> tuple[AttachmentInfo, DomainEvent]:
    """Insert the photo (already checked to be an image of ``content_type``); its record and
    its ``incident.attachment_added`` event, to commit with the caller's decision."""
    info = AttachmentInfo(
        id=attachment_id,
        incident_id=incident_id,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        created_at=now,
        created_by=actor,
    )
    attachments.insert_attachment(conn, info, data)
    event = DomainEvent(
        EventType.INCIDENT_ATTACHMENT_ADDED,
        now,
        incident_id=incident_id,
        actor=actor,
        data={"attachment": attachment_view(info)},
    )
    return info, event


__all__ = ["store_photo"]
