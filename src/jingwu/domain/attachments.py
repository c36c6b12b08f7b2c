"""Photo attachments: which image formats are accepted, recognised by their first bytes.

The declared Content-Type must agree with what the bytes are: a file that claims to be a JPEG
but is something else is refused rather than stored and later served as an image.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from jingwu.errors import UserError, ValidationFailed

#: Formats every phone camera and browser produces and every console can show.
ACCEPTED_IMAGE_TYPES: frozenset[str] = frozenset({"image/jpeg", "image/png", "image/webp"})

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SIGNATURE = b"\xff\xd8\xff"


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    """What is known about a stored attachment, without its bytes."""

    id: str
    incident_id: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime
    created_by: str


def sniff_image_type(head: bytes) -> str | None:
    """The image type the leading bytes announce (JPEG, PNG or WebP), or None."""
    if head.startswith(_JPEG_SIGNATURE):
        return "image/jpeg"
    if head.startswith(_PNG_SIGNATURE):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def media_type(content_type: str | None) -> str:
    """``image/JPEG; charset=x`` → ``image/jpeg`` (parameters dropped, case folded)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


class UnsupportedMediaType(UserError):
    http_status = 415
    code = "unsupported_media_type"


class UploadTooLarge(UserError):
    http_status = 413
    code = "upload_too_large"

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"the upload is larger than {limit_bytes} bytes", limit_bytes=limit_bytes)


def accepted_media_type(content_type: str | None) -> str:
    """The declared image type, if it is one we take; checked before a byte of the body is read."""
    declared = media_type(content_type)
    if declared not in ACCEPTED_IMAGE_TYPES:
        raise UnsupportedMediaType(
            f"{declared or 'no Content-Type'} is not accepted; send one of "
            f"{', '.join(sorted(ACCEPTED_IMAGE_TYPES))}",
            declared=declared,
            accepted=sorted(ACCEPTED_IMAGE_TYPES),
        )
    return declared


def check_image(content_type: str | None, data: bytes) -> str:
    """The media type to store ``data`` under: the declared one, when the bytes agree with it."""
    declared = accepted_media_type(content_type)
    if not data:
        raise ValidationFailed("the upload is empty", code="empty_upload")
    sniffed = sniff_image_type(data[:16])
    if sniffed != declared:
        raise UnsupportedMediaType(
            f"the data is not a {declared} image" + (f" (it is {sniffed})" if sniffed else ""),
            declared=declared,
            detected=sniffed,
            accepted=sorted(ACCEPTED_IMAGE_TYPES),
        )
    return declared


__all__ = [
    "ACCEPTED_IMAGE_TYPES",
    "AttachmentInfo",
    "UnsupportedMediaType",
    "UploadTooLarge",
    "accepted_media_type",
    "check_image",
    "media_type",
    "sniff_image_type",
]
