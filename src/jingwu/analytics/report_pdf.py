"""The printable analytics report: the console's analytics tables and charts on numbered A4 pages.

Every string, chart labels included, is set in one font: the caller's, which should be the embedded
CJK TrueType font the certificates register (``cjk_font()`` in service.self_service.certificates;
analytics may not import the service layer, tests/test_architecture.py), so that the Chinese prints
the same on any reader. The renderer reads only its input (no database, no clock), and the PDF's own
dates are the report's generation time, so one input gives the same bytes."""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from jingwu.analytics import report_charts as charts
from jingwu.analytics import report_model as m
from jingwu.analytics.report_model import AnalyticsReport

log = logging.getLogger(__name__)

BUILTIN_FONT = "STSong-Light"  # a CID font every Chinese-capable PDF reader has
MARGIN = 18 * mm
WIDTH = A4[0] - 2 * MARGIN  # the frame's width
TOP_ROWS = 10  # rows in a CompStat bar chart
HEADING_ROOM = 35 * mm  # the least room left on a page under a heading
SECTION_ROOM = 55 * mm  # under a section's: room for it, a subheading and the start of a table
HEAD_FILL = colors.HexColor("#dde4ee")
TOTAL_FILL = colors.HexColor("#eeeeee")


def render_report_pdf(report: AnalyticsReport, *, font: str | None = None) -> bytes:
    """The report as PDF bytes in ``font``, a registered font's name; without one, in the reader's
    built-in STSong-Light (Chinese shows on a Chinese-capable reader, but nothing is embedded)."""
    writer = _Writer(report, font or _builtin_font())
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + 4 * mm,
        bottomMargin=MARGIN,
        title=report.title,
        author=report.bureau,
        subject=f"{report.scope} · {m.timestamp(report.generated_at)}",
        creator="Jingwu",
        lang="zh-CN" if report.language == "zh" else "en",
        invariant=True,  # fixed document ID; the dates come from generated_at (below)
        initialFontName=writer.font,
    )
    doc.build(
        writer.story(),
        canvasmaker=partial(_NumberedCanvas, decorate=writer.decorate, moment=report.generated_at),
    )
    return buffer.getvalue()


