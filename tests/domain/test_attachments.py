import pytest

from jingwu.domain.attachments import (
    UnsupportedMediaType,
    accepted_media_type,
    check_image,
    media_type,
    sniff_image_type,
)
from jingwu.errors import ValidationFailed

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
GIF = b"GIF89a" + b"\x00" * 32


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (JPEG, "image/jpeg"),
        (PNG, "image/png"),
        (WEBP, "image/webp"),
        (GIF, None),
        (b"RIFF1234WAVE", None),
        (b"", None),
    ],
)
def test_image_type_is_recognised_by_its_leading_bytes(data: bytes, expected: str | None) -> None:
    assert sniff_image_type(data) == expected


def test_media_type_drops_parameters_and_case() -> None:
    assert media_type("Image/JPEG; charset=binary") == "image/jpeg"
    assert media_type(None) == ""


@pytest.mark.parametrize("content_type", ["image/gif", "application/octet-stream", "", None, "text/html"])
def test_only_jpeg_png_and_webp_are_accepted(content_type: str | None) -> None:
    with pytest.raises(UnsupportedMediaType) as err:
        accepted_media_type(content_type)
    assert err.value.http_status == 415 and err.value.code == "unsupported_media_type"


def test_bytes_must_agree_with_the_declared_type() -> None:
    assert check_image("image/png", PNG) == "image/png"
    with pytest.raises(UnsupportedMediaType) as err:
        check_image("image/jpeg", PNG)
    assert err.value.params["detected"] == "image/png"
    with pytest.raises(UnsupportedMediaType):
        check_image("image/webp", GIF)


def test_empty_image_is_a_validation_error() -> None:
    with pytest.raises(ValidationFailed) as err:
        check_image("image/jpeg", b"")
    assert err.value.code == "empty_upload" and err.value.http_status == 422
