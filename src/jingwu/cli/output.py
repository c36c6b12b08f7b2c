"""What the commands print besides their one-line answers: progress on a terminal, and tables
that line up with Chinese text in them."""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Sequence


def progress(stage: str, fraction: float) -> None:
    """Live progress on a terminal; one line per finished stage in a log file."""
    if sys.stderr.isatty():
        end = "" if fraction < 1 else "\n"
        print(f"\r  {stage:<24} {fraction * 100:5.1f} %", end=end, file=sys.stderr, flush=True)
    elif fraction >= 1:
        print(f"  {stage}: done", file=sys.stderr, flush=True)


def text_width(text: str) -> int:
    """Columns a text takes on a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(text_width(r[i]) for r in (header, *rows)) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            cell + " " * (width - text_width(cell)) for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in (header, *rows)
    )


__all__ = ["progress", "table", "text_width"]