class _NumberedCanvas(Canvas):
    """Holds the pages back to the end so that each can say "page n of N"."""

    def __init__(
        self, *args: Any, decorate: Callable[[Canvas, int, int], None], moment: datetime, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._decorate = decorate
        self._pages: list[dict[str, Any]] = []
        zone = f"{moment:%z}"
        stamp = f"D:{moment:%Y%m%d%H%M%S}" + (f"{zone[:3]}'{zone[3:5]}'" if zone else "")
        self.setDateFormatter(lambda *_: stamp)

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        for number, state in enumerate(self._pages, 1):
            self.__dict__.update(state)
            self._decorate(self, number, len(self._pages))
            super().showPage()
        super().save()


class _Writer:
    """Turns the report's parts into flowables, in its language and font."""

    def __init__(self, report: AnalyticsReport, font: str) -> None:
        self.report, self.font, self.lang = report, font, report.language
        wrap = "CJK" if self.lang == "zh" else None
        base = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=14, wordWrap=wrap)
        self.body = base
        self.small = ParagraphStyle(
            "small", base, fontSize=8, leading=11, textColor=colors.HexColor("#444444")
        )
        self.cell = ParagraphStyle("cell", base, fontSize=8.5, leading=11)
        self.number = ParagraphStyle("number", self.cell, alignment=TA_RIGHT)
        self.title = ParagraphStyle("title", base, fontSize=20, leading=28, spaceAfter=4 * mm)
        self.h1 = ParagraphStyle("h1", base, fontSize=14, leading=20, spaceBefore=5 * mm, spaceAfter=2 * mm)
        self.h1.textColor = charts.DARK
        self.h2 = ParagraphStyle("h2", base, fontSize=11, leading=15, spaceBefore=3 * mm, spaceAfter=1.5 * mm)

    def text(self, key: str, **values: Any) -> str:
        return m.label(self.lang, key, **values)

    def para(self, text: str, style: ParagraphStyle | None = None) -> Paragraph:
        return Paragraph(escape(text), style or self.body)

    def cell_of(self, value: Any, style: ParagraphStyle) -> Flowable:
        return value if isinstance(value, Flowable) else Paragraph(escape(str(value)), style)

    def heading(self, text: str, style: ParagraphStyle) -> list[Flowable]:
        """A heading that starts a new page rather than sit alone at the foot of one (a keep-with-next
        would carry a long table along whole, where it should flow)."""
        room = SECTION_ROOM if style is self.h1 else HEADING_ROOM
        return [CondPageBreak(room), self.para(text, style)]

    def story(self) -> list[Flowable]:
        report, colon = self.report, "：" if self.lang == "zh" else ": "
        out: list[Flowable] = [self.para(report.title, self.title)]
        for key, value in (
            ("bureau", report.bureau),
            ("scope", report.scope),
            ("generated", m.timestamp(report.generated_at)),
        ):
            out.append(self.para(f"{self.text(key)}{colon}{value}"))
        if report.is_empty:
            return [*out, Spacer(1, 8 * mm), self.para(self.text("empty"))]
        if report.compstat:
            out += self.heading(self.text("compstat"), self.h1)
            for table in report.compstat:
                out += self.compstat(table)
        if report.response_times:
            out += self.response_times(report.response_times)
        if report.hotspot_forecast or report.hotspot_cells or report.hotspot_scores:
            out += self.hotspots()
        return out

    def decorate(self, canvas: Canvas, page: int, pages: int) -> None:
        """The running header (after the first page, which has the title block) and the page number."""
        width, height = A4
        canvas.saveState()
        canvas.setFont(self.font, 8)
        canvas.setFillColor(colors.HexColor("#555555"))
        if page > 1:
            top = height - MARGIN + 2 * mm
            canvas.drawString(MARGIN, top, f"{self.report.title} · {self.report.scope}")
            canvas.drawRightString(
                width - MARGIN, top, f"{self.report.bureau} · {m.timestamp(self.report.generated_at)}"
            )
            canvas.setStrokeColor(charts.RULE)
            canvas.setLineWidth(0.4)
            canvas.line(MARGIN, top - 1.5 * mm, width - MARGIN, top - 1.5 * mm)
        canvas.drawCentredString(width / 2, MARGIN - 8 * mm, self.text("page", page=page, pages=pages))
        canvas.restoreState()

    # -- tables ------------------------------------------------------------------------------------

    def table(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[Any]],
        widths: Sequence[float],
        *,
        total: bool = False,
    ) -> Table:
        """A ruled table that repeats its header on each page it flows onto; numbers right-aligned."""
        data = [[Paragraph(escape(h), self.cell) for h in header]]
        data += [
            [self.cell_of(c, self.cell if i == 0 else self.number) for i, c in enumerate(r)] for r in rows
        ]
        style = [
            ("FONTNAME", (0, 0), (-1, -1), self.font),
            ("FONTSIZE", (0, 0), (-1, -1), 8.5),
            ("BACKGROUND", (0, 0), (-1, 0), HEAD_FILL),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("GRID", (0, 0), (-1, -1), 0.25, charts.RULE),
        ]
        if total:
            style += [
                ("BACKGROUND", (0, -1), (-1, -1), TOTAL_FILL),
                ("LINEABOVE", (0, -1), (-1, -1), 0.8, charts.DARK),
            ]
        return Table(data, colWidths=list(widths), repeatRows=1, style=TableStyle(style), hAlign="LEFT")

    def compstat(self, data: Mapping[str, Any]) -> list[Flowable]:
        """One CompStat table: filed, solved when the records know, the caveats and the top rows' chart."""
        by, period, previous = (
            data.get("by", "category"),
            data.get("period", ""),
            data.get("previous_period", ""),
        )
        header = [
            m.name(self.lang, by).capitalize(),
            self.text("current", period=period),
            self.text("previous", period=previous),
            self.text("change"),
        ]
        widths = [WIDTH - 3 * 32 * mm, 32 * mm, 32 * mm, 32 * mm]
        heading = {"by": m.name(self.lang, by), "period": period, "previous": previous}
        out: list[Flowable] = []
        # Every record by its time (警情, basis "records") or the cases filed (立案, basis "cases"):
        # a table of incidents must not be printed as one of cases.
        incidents = data.get("basis") == "records"
        counted = [("records_table" if incidents else "compstat_table", data)]
        if data.get("solved"):
            counted.append(("solved_table", data["solved"]))
        for key, part in counted:
            rows = [
                [r.get(by, ""), m.count(r["current"]), m.count(r["previous"]), m.change(r.get("change_pct"))]
                for r in part.get("rows", [])
            ]
            totals = part.get("total") or {}
            rows.append(
                [
                    self.text("total"),
                    m.count(totals.get("current")),
                    m.count(totals.get("previous")),
                    m.change(totals.get("change_pct")),
                ]
            )
            out += [
                *self.heading(self.text(key, **heading), self.h2),
                self.table(header, rows, widths, total=True),
            ]
        caveats = data.get("caveats") or []
        if caveats:
            out.append(Spacer(1, 1.5 * mm))
            out.append(self.para(self.text("caveats"), self.small))
            out += [self.para(f"• {m.caveat(self.lang, c)}", self.small) for c in caveats]
        top = list(data.get("rows", []))[:TOP_ROWS]
        if top:
            title = self.para(
                self.text("records_top_chart" if incidents else "top_chart", n=len(top)), self.h2
            )
            names = [str(r.get(by, "")) for r in top]
            current, previous = [r["current"] for r in top], [r["previous"] for r in top]
            chart = charts.bar_chart(
                names, current, previous, (header[1], header[2]), width=WIDTH, font=self.font
            )
            out.append(KeepTogether([title, chart]))
        return out

    # -- response times ----------------------------------------------------------------------------

    def response_times(self, data: Mapping[str, Any]) -> list[Flowable]:
        """The stage table, the share within the target, the priority table and the trend chart."""
        period = data.get("period") or self.text("all_records")
        out: list[Flowable] = [
            *self.heading(self.text("response"), self.h1),
            self.para(self.text("response_period", period=period, records=m.count(data.get("records")))),
        ]
        header = [self.text("stage"), self.text("n"), *(self.text("p_min", q=q) for q in (50, 75, 90))]
        widths = [WIDTH - 4 * 28 * mm, 28 * mm, 28 * mm, 28 * mm, 28 * mm]
        stages = data.get("overall") or {}
        rows = [[m.name(self.lang, stage), *_stage_cells(stats)] for stage, stats in stages.items()]
        out += [Spacer(1, 2 * mm), self.table(header, rows, widths)]
        within = data.get("within_5_min")
        if within:
            out.append(Spacer(1, 2 * mm))
            line = self.text(
                "within",
                target=m.decimal(within.get("target_s", 300) / 60, 0),
                within=m.count(within.get("within")),
                arrivals=m.count(within.get("arrivals")),
                share=m.percent(within.get("share")),
                of=m.name(self.lang, str(within.get("of", ""))),
            )
            out.append(self.para(line))
        backwards = {k: v for k, v in (data.get("inconsistent") or {}).items() if v}
        if backwards:
            counts = ", ".join(f"{m.name(self.lang, k)} {m.count(v)}" for k, v in backwards.items())
            out.append(self.para(self.text("inconsistent", counts=counts), self.small))
        by = data.get("by") or {}
        if by.get("priority"):
            header[0] = self.text("priority")
            rows = [
                [e.get("priority"), *_stage_cells(e.get("call_to_arrival") or {})] for e in by["priority"]
            ]
            out += [*self.heading(self.text("by_priority"), self.h2), self.table(header, rows, widths)]
        out += self.trend(data)
        return out

    def trend(self, data: Mapping[str, Any]) -> list[Flowable]:
        """The trend's chart; by hour of day instead when the trend has a single bucket (one day's
        data: a line needs two points)."""
        trend = data.get("trend") or {}
        points = trend.get("call_to_arrival") or []
        if len(points) >= 2:
            bucket = trend.get("by", "day")
            names = [str(p["from"])[: 7 if bucket == "month" else 10] for p in points]
            if bucket != "month" and len({n[:4] for n in names}) == 1:
                names = [n[5:] for n in names]  # one year: month and day are enough
            title = self.text(
                "trend_chart", bucket=self.text(bucket) if bucket in ("day", "week", "month") else bucket
            )
        else:
            points = [
                {"from": h["hour"], **(h.get("call_to_arrival") or {})}
                for h in (data.get("by") or {}).get("hour") or []
            ]
            if len(points) < 2:
                return []
            names, title = [str(p["from"]) for p in points], self.text("hour_chart")
        p50 = [_in_minutes(p.get("p50_s")) for p in points]
        p90 = [_in_minutes(p.get("p90_s")) for p in points]
        return [
            KeepTogether(
                [self.para(title, self.h2), charts.line_chart(names, p50, p90, width=WIDTH, font=self.font)]
            )
        ]

    # -- hotspots ----------------------------------------------------------------------------------

    def hotspots(self) -> list[Flowable]:
        """The forecast's summary and map, then every method's back-tested scores."""
        report = self.report
        out: list[Flowable] = self.heading(self.text("hotspots"), self.h1)
        summary = report.hotspot_forecast or {}
        cells = report.hotspot_cells or summary.get("geojson") or {}  # forecast_summary() carries its cells
        if summary or cells:
            out += self.forecast(summary, cells)
        if report.hotspot_scores:
            out += self.scores(report.hotspot_scores)
        return out

    def forecast(self, summary: Mapping[str, Any], cells: Mapping[str, Any]) -> list[Flowable]:
        # The summary's fields, else the GeoJSON's own top-level members.
        info = {**{k: cells.get(k) for k in ("for", "method", "area_share", "study_area_m2", "cell_m")}}
        info["cells"] = cells.get("n_chosen")
        info.update({k: v for k, v in summary.items() if v is not None and k != "geojson"})
        method = str(info.get("method") or "")
        chosen = info.get("chosen_by")
        if not chosen:
            how = self.text("named")
        elif chosen.get("fallback"):
            how = self.text("fallback")
        else:
            months = ", ".join(chosen.get("back_tested_months", []))
            how = self.text(
                "chosen_by_value", months=months, pai=m.decimal((chosen.get("mean_pai") or {}).get(method))
            )
        share = info.get("area_share")
        rows = [
            [self.text("forecast_method"), m.name(self.lang, method)],
            [self.text("chosen_by"), how],
            [
                self.text("cells"),
                self.text(
                    "cells_value",
                    cells=m.count(info.get("cells")),
                    cell=m.decimal(info.get("cell_m"), 0),
                    share=_share(share),
                    area=m.decimal((info.get("study_area_m2") or math.nan) / 1e6),
                ),
            ],
        ]
        if info.get("trained_on") is not None:
            rows.append([self.text("trained_on"), m.count(info["trained_on"])])
        measured = (info.get("score") or {}).get(str(share))
        if measured:
            rows.append(
                [
                    self.text("measured"),
                    self.text(
                        "measured_value",
                        hit=m.percent(measured.get("hit_rate")),
                        pai=m.decimal(measured.get("pai")),
                        pei=m.decimal(measured.get("pei_star"), 2),
                    ),
                ]
            )
        rows = [[k, Paragraph(escape(v), self.cell)] for k, v in rows]
        out: list[Flowable] = [
            *self.heading(self.text("forecast", month=info.get("for") or ""), self.h2),
            self.table([self.text("item"), self.text("value")], rows, [40 * mm, WIDTH - 40 * mm]),
        ]
        drawing = charts.cell_map(
            cells.get("features") or [],
            self.report.study_extent,
            width=WIDTH,
            font=self.font,
            rank_label=self.text("rank"),
        )
        if drawing is not None:
            frame = self.text("frame_study" if self.report.study_extent else "frame_cells")
            out.append(
                KeepTogether(
                    [Spacer(1, 3 * mm), drawing, self.para(self.text("map_caption", frame=frame), self.small)]
                )
            )
        return out

    def scores(self, data: Mapping[str, Any]) -> list[Flowable]:
        """Each method's mean hit rate, PAI and PEI* at each area share: how far to trust a map."""
        joiner = "、" if self.lang == "zh" else "; "
        months = joiner.join(
            self.text(
                "scores_month",
                month=r.get("month"),
                trained=m.count(r.get("trained_on")),
                tested=m.count(r.get("tested_on")),
            )
            for r in data.get("months", [])
        )
        rows = []
        for method, by_share in (data.get("mean") or {}).items():
            for i, (share, s) in enumerate(sorted(by_share.items(), key=lambda kv: float(kv[0]))):
                rows.append(
                    [
                        m.name(self.lang, method) if i == 0 else "",
                        _share(float(share)),
                        m.percent(s.get("hit_rate")),
                        m.decimal(s.get("pai")),
                        m.decimal(s.get("pei_star"), 2),
                    ]
                )
        header = [self.text("method"), self.text("area_share"), self.text("hit_rate"), "PAI", "PEI*"]
        widths = [WIDTH - 4 * 28 * mm, 28 * mm, 28 * mm, 28 * mm, 28 * mm]
        months_line = self.text("scores_months", months=months, cell=m.decimal(data.get("cell_m"), 0))
        together = [  # a short table: kept whole, under its heading
            self.para(self.text("scores"), self.h2),
            self.para(months_line, self.small),
            Spacer(1, 1.5 * mm),
            self.table(header, rows, widths),
            Spacer(1, 1.5 * mm),
            self.para(self.text("scores_note"), self.small),
        ]
        return [KeepTogether(together)]


def _builtin_font() -> str:
    log.warning("no font given for the analytics report: it names %s, which it cannot embed", BUILTIN_FONT)
    pdfmetrics.registerFont(UnicodeCIDFont(BUILTIN_FONT))
    return BUILTIN_FONT


def _stage_cells(stats: Mapping[str, Any]) -> list[str]:
    return [m.count(stats.get("n")), *(m.minutes(stats.get(k)) for k in ("p50_s", "p75_s", "p90_s"))]


def _in_minutes(seconds: Any) -> float | None:
    return None if seconds is None else float(seconds) / 60


def _share(share: Any) -> str:
    """An area share as a percentage without a needless ".0" (5%, 2.5%)."""
    text = m.percent(share)
    return text.replace(".0%", "%")


__all__ = ["AnalyticsReport", "render_report_pdf"]
