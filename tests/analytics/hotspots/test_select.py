"""Choosing hotspots: a fixed share of the study area, the same cells every time."""

from __future__ import annotations

import numpy as np
import pytest

from jingwu.analytics.hotspots import HotspotError, n_chosen, rank_cells, top_cells

CASES = [(0.05, 4648, 232), (0.01, 1000, 10), (0.03, 101, 3), (1.0, 7, 7)]


@pytest.mark.parametrize(("share", "n", "k"), CASES)
def test_the_chosen_cells_are_the_share_of_the_cells_rounded(share: float, n: int, k: int) -> None:
    scores = np.random.default_rng(n).random(n)
    chosen = top_cells(scores, share)
    assert chosen.size == k == round(share * n)
    assert len(set(chosen.tolist())) == k
    rest = np.delete(scores, chosen)
    assert rest.size == 0 or scores[chosen].min() >= rest.max()


def test_at_least_one_cell_is_chosen() -> None:
    assert n_chosen(0.01, 20) == 1
    assert top_cells(np.array([0.0, 3.0, 1.0]), 0.001).tolist() == [1]


def test_ties_are_broken_by_score_then_cell_order() -> None:
    scores = np.array([1.0, 2.0, 2.0, 0.0, 2.0, 1.0])
    assert rank_cells(scores).tolist() == [1, 2, 4, 0, 5, 3]
    assert top_cells(np.zeros(100), 0.05).tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("share", [0.0, -0.05, 1.01, 5.0, float("nan"), float("inf"), "lots"])
def test_an_area_share_outside_zero_to_one_is_refused(share: object) -> None:
    with pytest.raises(HotspotError, match="area share") as caught:
        top_cells(np.ones(10), share)  # type: ignore[arg-type]
    assert isinstance(caught.value, ValueError)
    assert caught.value.code == "hotspots_bad_area_share"


def test_scores_that_are_not_numbers_are_refused() -> None:
    with pytest.raises(HotspotError, match="finite"):
        rank_cells(np.array([1.0, np.nan]))
