"""An application's life: apply, documents, on-site verification (missing with reasons, brought
again), approval with its certificate, refusal; and the refusals that change nothing."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from sqlalchemy import select

from jingwu.composition import Services
from jingwu.domain.access import Role
from jingwu.domain.attachments import UnsupportedMediaType
from jingwu.domain.identity import mask_id_number
from jingwu.domain.self_service import ApplicationStatus, CertificateStanding, DocumentCheck
from jingwu.errors import Conflict, ValidationFailed
from jingwu.service.self_service import Application, NewApplication
from jingwu.store import self_service_tables as st
from jingwu.store import tables as t
from jingwu.store.db import read_transaction
from tests.conftest import FakeClock
from tests.service.self_service.conftest import ID_NUMBER

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"0" * 64


@pytest.fixture
def resident(services: Services) -> str:
    services.auth.accounts.create_user("resident", "correct-horse-battery-staple-9", Role.RESIDENT)
    with read_transaction(services.engine) as conn:
        return str(conn.execute(select(t.users.c.id).where(t.users.c.username == "resident")).scalar_one())


@pytest.fixture
def application(services: Services, resident: str) -> Application:
    return services.self_service.applications.create(
        NewApplication(
            kind="no_criminal_record",
            applicant_name="张 小明",
            applicant_id_number=ID_NUMBER,
            address="南岗区保健路 12 号 3 单元 501",
            station_id="south",
            purpose="出国留学",
        ),
        user_id=resident,
        actor="resident",
    )


def test_a_new_application_lists_every_document_as_missing(application: Application) -> None:
    assert application.status is ApplicationStatus.SUBMITTED
    assert application.applicant_name == "张 小明"
    assert [m.document for m in application.missing] == ["id_card", "purpose_letter"]


def test_the_applicant_is_sealed_at_rest(services: Services, application: Application) -> None:
    with read_transaction(services.engine) as conn:
        row = conn.execute(select(st.service_applications)).one()
    assert ID_NUMBER not in repr(row) and "小明" not in repr(row) and "保健路" not in repr(row)


def test_documents_are_sniffed_and_uploads_close_the_gap(
    services: Services, application: Application
) -> None:
    apps = services.self_service.applications
    with pytest.raises(UnsupportedMediaType):
        apps.add_document(application.id, "id_card", "application/pdf", PNG, actor="resident")
    with pytest.raises(UnsupportedMediaType):
        apps.add_document(application.id, "id_card", "text/plain", b"hello", actor="resident")
    with pytest.raises(ValidationFailed) as refused:
        apps.add_document(application.id, "tenancy", "image/png", PNG, actor="resident")
    assert refused.value.code == "unknown_document"
    assert apps.get(application.id).documents == ()
    apps.add_document(application.id, "id_card", "image/png", PNG, actor="resident")
    apps.add_document(application.id, "purpose_letter", "application/pdf", PDF, actor="resident")
    assert apps.get(application.id).missing == ()


def test_a_missing_document_goes_back_to_the_resident_with_its_reason(
    services: Services, application: Application, clock: FakeClock
) -> None:
    apps = services.self_service.applications
    apps.add_document(application.id, "id_card", "image/png", PNG, actor="resident")
    apps.add_document(application.id, "purpose_letter", "image/png", PNG, actor="resident")
    clock.advance(60)
    back = apps.verify(
        application.id,
        [DocumentCheck("id_card", True), DocumentCheck("purpose_letter", False, "未加盖单位公章")],
        actor="community",
    )
    assert back.status is ApplicationStatus.MISSING_DOCUMENTS
    assert [(m.document, m.reason) for m in back.missing] == [("purpose_letter", "未加盖单位公章")]
    with pytest.raises(ValidationFailed) as refused:
        apps.resubmit(application.id, actor="resident")
    assert refused.value.code == "documents_missing"
    clock.advance(60)
    apps.add_document(application.id, "purpose_letter", "application/pdf", PDF, actor="resident")
    again = apps.resubmit(application.id, actor="resident")
    assert again.status is ApplicationStatus.VERIFYING and again.missing == ()


def test_a_checklist_must_judge_every_document_and_give_reasons(
    services: Services, application: Application
) -> None:
    apps = services.self_service.applications
    for checks, code in (
        ([DocumentCheck("id_card", True)], "checklist_incomplete"),
        ([DocumentCheck("id_card", True), DocumentCheck("purpose_letter", False)], "reason_required"),
        ([DocumentCheck("id_card", True), DocumentCheck("photo", True)], "unknown_document"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            apps.verify(application.id, checks, actor="community")
        assert refused.value.code == code
    assert apps.get(application.id).status is ApplicationStatus.SUBMITTED


def test_only_a_verified_application_is_approved_and_its_certificate_verifies(
    services: Services, application: Application
) -> None:
    apps = services.self_service.applications
    with pytest.raises(Conflict):
        apps.approve(application.id, actor="chief")
    apps.verify(
        application.id, [DocumentCheck("id_card", True), DocumentCheck("purpose_letter", True)], actor="c"
    )
    approved = apps.approve(application.id, actor="chief", base_url="http://jingwu.test")
    assert approved.status is ApplicationStatus.APPROVED
    assert approved.certificate_code is not None
    standing = services.self_service.certificates.standing(approved.certificate_code.lower())
    assert standing.standing is CertificateStanding.VALID
    assert standing.station_name == "南岗分局保健路派出所"
    assert standing.kind == "no_criminal_record"
    with pytest.raises(Conflict):
        apps.refuse(application.id, "too late", actor="chief")


def test_a_certificate_pdf_reads_back_in_chinese_with_its_code(
    services: Services, application: Application, tmp_path: object
) -> None:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext (poppler-utils) is needed: apt-get install poppler-utils")
    apps = services.self_service.applications
    apps.verify(
        application.id, [DocumentCheck("id_card", True), DocumentCheck("purpose_letter", True)], actor="c"
    )
    code = apps.approve(application.id, actor="chief", base_url="http://jingwu.test").certificate_code
    got_code, pdf = services.self_service.certificates.pdf(application.id)
    assert got_code == code and pdf.startswith(b"%PDF-")
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout
    page = text.decode()
    for expected in (
        "无犯罪记录证明",
        "南岗分局保健路派出所",
        "张 小明",
        "出国留学",
        str(code),
        "/service/verify/",
    ):
        assert expected in page, expected
    assert ID_NUMBER not in page and mask_id_number(ID_NUMBER) in page


def test_a_refusal_needs_a_reason_and_is_final(services: Services, application: Application) -> None:
    apps = services.self_service.applications
    with pytest.raises(ValidationFailed):
        apps.refuse(application.id, "  ", actor="chief")
    refused = apps.refuse(application.id, "材料不实", actor="chief")
    assert refused.status is ApplicationStatus.REFUSED and refused.refusal_reason == "材料不实"
    with pytest.raises(Conflict):
        apps.add_document(application.id, "id_card", "image/png", PNG, actor="resident")


def test_a_revoked_certificate_says_so(services: Services, application: Application) -> None:
    apps = services.self_service.applications
    apps.verify(
        application.id, [DocumentCheck("id_card", True), DocumentCheck("purpose_letter", True)], actor="c"
    )
    code = apps.approve(application.id, actor="chief").certificate_code or ""
    certs = services.self_service.certificates
    assert (
        certs.revoke(code, "issued in error", actor="chief", station_ids=None).standing
        is CertificateStanding.REVOKED
    )
    assert certs.standing(code).standing is CertificateStanding.REVOKED


@pytest.mark.parametrize("text", ["", "JW-AAAAA", "JW-00000-00000-00000-00000-Z", "anything"])
def test_an_unknown_or_malformed_code_is_unknown(services: Services, text: str) -> None:
    assert services.self_service.certificates.standing(text).standing is CertificateStanding.UNKNOWN


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("kind", "passport", "unknown_application_kind"),
        ("applicant_id_number", "230103199003071234", "bad_id_checksum"),
        ("applicant_name", "张", "name_required"),
        ("address", "", "address_required"),
    ],
)
def test_bad_applications_are_refused_and_store_nothing(
    services: Services, resident: str, field: str, value: str, code: str
) -> None:
    values = {
        "kind": "residence_permit",
        "applicant_name": "李 四",
        "applicant_id_number": ID_NUMBER,
        "address": "南岗区保健路 12 号",
        "station_id": "south",
    } | {field: value}
    with pytest.raises(ValidationFailed) as refused:
        services.self_service.applications.create(
            NewApplication(**values), user_id=resident, actor="resident"
        )
    assert refused.value.code == code
    assert services.self_service.applications.find() == []
