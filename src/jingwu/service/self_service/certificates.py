"""Certificates: the PDF an approval issues, in the bureau's layout, and its public verification.

The PDF is drawn once, at approval, and kept as issued (a later change of a station's name or of
the layout does not rewrite a certificate someone already holds). Chinese text is set in an
embedded subset of a CJK TrueType font (WenQuanYi Zen Hei where installed); without one, the
reader's built-in STSong-Light CID font is named instead and a warning logged (the PDF still reads
on any Chinese-capable reader, but is not self-contained).

Anyone may check a code: the answer is the certificate's standing (valid, expired, revoked,
unknown), its kind, issue date and issuing station: nothing about the person.
"""

from __future__ import annotations

import io
import logging
import secrets
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from functools import cache
from pathlib import Path

import segno
from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import Connection, Engine, insert, select, update

from jingwu.domain.identity import mask_id_number
from jingwu.domain.self_service import (
    ApplicationKind,
    CertificateStanding,
    kind_of,
    parse_verification_code,
    verification_code,
)
from jingwu.errors import Conflict, NotFound, ValidationFailed
from jingwu.service import audit
from jingwu.service.self_service.applications import Application
from jingwu.store import self_service_tables as st
from jingwu.store import tables as t
from jingwu.store.db import read_transaction, write_transaction

log = logging.getLogger(__name__)

# TrueType CJK fonts reportlab can embed (CFF-based OpenType, e.g. Noto CJK .otf/.ttc, it cannot).
CJK_FONT_CANDIDATES: tuple[tuple[Path, int], ...] = (
    (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), 0),
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0),
    (Path("/usr/share/fonts/truetype/arphic/uming.ttc"), 0),
    (Path("/usr/share/fonts/truetype/arphic/ukai.ttc"), 0),
    (Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"), 0),
    (Path("/usr/share/fonts/truetype/noto/NotoSansSC-Regular.ttf"), 0),
)
FALLBACK_FONT = "STSong-Light"
SEAL_RED = Color(0.80, 0.07, 0.07)
DEFAULT_BUREAU = "哈尔滨市公安局"


@cache
def cjk_font(candidates: tuple[tuple[Path, int], ...] = CJK_FONT_CANDIDATES) -> str:
    """The registered name of the first CJK TrueType font found (embedded as a subset), else the
    built-in CID font (a warning: the PDF then relies on the reader's fonts)."""
    for path, index in candidates:
        if path.exists():
            name = f"JingwuCJK-{path.stem}-{index}"
            try:
                pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=index))
            except Exception as exc:  # a damaged or CFF font: try the next one
                log.warning("cannot use the CJK font %s: %s", path, exc)
                continue
            return name
    log.warning(
        "no CJK TrueType font found (tried %s): certificates use %s",
        ", ".join(str(p) for p, _ in candidates),
        FALLBACK_FONT,
    )
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
    return FALLBACK_FONT


