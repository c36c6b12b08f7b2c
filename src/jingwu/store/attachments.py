"""Incidents' photos and files: their bytes beside their description (size, hash, who, when)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select

from jingwu.domain.attachments import AttachmentInfo
from jingwu.errors import NotFound
from jingwu.store import tables as t

_ATTACHMENT_INFO = (
    t.attachments.c.id,
    t.attachments.c.incident_id,
    t.attachments.c.content_type,
    t.attachments.c.size,
    t.attachments.c.sha256,
    t.attachments.c.created_at,
    t.attachments.c.created_by,
)


def attachment_from_row(row: Any) -> AttachmentInfo:
    return AttachmentInfo(
        id=row.id,
        incident_id=row.incident_id,
        content_type=row.content_type,
        size=int(row.size),
        sha256=row.sha256,
        created_at=row.created_at,
        created_by=row.created_by,
    )


def insert_attachment(conn: Connection, info: AttachmentInfo, data: bytes) -> None:
    conn.execute(
        insert(t.attachments).values(
            id=info.id,
            incident_id=info.incident_id,
            content_type=info.content_type,
            size=info.size,
            sha256=info.sha256,
            created_at=info.created_at,
            created_by=info.created_by,
            data=data,
        )
    )


def list_attachments(conn: Connection, incident_id: str) -> list[AttachmentInfo]:
    """An incident's attachments, oldest first, without their bytes."""
    query = (
        select(*_ATTACHMENT_INFO)
        .where(t.attachments.c.incident_id == incident_id)
        .order_by(t.attachments.c.created_at, t.attachments.c.id)
    )
    return [attachment_from_row(r) for r in conn.execute(query)]


def get_attachment(conn: Connection, attachment_id: str) -> tuple[AttachmentInfo, bytes]:
    row = conn.execute(select(t.attachments).where(t.attachments.c.id == attachment_id)).first()
    if row is None:
        raise NotFound(
            f"no attachment {attachment_id!r}", code="attachment_not_found", attachment_id=attachment_id
        )
    return attachment_from_row(row), bytes(row.data)


__all__ = ["attachment_from_row", "get_attachment", "insert_attachment", "list_attachments"]
