"""Choosing the hotspots: the top-ranked cells that cover a given share of the study area.

A fixed share of area, not a score threshold, is what makes methods comparable (PAI, PEI*) and
what a patrol plan can afford. Ties are broken by cell order so that the same input always gives
the same map."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from jingwu.analytics.hotspots.grid import IntArray
from jingwu.analytics.hotspots.points import HotspotError


def check_area_share(area_share: float) -> float:
    """The share as a float, or a ``HotspotError`` saying why it cannot be one."""
    try:
        share = float(area_share)
    except (TypeError, ValueError) as exc:
        raise HotspotError(
            f"area share must be a number in (0, 1], not {area_share!r}", code="hotspots_bad_area_share"
        ) from exc
    if not (math.isfinite(share) and 0.0 < share <= 1.0):
        raise HotspotError(
            f"area share must be in (0, 1] (0.05 is 5 % of the study area), not {area_share!r}",
            code="hotspots_bad_area_share",
            area_share=share,
        )
    return share


def n_chosen(area_share: float, n_cells: int) -> int:
    """How many cells a share of the study area is: ``round(share · n)`` (Python's round, half to
    even), at least one."""
    share = check_area_share(area_share)
    if n_cells < 1:
        raise HotspotError("the study area has no cells", code="hotspots_empty_area")
    return min(n_cells, max(1, round(share * n_cells)))


def rank_cells(scores: NDArray[np.float64]) -> IntArray:
    """All cells, hottest first; equal scores keep cell order (a stable sort)."""
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1:
        raise HotspotError(f"scores must be one per cell, not an array of shape {s.shape}")
    if not np.all(np.isfinite(s)):
        raise HotspotError("a score is not a finite number", code="hotspots_bad_scores")
    return np.asarray(np.argsort(-s, kind="stable"), dtype=np.int64)


def top_cells(scores: NDArray[np.float64], area_share: float) -> IntArray:
    """The ``round(area_share · n)`` hottest cells (at least one), hottest first."""
    k = n_chosen(area_share, int(np.asarray(scores).size))
    return rank_cells(scores)[:k]
