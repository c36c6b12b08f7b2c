"""How much to trust a forecast: its hit rate, PAI and PEI* on the period it forecast.

* hit rate: the share of the period's incidents inside the chosen cells; incidents outside the
  study area count in the denominator as misses, so a small study area cannot flatter it;
* PAI (Chainey et al. 2008): hit rate over the share of area chosen, the actual ``k / n`` rather
  than the share asked for; 1 is what a random choice of cells scores;
* PEI* (Hunt 2016): hits over the most incidents any ``k`` cells could have caught, the ``k``
  busiest cells of the period itself; 1 is a perfect forecast at that size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from jingwu.analytics.hotspots.grid import Grid
from jingwu.analytics.hotspots.points import HotspotError, Points
from jingwu.analytics.hotspots.select import check_area_share, n_chosen, rank_cells

DEFAULT_SHARES: tuple[float, ...] = (0.01, 0.03, 0.05)


@dataclass(frozen=True)
class Score:
    """One method's accuracy at one area share, with the counts it was computed from.

    ``pei_star`` is NaN when no test incident fell inside the study area (0 of at most 0)."""

    area_share: float  # as asked
    actual_share: float  # n_chosen / n_cells, what PAI divides by
    n_chosen: int
    n_cells: int
    hits: int
    n_test: int  # all test incidents, those outside the study area included
    n_outside: int  # test incidents outside the study area (misses by definition)
    max_hits: int  # the most any n_chosen cells could have caught
    hit_rate: float
    pai: float
    pei_star: float


def score(
    scores: NDArray[np.float64], grid: Grid, test: Points, shares: Sequence[float] = DEFAULT_SHARES
) -> dict[float, Score]:
    """The accuracy of ranking the study cells by ``scores`` against the test points, per share."""
    if len(test) == 0:
        raise HotspotError(
            "no test incidents with coordinates in the period: there is nothing to score against",
            code="hotspots_no_test_points",
        )
    s = np.asarray(scores, dtype=np.float64)
    if s.shape != (grid.n_cells,):
        raise HotspotError(f"expected {grid.n_cells} scores, one per study cell, not {s.shape}")
    observed, n_outside = grid.count(test)
    order = rank_cells(s)
    caught = np.cumsum(observed[order])  # caught[k-1]: hits of the top k cells
    best = np.cumsum(np.sort(observed)[::-1])  # best[k-1]: the most any k cells could catch
    result: dict[float, Score] = {}
    for share in shares:
        share = check_area_share(share)
        k = n_chosen(share, grid.n_cells)
        hits, max_hits = int(caught[k - 1]), int(best[k - 1])
        hit_rate = hits / len(test)
        actual = k / grid.n_cells
        result[share] = Score(
            area_share=share,
            actual_share=actual,
            n_chosen=k,
            n_cells=grid.n_cells,
            hits=hits,
            n_test=len(test),
            n_outside=n_outside,
            max_hits=max_hits,
            hit_rate=hit_rate,
            pai=hit_rate / actual,
            pei_star=hits / max_hits if max_hits else float("nan"),
        )
    return result