@dataclass(frozen=True, slots=True)
class CertificateText:
    """Everything printed on a certificate."""

    code: str
    bureau: str
    station_name: str
    kind: ApplicationKind
    applicant_name: str
    masked_id_number: str
    purpose: str
    issued_on: str  # the bureau's local date, YYYY-MM-DD
    valid_until: str
    verify_url: str


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` characters (CJK text has no spaces to break at)."""
    if any(ord(ch) > 0x2E80 for ch in text):
        return [text[i : i + width] for i in range(0, len(text), width)]
    return textwrap.wrap(text, width * 2)


def render_certificate(text: CertificateText) -> bytes:
    """The certificate as a one-page A4 PDF."""
    font = cjk_font()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"{text.kind.zh} {text.code}")
    canvas.setAuthor(f"{text.bureau} {text.station_name}")
    width, height = A4
    canvas.setStrokeColor(black)
    canvas.setLineWidth(1.5)
    canvas.rect(15 * mm, 15 * mm, width - 30 * mm, height - 30 * mm)
    canvas.setLineWidth(0.5)
    canvas.rect(17 * mm, 17 * mm, width - 34 * mm, height - 34 * mm)

    y = height - 35 * mm
    canvas.setFont(font, 14)
    canvas.drawCentredString(width / 2, y, f"{text.bureau}  {text.station_name}")
    y -= 20 * mm
    canvas.setFont(font, 26)
    canvas.drawCentredString(width / 2, y, text.kind.zh)
    y -= 9 * mm
    canvas.setFont(font, 12)
    canvas.drawCentredString(width / 2, y, text.kind.en)
    y -= 12 * mm
    canvas.setFont(font, 10)
    canvas.drawRightString(width - 25 * mm, y, f"编号 No. {text.code}")

    y -= 15 * mm
    canvas.setFont(font, 12)
    for label, value in (
        ("姓名 Name", text.applicant_name),
        ("公民身份号码 ID number", text.masked_id_number),
    ):
        canvas.drawString(28 * mm, y, f"{label}：{value}")
        y -= 8 * mm
    y -= 6 * mm
    values = {"name": text.applicant_name, "purpose": text.purpose}
    canvas.setFont(font, 13)
    for line in _wrap("    " + text.kind.certifies_zh.format(**values), 34):
        canvas.drawString(28 * mm, y, line)
        y -= 8 * mm
    y -= 3 * mm
    canvas.setFont(font, 10)
    for line in _wrap(text.kind.certifies_en.format(**values), 45):
        canvas.drawString(28 * mm, y, line)
        y -= 5.5 * mm

    y -= 10 * mm
    canvas.setFont(font, 12)
    canvas.drawString(28 * mm, y, f"签发日期 Issued：{text.issued_on}")
    y -= 8 * mm
    canvas.drawString(28 * mm, y, f"有效期至 Valid until：{text.valid_until}")

    _seal(canvas, font, width - 60 * mm, 85 * mm, text.station_name)
    canvas.setFillColor(black)
    canvas.setFont(font, 12)
    canvas.drawRightString(width - 28 * mm, 55 * mm, text.station_name)
    canvas.drawRightString(width - 28 * mm, 48 * mm, text.issued_on)

    _qr(canvas, text.verify_url, 28 * mm, 30 * mm, 32 * mm)
    canvas.setFont(font, 9)
    canvas.drawString(64 * mm, 52 * mm, "扫描二维码或访问以下地址核验本证明 Scan or visit to verify:")
    canvas.drawString(64 * mm, 46 * mm, text.verify_url)
    canvas.drawString(64 * mm, 40 * mm, f"核验码 Code：{text.code}")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _seal(canvas: Canvas, font: str, x: float, y: float, station_name: str) -> None:
    """A seal-like mark: a red ring, a star, the station's name. Not a seal: the code is the proof."""
    canvas.saveState()
    canvas.setStrokeColor(SEAL_RED)
    canvas.setFillColor(SEAL_RED)
    canvas.setLineWidth(2.5)
    canvas.circle(x, y, 22 * mm, stroke=1, fill=0)
    canvas.setFont(font, 22)
    canvas.drawCentredString(x, y - 4 * mm, "★")
    canvas.setFont(font, 8 if len(station_name) > 9 else 10)
    canvas.drawCentredString(x, y + 9 * mm, station_name)
    canvas.setFont(font, 9)
    canvas.drawCentredString(x, y - 13 * mm, "证明专用章")
    canvas.restoreState()


def _qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    matrix = segno.make(data, error="m").matrix
    module = size / len(matrix)
    canvas.saveState()
    canvas.setFillColor(black)
    for row_index, row in enumerate(matrix):
        for col_index, dark in enumerate(row):
            if dark:
                canvas.rect(
                    x + col_index * module,
                    y + size - (row_index + 1) * module,
                    module,
                    module,
                    stroke=0,
                    fill=1,
                )
    canvas.restoreState()


@dataclass(frozen=True, slots=True)
class Standing:
    """What anyone may learn of a code: no name, no number, no address."""

    code: str
    standing: CertificateStanding
    kind: str | None = None
    kind_zh: str | None = None
    kind_en: str | None = None
    issued_on: str | None = None
    valid_until: str | None = None
    station_name: str | None = None


class Certificates:
    def __init__(
        self,
        engine: Engine,
        *,
        kinds: Callable[[], Sequence[ApplicationKind]],
        zone: tzinfo,
        clock: Callable[[], datetime],
        bureau: str = DEFAULT_BUREAU,
        public_url: str = "",
    ) -> None:
        """``public_url``: the server's address as residents reach it, printed and in the QR code
        before ``/service/verify/{code}`` (empty: the address the approving request came in on)."""
        self.engine = engine
        self.kinds = kinds
        self.zone = zone
        self.clock = clock
        self.bureau = bureau
        self.public_url = public_url.rstrip("/")

    def _local_date(self, at: datetime) -> str:
        return at.astimezone(self.zone).date().isoformat()

    def issue(self, conn: Connection, application: Application, now: datetime, base_url: str) -> str:
        """Draw and store the certificate of an approved application, inside the approval's
        transaction; its verification code."""
        kind = kind_of(self.kinds(), application.kind)
        station_name = conn.execute(
            select(t.stations.c.name).where(t.stations.c.id == application.station_id)
        ).scalar_one()
        code = verification_code(secrets.token_bytes(16))
        valid_until = now + timedelta(days=kind.valid_days)
        base = self.public_url or base_url.rstrip("/")
        pdf = render_certificate(
            CertificateText(
                code=code,
                bureau=self.bureau,
                station_name=station_name,
                kind=kind,
                applicant_name=application.applicant_name,
                masked_id_number=mask_id_number(application.applicant_id_number),
                purpose=application.purpose or "—",
                issued_on=self._local_date(now),
                valid_until=self._local_date(valid_until),
                verify_url=f"{base}/service/verify/{code}",
            )
        )
        conn.execute(
            insert(st.service_certificates).values(
                code=code,
                application_id=application.id,
                kind=kind.code,
                station_id=application.station_id,
                issued_at=now,
                valid_until=valid_until,
                pdf=pdf,
            )
        )
        return code

    def pdf(self, application_id: str) -> tuple[str, bytes]:
        """The code and the PDF of an application's certificate (404 ``certificate_not_found``)."""
        c = st.service_certificates.c
        with read_transaction(self.engine) as conn:
            row = conn.execute(select(c.code, c.pdf).where(c.application_id == application_id)).first()
        if row is None:
            raise NotFound(
                "this application has no certificate (yet)",
                code="certificate_not_found",
                application_id=application_id,
            )
        return row.code, bytes(row.pdf)

    def standing(self, text: str) -> Standing:
        """The public answer for a typed or scanned code; a malformed one is simply unknown."""
        code = parse_verification_code(text)
        if code is None:
            return Standing(code=text[:40], standing=CertificateStanding.UNKNOWN)
        c = st.service_certificates.c
        with read_transaction(self.engine) as conn:
            row = conn.execute(
                select(st.service_certificates, t.stations.c.name.label("station_name"))
                .join(t.stations, t.stations.c.id == c.station_id)
                .where(c.code == code)
            ).first()
        if row is None:
            return Standing(code=code, standing=CertificateStanding.UNKNOWN)
        if row.revoked_at is not None:
            standing = CertificateStanding.REVOKED
        elif row.valid_until <= self.clock():
            standing = CertificateStanding.EXPIRED
        else:
            standing = CertificateStanding.VALID
        kind = next((k for k in self.kinds() if k.code == row.kind), None)
        return Standing(
            code=code,
            standing=standing,
            kind=row.kind,
            kind_zh=kind.zh if kind else None,
            kind_en=kind.en if kind else None,
            issued_on=self._local_date(row.issued_at),
            valid_until=self._local_date(row.valid_until),
            station_name=row.station_name,
        )

    def revoke(self, text: str, reason: str, *, actor: str, station_ids: frozenset[str] | None) -> Standing:
        """Revoke a certificate (issued in error, or the person's situation changed): from then on
        its code answers ``revoked``. 404 outside the caller's stations, 409 when already revoked."""
        reason = reason.strip()
        if not reason:
            raise ValidationFailed("say why the certificate is revoked", code="reason_required")
        code = parse_verification_code(text)
        c = st.service_certificates.c
        now = self.clock()
        with write_transaction(self.engine) as conn:
            row = (
                None
                if code is None
                else conn.execute(select(st.service_certificates).where(c.code == code)).first()
            )
            if row is None or (station_ids is not None and row.station_id not in station_ids):
                raise NotFound(f"no certificate {text!r}", code="certificate_not_found")
            if row.revoked_at is not None:
                raise Conflict("the certificate is already revoked", code="certificate_revoked")
            conn.execute(
                update(st.service_certificates)
                .where(c.code == row.code)
                .values(revoked_at=now, revoked_by=actor, revoked_reason=reason)
            )
            audit.append(
                conn,
                ts=now,
                action="service.certificate_revoked",
                actor=actor,
                target=row.application_id,
                reason=reason,
                details={"code": row.code},
            )
        return self.standing(row.code)


__all__ = [
    "CJK_FONT_CANDIDATES",
    "CertificateText",
    "Certificates",
    "Standing",
    "cjk_font",
    "render_certificate",
]
