"""The printed analytics report's figures: a bar chart, a line chart and the hotspot cell map.

Each takes the font to set every label in, because reportlab's charts default to Helvetica, which
has no Chinese and is not embedded; the drawing's initial font is set for the same reason."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, Line, Polygon, Rect, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.units import mm

DARK = colors.HexColor("#1f4e79")
LIGHT = colors.HexColor("#a6a6a6")
RED = colors.HexColor("#c0504d")
RULE = colors.HexColor("#9a9a9a")
HOT, WARM = colors.HexColor("#7f0000"), colors.HexColor("#fdbb84")  # rank 1, the last rank
METRES_PER_DEGREE = math.pi / 180 * 6_371_008.8  # of latitude, on a sphere of the mean Earth radius
MAP_WIDTH, MAP_HEIGHT = 120 * mm, 95 * mm  # the most the map's frame takes


def drawing(width: float, height: float, font: str) -> Drawing:
    found = Drawing(width, height)
    found.initialFontName = font  # else renderPDF sets Helvetica, unembedded, at its start
    return found


def legend(x: float, y: float, pairs: Sequence[tuple[colors.Color, str]], font: str) -> Legend:
    """Swatches side by side, from (x, y) up and to the right."""
    found = Legend()
    found.x, found.y, found.boxAnchor = x, y, "sw"
    found.fontName, found.fontSize = font, 7.5
    found.alignment, found.columnMaximum = "right", 1
    found.deltax, found.dxTextSpace = 60, 4
    found.colorNamePairs = list(pairs)
    return found


def bar_chart(
    names: Sequence[str],
    current: Sequence[int],
    previous: Sequence[int],
    labels: tuple[str, str],
    *,
    width: float,
    font: str,
) -> Drawing:
    """Current against previous for each name, the first name at the top."""
    height = 18 * mm + len(names) * 8 * mm
    found = drawing(width, height, font)
    chart = HorizontalBarChart()
    chart.x, chart.y = 62 * mm, 14 * mm
    chart.width, chart.height = width - chart.x - 6 * mm, height - chart.y - 3 * mm
    # The chart draws its first category at the bottom, and a category's first series lowest.
    chart.data = [list(reversed(previous)), list(reversed(current))]
    chart.categoryAxis.categoryNames = [_shorten(n, 30) for n in reversed(names)]
    chart.bars[0].fillColor, chart.bars[1].fillColor = LIGHT, DARK
    chart.bars.strokeColor = None
    chart.barSpacing, chart.groupSpacing = 0.5, 5
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labelTextFormat = _thousands
    for axis_labels in (chart.categoryAxis.labels, chart.valueAxis.labels):
        axis_labels.fontName, axis_labels.fontSize = font, 7
    chart.categoryAxis.labels.boxAnchor, chart.categoryAxis.labels.dx = "e", -3
    found.add(chart)
    found.add(legend(chart.x, 1 * mm, [(DARK, labels[0]), (LIGHT, labels[1])], font))
    return found


def line_chart(
    names: Sequence[str],
    p50: Sequence[float | None],
    p90: Sequence[float | None],
    *,
    width: float,
    font: str,
) -> Drawing:
    """Two lines over the named buckets, with a gap where a bucket has no value."""
    found = drawing(width, 62 * mm, font)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 14 * mm, 18 * mm, width - 20 * mm, 40 * mm
    chart.data = [list(p50), list(p90)]
    step = max(1, math.ceil(len(names) / 12))  # at most a dozen labels under the axis
    chart.categoryAxis.categoryNames = [n if i % step == 0 else "" for i, n in enumerate(names)]
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labelTextFormat = _thousands
    for axis_labels in (chart.categoryAxis.labels, chart.valueAxis.labels):
        axis_labels.fontName, axis_labels.fontSize = font, 7
    for i, colour in enumerate((DARK, RED)):
        chart.lines[i].strokeColor, chart.lines[i].strokeWidth = colour, 1.2
        chart.lines[i].symbol = makeMarker("FilledCircle", size=2.5, fillColor=colour, strokeColor=colour)
    found.add(chart)
    found.add(legend(chart.x, 1 * mm, [(DARK, "P50"), (RED, "P90")], font))
    return found


def cell_map(
    features: Sequence[Mapping[str, Any]],
    extent: tuple[float, float, float, float] | None,
    *,
    width: float,
    font: str,
    rank_label: str,
) -> Drawing | None:
    """The hotspot cells filled by rank (dark first) in the study area's frame, else the cells' own
    with a margin, with a north mark, a scale bar and a rank legend. No basemap: no tiles to credit."""
    rings = [
        (int(f.get("properties", {}).get("rank", i + 1)), f["geometry"]["coordinates"][0])
        for i, f in enumerate(features)
        if f.get("geometry", {}).get("type") == "Polygon"
    ]
    if not rings:
        return None
    lons = [p[0] for _, ring in rings for p in ring]
    lats = [p[1] for _, ring in rings for p in ring]
    west, south, east, north = extent or (min(lons), min(lats), max(lons), max(lats))
    ky = METRES_PER_DEGREE
    kx = ky * math.cos(math.radians((south + north) / 2))  # equirectangular about the middle
    pad = 0.0 if extent else 0.05 * max((east - west) * kx, (north - south) * ky, 500.0)
    x0, y0 = west * kx - pad, south * ky - pad
    span_x = (east - west) * kx + 2 * pad or 1.0
    span_y = (north - south) * ky + 2 * pad or 1.0
    scale = min(MAP_WIDTH / span_x, MAP_HEIGHT / span_y)  # points per metre
    fw, fh, left, bottom = span_x * scale, span_y * scale, 2 * mm, 12 * mm
    found = drawing(width, fh + bottom + 2 * mm, font)
    found.add(Rect(left, bottom, fw, fh, fillColor=colors.HexColor("#f7f7f7"), strokeColor=RULE))
    last = max(rank for rank, _ in rings)
    for rank, ring in sorted(rings, reverse=True):  # rank 1 drawn last, on top
        points = [
            v for lon, lat in ring for v in (left + (lon * kx - x0) * scale, bottom + (lat * ky - y0) * scale)
        ]
        found.add(
            Polygon(points, fillColor=_rank_colour(rank, last), strokeColor=colors.white, strokeWidth=0.2)
        )
    # The scale bar: the longest round length within a quarter of the frame.
    length = max((n * 10**k for k in range(6) for n in (1, 2, 5) if n * 10**k <= span_x / 4), default=1)
    bar = length * scale
    found.add(Line(left, 6 * mm, left + bar, 6 * mm, strokeWidth=1.5))
    for x in (left, left + bar):
        found.add(Line(x, 5 * mm, x, 7 * mm, strokeWidth=0.8))
    distance = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    found.add(String(left + bar + 2 * mm, 5 * mm, distance, fontName=font, fontSize=7))
    nx, ny = left + fw - 6 * mm, bottom + fh - 4 * mm
    found.add(Polygon([nx - 2 * mm, ny - 6 * mm, nx, ny, nx + 2 * mm, ny - 6 * mm], fillColor=colors.black))
    found.add(String(nx, ny - 10 * mm, "N", fontName=font, fontSize=8, textAnchor="middle"))
    steps = sorted({1, *(round(1 + (last - 1) * s / 4) for s in range(1, 5))})
    for i, rank in enumerate(steps):  # the rank legend, beside the frame
        x, y = left + fw + 6 * mm, bottom + fh - (i + 1) * 6 * mm
        found.add(Rect(x, y, 5 * mm, 4 * mm, fillColor=_rank_colour(rank, last), strokeColor=None))
        found.add(String(x + 7 * mm, y + 1, f"{rank_label} {rank}", fontName=font, fontSize=7))
    return found


def _thousands(value: float) -> str:
    return f"{value:,.0f}"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _rank_colour(rank: int, last: int) -> colors.Color:
    t = 0.0 if last <= 1 else (rank - 1) / (last - 1)
    return colors.linearlyInterpolatedColor(HOT, WARM, 0, 1, t)


__all__ = ["bar_chart", "cell_map", "drawing", "legend", "line_chart"]
