"""Applications: a resident applies and uploads the documents asked for, the community officer
verifies them on site (a checklist: in order, or missing with a reason), the resident brings what
was missing and re-submits, the station approves (the certificate is issued in the same
transaction) or refuses with a reason.

The applicant's name, ID number and address are sealed at rest; each step is audited in the
transaction that makes it. Who may see which application is the router's business (the owner; the
officers of its station).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from jingwu.domain.identity import parse_id_number
from jingwu.domain.self_service import (
    ApplicationKind,
    ApplicationStatus,
    DocumentCheck,
    Missing,
    check_document,
    check_transition,
    judge_checklist,
    kind_of,
    still_missing,
)
from jingwu.errors import Conflict, NotFound, ValidationFailed
from jingwu.service import audit
from jingwu.service.idempotency import record_claim
from jingwu.service.ids import new_id
from jingwu.store import self_service_tables as st
from jingwu.store.db import read_transaction, write_transaction
from jingwu.store.fieldcrypt import KeyRing

NAME_CONTEXT = "service_applications.applicant_name"
ID_CONTEXT = "service_applications.applicant_id_number"
ADDRESS_CONTEXT = "service_applications.address"
ID_INDEX_KIND = "id_number"


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    id: str
    application_id: str
    document: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class Application:
    id: str
    kind: str
    status: ApplicationStatus
    user_id: str
    station_id: str
    applicant_name: str
    applicant_id_number: str
    address: str
    purpose: str | None
    created_at: datetime
    updated_at: datetime
    version: int
    checklist: tuple[DocumentCheck, ...] = ()
    verified_by: str | None = None
    verified_at: datetime | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    refusal_reason: str | None = None
    documents: tuple[DocumentInfo, ...] = ()
    missing: tuple[Missing, ...] = field(default=())
    certificate_code: str | None = None


@dataclass(frozen=True, slots=True)
class NewApplication:
    kind: str
    applicant_name: str
    applicant_id_number: str
    address: str
    station_id: str
    purpose: str | None = None


@contextmanager
def _command(engine: Engine, now: datetime) -> Iterator[Connection]:
    """A command's write transaction, storing the request's Idempotency-Key in it (the terminal's
    outbox retries a verification until it hears back: it is applied once)."""
    with write_transaction(engine) as conn:
        yield conn
        claim = record_claim(conn, now)
    if claim is not None:
        claim.recorded = True


def _document_info(row: Any) -> DocumentInfo:
    return DocumentInfo(
        id=row.id,
        application_id=row.application_id,
        document=row.document,
        content_type=row.content_type,
        size=int(row.size),
        sha256=row.sha256,
        created_at=row.created_at,
        created_by=row.created_by,
    )


def application_not_found(application_id: str) -> NotFound:
    return NotFound(
        f"no application {application_id!r}", code="application_not_found", application_id=application_id
    )


class Applications:
    def __init__(
        self,
        engine: Engine,
        *,
        keys: KeyRing,
        kinds: Callable[[], Sequence[ApplicationKind]],
        today: Callable[[], date],
        clock: Callable[[], datetime],
        issue_certificate: Callable[[Connection, Application, datetime, str], str | None],
    ) -> None:
        """``issue_certificate(conn, application, now, base_url)``: the certificate's code, written
        in the approval's transaction (service.self_service.certificates)."""
        self.engine = engine
        self.keys = keys
        self.kinds = kinds
        self.today = today
        self.clock = clock
        self.issue_certificate = issue_certificate

    # -- reading

    def _open(self, value: str, context: str) -> str:
        return self.keys.decrypt(value, context=context)

    def _from_row(self, conn: Connection, row: Any) -> Application:
        docs = tuple(
            _document_info(d)
            for d in conn.execute(
                select(*[c for c in st.service_documents.c if c.name != "data"])
                .where(st.service_documents.c.application_id == row.id)
                .order_by(st.service_documents.c.created_at, st.service_documents.c.id)
            )
        )
        checklist = tuple(
            DocumentCheck(str(c["document"]), bool(c["ok"]), c.get("reason")) for c in (row.checklist or [])
        )
        certificate = conn.execute(
            select(st.service_certificates.c.code).where(st.service_certificates.c.application_id == row.id)
        ).scalar()
        status = ApplicationStatus(row.status)
        missing: tuple[Missing, ...] = ()
        kind = next((k for k in self.kinds() if k.code == row.kind), None)
        if kind is not None and status not in (ApplicationStatus.APPROVED, ApplicationStatus.REFUSED):
            flagged = [Missing(c.document, c.reason or "") for c in checklist if not c.ok]
            since = {d.document for d in docs if row.verified_at is None or d.created_at > row.verified_at}
            missing = tuple(still_missing(kind, {d.document for d in docs}, flagged, since))
        return Application(
            id=row.id,
            kind=row.kind,
            status=status,
            user_id=row.user_id,
            station_id=row.station_id,
            applicant_name=self._open(row.applicant_name, NAME_CONTEXT),
            applicant_id_number=self._open(row.applicant_id_number, ID_CONTEXT),
            address=self._open(row.address, ADDRESS_CONTEXT),
            purpose=row.purpose,
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=int(row.version),
            checklist=checklist,
            verified_by=row.verified_by,
            verified_at=row.verified_at,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            refusal_reason=row.refusal_reason,
            documents=docs,
            missing=missing,
            certificate_code=certificate,
        )

    def _row(self, conn: Connection, application_id: str) -> Any:
        row = conn.execute(
            select(st.service_applications).where(st.service_applications.c.id == application_id)
        ).first()
        if row is None:
            raise application_not_found(application_id)
        return row

    def get(self, application_id: str) -> Application:
        with read_transaction(self.engine) as conn:
            return self._from_row(conn, self._row(conn, application_id))

    def find(
        self,
        *,
        user_id: str | None = None,
        station_ids: Collection[str] | None = None,
        statuses: Collection[ApplicationStatus] | None = None,
        limit: int = 200,
    ) -> list[Application]:
        """Newest first: one resident's (``user_id``), or those of stations (None: every one)."""
        a = st.service_applications.c
        query = select(st.service_applications).order_by(a.created_at.desc(), a.id).limit(limit)
        if user_id is not None:
            query = query.where(a.user_id == user_id)
        if station_ids is not None:
            query = query.where(a.station_id.in_(list(station_ids)))
        if statuses is not None:
            query = query.where(a.status.in_([str(s) for s in statuses]))
        with read_transaction(self.engine) as conn:
            return [self._from_row(conn, row) for row in conn.execute(query).all()]

    def document(self, document_id: str) -> tuple[DocumentInfo, bytes]:
        with read_transaction(self.engine) as conn:
            row = conn.execute(
                select(st.service_documents).where(st.service_documents.c.id == document_id)
            ).first()
        if row is None:
            raise NotFound(f"no document {document_id!r}", code="document_not_found", document_id=document_id)
        return _document_info(row), bytes(row.data)

    # -- the resident's commands

    def create(
        self, new: NewApplication, *, user_id: str, actor: str, source: str | None = None
    ) -> Application:
        """A new application, ``submitted``: 422 ``unknown_application_kind``, ``bad_id_*``,
        ``name_required``, ``address_required`` for bad input."""
        kind = kind_of(self.kinds(), new.kind)
        name = " ".join(new.applicant_name.split())
        if not 2 <= len(name) <= 40:
            raise ValidationFailed("the applicant's name (2 to 40 characters)", code="name_required")
        address = " ".join(new.address.split())
        if not 4 <= len(address) <= 200:
            raise ValidationFailed("the address where the applicant lives", code="address_required")
        purpose = " ".join((new.purpose or "").split()) or None
        number = parse_id_number(new.applicant_id_number.strip(), today=self.today()).number
        now = self.clock()
        application_id = new_id("app")
        with _command(self.engine, self.clock()) as conn:
            conn.execute(
                insert(st.service_applications).values(
                    id=application_id,
                    kind=kind.code,
                    status=str(ApplicationStatus.SUBMITTED),
                    user_id=user_id,
                    station_id=new.station_id,
                    applicant_name=self.keys.encrypt(name, context=NAME_CONTEXT),
                    applicant_id_number=self.keys.encrypt(number, context=ID_CONTEXT),
                    id_number_index=self.keys.blind_index(number, kind=ID_INDEX_KIND),
                    address=self.keys.encrypt(address, context=ADDRESS_CONTEXT),
                    purpose=purpose,
                    created_at=now,
                    updated_at=now,
                    version=1,
                )
            )
            self._audit(conn, "service.applied", actor, application_id, now, source, {"kind": kind.code})
            return self._from_row(conn, self._row(conn, application_id))

    def add_document(
        self, application_id: str, document: str, content_type: str | None, data: bytes, *, actor: str
    ) -> DocumentInfo:
        """Store one file of an asked-for document (415 when the bytes are not an image or PDF
        of the declared type, 422 ``unknown_document``, 409 once the documents are closed)."""
        media = check_document(content_type, data)
        now = self.clock()
        with _command(self.engine, self.clock()) as conn:
            row = self._row(conn, application_id)
            check_transition(ApplicationStatus(row.status), "upload")
            kind = kind_of(self.kinds(), row.kind)
            if kind.document(document) is None:
                raise ValidationFailed(
                    f"{kind.code} asks for no {document!r}",
                    code="unknown_document",
                    document=document,
                    asked=[d.code for d in kind.documents],
                )
            info = DocumentInfo(
                id=new_id("doc"),
                application_id=application_id,
                document=document,
                content_type=media,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                created_at=now,
                created_by=actor,
            )
            conn.execute(
                insert(st.service_documents).values(
                    id=info.id,
                    application_id=info.application_id,
                    document=info.document,
                    content_type=info.content_type,
                    size=info.size,
                    sha256=info.sha256,
                    created_at=info.created_at,
                    created_by=info.created_by,
                    data=data,
                )
            )
            conn.execute(
                update(st.service_applications)
                .where(st.service_applications.c.id == application_id)
                .values(updated_at=now)
            )
            return info

    def resubmit(self, application_id: str, *, actor: str, source: str | None = None) -> Application:
        """Back to the officer (``verifying``) once everything flagged was brought again
        (422 ``documents_missing`` with the list otherwise)."""
        with _command(self.engine, self.clock()) as conn:
            row = self._row(conn, application_id)
            check_transition(ApplicationStatus(row.status), "resubmit")
            current = self._from_row(conn, row)
            if current.missing:
                raise ValidationFailed(
                    "bring every missing document first",
                    code="documents_missing",
                    missing=[{"document": m.document, "reason": m.reason} for m in current.missing],
                )
            now = self.clock()
            self._move(conn, row, ApplicationStatus.VERIFYING, now)
            self._audit(conn, "service.resubmitted", actor, application_id, now, source, None)
            return self._from_row(conn, self._row(conn, application_id))

    # -- the police's commands

    def verify(
        self, application_id: str, checks: Sequence[DocumentCheck], *, actor: str, source: str | None = None
    ) -> Application:
        """The officer's on-site verdict: ``verified`` when every document is in order, else
        ``missing_documents`` with the reasons the resident is told."""
        with _command(self.engine, self.clock()) as conn:
            row = self._row(conn, application_id)
            check_transition(ApplicationStatus(row.status), "verify")
            kind = kind_of(self.kinds(), row.kind)
            status, missing = judge_checklist(kind, checks)
            now = self.clock()
            self._move(
                conn,
                row,
                status,
                now,
                checklist=[
                    {"document": c.document, "ok": c.ok, "reason": (c.reason or "").strip() or None}
                    for c in checks
                ],
                verified_by=actor,
                verified_at=now,
            )
            self._audit(
                conn,
                "service.verified",
                actor,
                application_id,
                now,
                source,
                {"status": str(status), "missing": [m.document for m in missing]},
            )
            return self._from_row(conn, self._row(conn, application_id))

    def approve(
        self, application_id: str, *, actor: str, base_url: str = "", source: str | None = None
    ) -> Application:
        with _command(self.engine, self.clock()) as conn:
            row = self._row(conn, application_id)
            check_transition(ApplicationStatus(row.status), "approve")
            now = self.clock()
            self._move(conn, row, ApplicationStatus.APPROVED, now, decided_by=actor, decided_at=now)
            approved = self._from_row(conn, self._row(conn, application_id))
            code = self.issue_certificate(conn, approved, now, base_url)
            self._audit(conn, "service.approved", actor, application_id, now, source, {"certificate": code})
            return self._from_row(conn, self._row(conn, application_id))

    def refuse(
        self, application_id: str, reason: str, *, actor: str, source: str | None = None
    ) -> Application:
        reason = reason.strip()
        if not reason:
            raise ValidationFailed("say why the application is refused", code="reason_required")
        with _command(self.engine, self.clock()) as conn:
            row = self._row(conn, application_id)
            check_transition(ApplicationStatus(row.status), "refuse")
            now = self.clock()
            self._move(
                conn,
                row,
                ApplicationStatus.REFUSED,
                now,
                decided_by=actor,
                decided_at=now,
                refusal_reason=reason,
            )
            self._audit(conn, "service.refused", actor, application_id, now, source, None, reason=reason)
            return self._from_row(conn, self._row(conn, application_id))

    # -- helpers

    def _move(
        self, conn: Connection, row: Any, status: ApplicationStatus, now: datetime, **values: Any
    ) -> None:
        a = st.service_applications.c
        changed = conn.execute(
            update(st.service_applications)
            .where(a.id == row.id, a.version == row.version)
            .values(status=str(status), updated_at=now, version=row.version + 1, **values)
        ).rowcount
        if changed != 1:
            raise Conflict("the application changed meanwhile; reload it", code="stale_application")

    @staticmethod
    def _audit(
        conn: Connection,
        action: str,
        actor: str,
        application_id: str,
        now: datetime,
        source: str | None,
        details: dict[str, Any] | None,
        *,
        reason: str | None = None,
    ) -> None:
        audit.append(
            conn,
            ts=now,
            action=action,
            actor=actor,
            target=application_id,
            source=source,
            reason=reason,
            details=details,
        )


__all__ = ["Application", "Applications", "DocumentInfo", "NewApplication", "application_not_found"]
