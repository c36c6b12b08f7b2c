"""Residents' self-service: what a resident may apply for, the documents each kind asks for, the
life of an application, the sign-in code's and the certificate verification code's formats.

Pure: the services pass in the time, the random bytes and what is stored; nothing here reads a
clock or a file. The kinds are configuration (:func:`parse_kinds` reads a JSON document of them);
:data:`DEFAULT_KINDS` is what a bureau gets without one.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from jingwu.domain.attachments import ACCEPTED_IMAGE_TYPES, UnsupportedMediaType, media_type, sniff_image_type
from jingwu.errors import Conflict, ValidationFailed

# ------------------------------------------------------------------------------ kinds and documents


@dataclass(frozen=True, slots=True)
class DocumentKind:
    """A document an application may ask for (身份证, 租赁合同 …), named in both languages."""

    code: str
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class ApplicationKind:
    """What a resident may apply for, the documents it asks for, and what an approval issues:
    a certificate (PDF) valid ``valid_days`` certifying ``certifies_zh`` / ``certifies_en``
    (``{name}`` is the applicant's name, ``{purpose}`` the purpose they gave)."""

    code: str
    zh: str
    en: str
    documents: tuple[DocumentKind, ...]
    valid_days: int
    certifies_zh: str
    certifies_en: str

    def document(self, code: str) -> DocumentKind | None:
        return next((d for d in self.documents if d.code == code), None)


ID_CARD = DocumentKind("id_card", "居民身份证(正反面)", "Resident ID card (both sides)")
PHOTO = DocumentKind("photo", "近期免冠证件照", "Recent passport-style photo")
TENANCY = DocumentKind("tenancy", "租赁合同或房产证明", "Tenancy contract or proof of ownership")
EMPLOYMENT = DocumentKind("employment", "就业或就学证明", "Proof of employment or study")
PURPOSE_LETTER = DocumentKind("purpose_letter", "用途说明(单位或学校出具)", "Letter stating the purpose")
HOUSEHOLD_REGISTER = DocumentKind("household_register", "户口簿(本人页)", "Household register (own page)")

DEFAULT_KINDS: tuple[ApplicationKind, ...] = (
    ApplicationKind(
        "residence_permit",
        "居住证",
        "Residence permit",
        (ID_CARD, PHOTO, TENANCY, EMPLOYMENT),
        365,
        "兹证明{name}在本辖区居住，已按规定办理居住登记，准予申领居住证。",
        "This certifies that {name} lives in this jurisdiction, is registered as a resident, and "
        "may be issued a residence permit.",
    ),
    ApplicationKind(
        "no_criminal_record",
        "无犯罪记录证明",
        "Certificate of no criminal record",
        (ID_CARD, PURPOSE_LETTER),
        90,
        "经查询，{name}在本辖区居住期间未发现有犯罪记录。用途：{purpose}。",
        "On enquiry, no criminal record was found for {name} while resident in this jurisdiction. "
        "Purpose: {purpose}.",
    ),
    ApplicationKind(
        "residence_certificate",
        "居住证明",
        "Certificate of residence",
        (ID_CARD, HOUSEHOLD_REGISTER, TENANCY),
        90,
        "兹证明{name}现居住于本辖区。用途：{purpose}。",
        "This certifies that {name} currently lives in this jurisdiction. Purpose: {purpose}.",
    ),
)

_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def parse_kinds(document: Any) -> tuple[ApplicationKind, ...]:
    """A bureau's kinds from a JSON document: ``{"kinds": [{"code", "zh", "en", "valid_days",
    "certifies_zh", "certifies_en", "documents": [{"code", "zh", "en"}, …]}, …]}``. Refused with
    ``bad_service_kinds`` when malformed, so a typo stops the server rather than a resident."""
    try:
        entries = document["kinds"]
        kinds = tuple(
            ApplicationKind(
                code=str(k["code"]),
                zh=str(k["zh"]),
                en=str(k["en"]),
                documents=tuple(
                    DocumentKind(str(d["code"]), str(d["zh"]), str(d["en"])) for d in k["documents"]
                ),
                valid_days=int(k["valid_days"]),
                certifies_zh=str(k["certifies_zh"]),
                certifies_en=str(k["certifies_en"]),
            )
            for k in entries
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationFailed(
            f"the application kinds are malformed: {exc!r}", code="bad_service_kinds"
        ) from None
    codes = [k.code for k in kinds]
    problems = [c for c in codes if not _CODE.match(c)]
    problems += [d.code for k in kinds for d in k.documents if not _CODE.match(d.code)]
    if not kinds or problems or len(set(codes)) != len(codes) or any(k.valid_days <= 0 for k in kinds):
        raise ValidationFailed(
            "the application kinds need unique snake_case codes and positive valid_days",
            code="bad_service_kinds",
            codes=problems,
        )
    return kinds


def kind_of(kinds: Sequence[ApplicationKind], code: str) -> ApplicationKind:
    """The configured kind ``code`` (422 ``unknown_application_kind`` otherwise)."""
    for kind in kinds:
        if kind.code == code:
            return kind
    raise ValidationFailed(
        f"no application kind {code!r}",
        code="unknown_application_kind",
        kind=code,
        known=[k.code for k in kinds],
    )


# ------------------------------------------------------------------------------ the application


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"  # new, in the community officer's queue
    VERIFYING = "verifying"  # documents re-submitted after a "missing", back in the queue
    VERIFIED = "verified"  # checked on site; waits for the station's approval
    MISSING_DOCUMENTS = "missing_documents"  # the resident is told what, and why
    APPROVED = "approved"  # final; a certificate is issued
    REFUSED = "refused"  # final, with a reason


S = ApplicationStatus
#: What the community officer works on.
AWAITING_VERIFICATION = frozenset({S.SUBMITTED, S.VERIFYING})
FINAL = frozenset({S.APPROVED, S.REFUSED})

_TRANSITIONS: Mapping[str, tuple[frozenset[ApplicationStatus], str]] = {
    "verify": (AWAITING_VERIFICATION, "only an application waiting for verification can be verified"),
    "resubmit": (frozenset({S.MISSING_DOCUMENTS}), "only an application missing documents is re-submitted"),
    "approve": (frozenset({S.VERIFIED}), "only a verified application can be approved"),
    "refuse": (frozenset(ApplicationStatus) - FINAL, "a decided application cannot be refused"),
    "upload": (frozenset(ApplicationStatus) - FINAL - {S.VERIFIED}, "documents are closed once verified"),
}


def check_transition(status: ApplicationStatus, action: str) -> None:
    """Refuse (409 ``bad_application_status``) ``action`` on an application in ``status``."""
    allowed, why = _TRANSITIONS[action]
    if status not in allowed:
        raise Conflict(
            f"{why} (it is {status})",
            code="bad_application_status",
            status=str(status),
            action=action,
            allowed=sorted(str(s) for s in allowed),
        )


@dataclass(frozen=True, slots=True)
class DocumentCheck:
    """The officer's verdict on one asked-for document: present and in order, or missing (or
    not acceptable) with the reason the resident is told."""

    document: str
    ok: bool
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Missing:
    document: str
    reason: str


def judge_checklist(
    kind: ApplicationKind, checks: Sequence[DocumentCheck]
) -> tuple[ApplicationStatus, list[Missing]]:
    """The status a verification leads to and what is missing. Every asked-for document must be
    judged once; a missing one needs a reason (the resident must know what to bring)."""
    asked = [d.code for d in kind.documents]
    judged = [c.document for c in checks]
    unknown = sorted(set(judged) - set(asked))
    if unknown:
        raise ValidationFailed(
            f"{kind.code} asks for no {', '.join(unknown)}", code="unknown_document", documents=unknown
        )
    if sorted(judged) != sorted(asked):
        raise ValidationFailed(
            "judge every document the application asks for, once each",
            code="checklist_incomplete",
            asked=asked,
            judged=judged,
        )
    missing = []
    for c in checks:
        if not c.ok:
            if not (c.reason or "").strip():
                raise ValidationFailed(
                    f"say why {c.document} is missing", code="reason_required", document=c.document
                )
            missing.append(Missing(c.document, (c.reason or "").strip()))
    return (S.MISSING_DOCUMENTS if missing else S.VERIFIED), missing


def still_missing(
    kind: ApplicationKind,
    uploaded: Collection[str],
    flagged: Iterable[Missing] = (),
    uploaded_since_flagged: Collection[str] = (),
) -> list[Missing]:
    """What the resident must still bring: each document the officer flagged that was not
    uploaded again since (with the officer's reason), and each other one never uploaded."""
    flagged_by_document = {m.document: m for m in flagged}
    out = []
    for document in kind.documents:
        mark = flagged_by_document.get(document.code)
        if mark is not None and document.code not in uploaded_since_flagged:
            out.append(mark)
        elif document.code not in uploaded:
            out.append(Missing(document.code, "not_uploaded"))
    return out


# ------------------------------------------------------------------------------ documents' files

ACCEPTED_DOCUMENT_TYPES: frozenset[str] = ACCEPTED_IMAGE_TYPES | {"application/pdf"}


def check_document(content_type: str | None, data: bytes) -> str:
    """The media type to store an uploaded document under: an image or a PDF whose bytes agree
    with the declared type (a file that says PDF but is not one is refused, 415)."""
    declared = media_type(content_type)
    if declared not in ACCEPTED_DOCUMENT_TYPES:
        raise UnsupportedMediaType(
            f"{declared or 'no Content-Type'} is not accepted; send an image (JPEG, PNG, WebP) or a PDF",
            declared=declared,
            accepted=sorted(ACCEPTED_DOCUMENT_TYPES),
        )
    if not data:
        raise ValidationFailed("the upload is empty", code="empty_upload")
    sniffed = "application/pdf" if data.startswith(b"%PDF-") else sniff_image_type(data[:16])
    if sniffed != declared:
        raise UnsupportedMediaType(
            f"the data is not {declared}" + (f" (it is {sniffed})" if sniffed else ""),
            declared=declared,
            detected=sniffed,
            accepted=sorted(ACCEPTED_DOCUMENT_TYPES),
        )
    return declared


# ------------------------------------------------------------------------------ codes

SIGN_IN_CODE_DIGITS = 6
_SIGN_IN_CODE = re.compile(r"^[0-9]{6}$")


def sign_in_code(number: int) -> str:
    """A six-digit code from a random number the caller drew (any non-negative int)."""
    return f"{number % 10**SIGN_IN_CODE_DIGITS:06d}"


def is_sign_in_code(text: str) -> bool:
    return bool(_SIGN_IN_CODE.match(text))


# Crockford's base 32: no I, L, O, U, so that a code read off paper is typed back unambiguously.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
VERIFICATION_BODY = 20  # 100 random bits: guessing one valid code among millions takes ~2^78 tries
VERIFICATION_PREFIX = "JW"


def _check_char(body: str) -> str:
    total = sum((i + 1) * _ALPHABET.index(c) for i, c in enumerate(body))
    return _ALPHABET[total % 32]


def verification_code(entropy: bytes) -> str:
    """A certificate's code from at least 13 random bytes: ``JW-XXXXX-XXXXX-XXXXX-XXXXX-C`` where
    C is a check character (a mistyped code is told apart from a forged one without a lookup)."""
    if len(entropy) < 13:
        raise ValueError("a verification code needs at least 13 random bytes")
    number = int.from_bytes(entropy[:13], "big")
    body = "".join(_ALPHABET[(number >> (5 * i)) & 31] for i in range(VERIFICATION_BODY))
    groups = [body[i : i + 5] for i in range(0, VERIFICATION_BODY, 5)]
    return "-".join([VERIFICATION_PREFIX, *groups, _check_char(body)])


def parse_verification_code(text: str) -> str | None:
    """The canonical code for what someone typed (case, spaces, dashes and O/I/L forgiven), or
    None when it cannot be one (wrong length, letters outside the alphabet, a bad check)."""
    squeezed = re.sub(r"[\s\-]", "", text.upper())
    if not squeezed.startswith(VERIFICATION_PREFIX):
        return None
    rest = squeezed[len(VERIFICATION_PREFIX) :].translate(_READ_AS)
    if len(rest) != VERIFICATION_BODY + 1 or any(c not in _ALPHABET for c in rest):
        return None
    body, check = rest[:-1], rest[-1]
    if _check_char(body) != check:
        return None
    groups = [body[i : i + 5] for i in range(0, VERIFICATION_BODY, 5)]
    return "-".join([VERIFICATION_PREFIX, *groups, check])


class CertificateStanding(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


__all__ = [
    "ACCEPTED_DOCUMENT_TYPES",
    "AWAITING_VERIFICATION",
    "DEFAULT_KINDS",
    "FINAL",
    "ApplicationKind",
    "ApplicationStatus",
    "CertificateStanding",
    "DocumentCheck",
    "DocumentKind",
    "Missing",
    "check_document",
    "check_transition",
    "is_sign_in_code",
    "judge_checklist",
    "kind_of",
    "parse_kinds",
    "parse_verification_code",
    "sign_in_code",
    "still_missing",
    "verification_code",
]
