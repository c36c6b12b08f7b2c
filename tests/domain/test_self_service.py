"""The self-service rules: kinds from configuration, the application's transitions, the officer's
checklist, what is still missing, the sign-in and verification codes, the documents' sniffing."""

from __future__ import annotations

import os

import pytest

from jingwu.domain.attachments import UnsupportedMediaType
from jingwu.domain.self_service import (
    DEFAULT_KINDS,
    ApplicationStatus,
    DocumentCheck,
    Missing,
    check_document,
    check_transition,
    is_sign_in_code,
    judge_checklist,
    kind_of,
    parse_kinds,
    parse_verification_code,
    sign_in_code,
    still_missing,
    verification_code,
)
from jingwu.errors import Conflict, ValidationFailed

S = ApplicationStatus
NO_RECORD = kind_of(DEFAULT_KINDS, "no_criminal_record")


def test_the_default_kinds_include_the_residence_permit_and_the_no_record_certificate() -> None:
    permit = kind_of(DEFAULT_KINDS, "residence_permit")
    assert permit.zh == "居住证" and permit.document("id_card") is not None
    assert NO_RECORD.zh == "无犯罪记录证明"
    with pytest.raises(ValidationFailed) as refused:
        kind_of(DEFAULT_KINDS, "passport")
    assert refused.value.code == "unknown_application_kind"


def test_kinds_are_read_from_configuration_and_a_bad_one_is_refused() -> None:
    document = {
        "kinds": [
            {
                "code": "kinship",
                "zh": "亲属关系证明",
                "en": "Certificate of kinship",
                "valid_days": 30,
                "certifies_zh": "{name}",
                "certifies_en": "{name}",
                "documents": [{"code": "id_card", "zh": "身份证", "en": "ID card"}],
            }
        ]
    }
    (kinship,) = parse_kinds(document)
    assert kinship.code == "kinship" and [d.code for d in kinship.documents] == ["id_card"]
    for broken in (
        {},
        {"kinds": []},
        {"kinds": [document["kinds"][0] | {"valid_days": 0}]},
        {"kinds": [document["kinds"][0] | {"code": "Bad Code"}]},
        {"kinds": document["kinds"] * 2},
    ):
        with pytest.raises(ValidationFailed):
            parse_kinds(broken)


@pytest.mark.parametrize(
    ("status", "action", "allowed"),
    [
        (S.SUBMITTED, "verify", True),
        (S.VERIFYING, "verify", True),
        (S.VERIFIED, "verify", False),
        (S.MISSING_DOCUMENTS, "resubmit", True),
        (S.SUBMITTED, "resubmit", False),
        (S.VERIFIED, "approve", True),
        (S.SUBMITTED, "approve", False),
        (S.MISSING_DOCUMENTS, "refuse", True),
        (S.APPROVED, "refuse", False),
        (S.REFUSED, "upload", False),
        (S.VERIFIED, "upload", False),
        (S.MISSING_DOCUMENTS, "upload", True),
    ],
)
def test_the_application_moves_only_along_its_transitions(status: S, action: str, allowed: bool) -> None:
    if allowed:
        check_transition(status, action)
    else:
        with pytest.raises(Conflict) as refused:
            check_transition(status, action)
        assert refused.value.code == "bad_application_status"


def test_a_checklist_all_in_order_verifies_and_one_missing_sends_it_back() -> None:
    ok = [DocumentCheck("id_card", True), DocumentCheck("purpose_letter", True)]
    assert judge_checklist(NO_RECORD, ok) == (S.VERIFIED, [])
    back = [DocumentCheck("id_card", True), DocumentCheck("purpose_letter", False, " 无公章 ")]
    assert judge_checklist(NO_RECORD, back) == (S.MISSING_DOCUMENTS, [Missing("purpose_letter", "无公章")])


def test_what_is_missing_follows_uploads_and_the_officers_flags() -> None:
    assert [m.document for m in still_missing(NO_RECORD, set())] == ["id_card", "purpose_letter"]
    assert still_missing(NO_RECORD, {"id_card", "purpose_letter"}) == []
    flagged = [Missing("id_card", "模糊")]
    assert still_missing(NO_RECORD, {"id_card", "purpose_letter"}, flagged) == flagged
    assert still_missing(NO_RECORD, {"id_card", "purpose_letter"}, flagged, {"id_card"}) == []
    # Flagged and never uploaded: the officer's reason, not "not uploaded".
    assert still_missing(NO_RECORD, {"id_card"}, [Missing("purpose_letter", "未带")]) == [
        Missing("purpose_letter", "未带")
    ]


def test_sign_in_codes_are_six_digits() -> None:
    assert sign_in_code(42) == "000042" and sign_in_code(10**9 + 7) == "000007"
    assert is_sign_in_code("012345")
    assert not any(is_sign_in_code(c) for c in ("12345", "1234567", "12a456", " 123456"))


def test_verification_codes_round_trip_forgive_typing_and_catch_typos() -> None:
    for _ in range(50):
        code = verification_code(os.urandom(16))
        assert len(code) == 2 + 1 + 4 * 6 + 1
        assert parse_verification_code(code) == code
        assert parse_verification_code(code.lower().replace("-", " ")) == code
        body = code[3]
        typo = code[:3] + ("1" if body != "1" else "2") + code[4:]
        assert parse_verification_code(typo) is None
    assert parse_verification_code("JW-0000") is None
    assert parse_verification_code("XX" + verification_code(bytes(16))[2:]) is None
    with pytest.raises(ValueError):
        verification_code(b"short")


def test_documents_must_be_what_they_claim() -> None:
    assert check_document("application/pdf", b"%PDF-1.7 ...") == "application/pdf"
    assert check_document("image/png; x=y", b"\x89PNG\r\n\x1a\n....") == "image/png"
    for content_type, data in (
        ("application/pdf", b"\x89PNG\r\n\x1a\n"),
        ("text/plain", b"hi"),
        ("image/jpeg", b"%PDF-"),
    ):
        with pytest.raises(UnsupportedMediaType):
            check_document(content_type, data)
    with pytest.raises(ValidationFailed):
        check_document("application/pdf", b"")
