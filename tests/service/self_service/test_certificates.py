"""The certificate's font: an embedded CJK TrueType subset where one is installed; else the
built-in CID font, with a warning."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from jingwu.service.self_service.certificates import CJK_FONT_CANDIDATES, FALLBACK_FONT, cjk_font


def test_the_installed_wenquanyi_font_is_embedded() -> None:
    if not CJK_FONT_CANDIDATES[0][0].exists():
        pytest.fail("fonts-wqy-zenhei is needed (apt-get install fonts-wqy-zenhei)")
    assert cjk_font().startswith("JingwuCJK-wqy-zenhei")


def test_without_a_cjk_font_the_builtin_cid_font_is_used_and_a_warning_logged(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"not a font")
    with caplog.at_level(logging.WARNING):
        name = cjk_font(((tmp_path / "absent.ttc", 0), (broken, 0)))
    assert name == FALLBACK_FONT
    assert "no CJK TrueType font found" in caplog.text
    assert "broken.ttf" in caplog.text
