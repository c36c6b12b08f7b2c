"""Back-tests: train on the months before, score on the month itself, for every method.

A forecast's method is chosen the same way, on the last months of its own training data only,
so that the month it forecasts is never looked at: the measured accuracy stays honest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from jingwu.analytics.hotspots.grid import DEFAULT_CELL_M, build_grid
from jingwu.analytics.hotspots.methods import DEFAULT_METHOD, METHODS, Method
from jingwu.analytics.hotspots.points import (
    HotspotError,
    Points,
    month_end,
    month_label,
    month_start,
    shift_month,
)
from jingwu.analytics.hotspots.scoring import DEFAULT_SHARES, Score, score
from jingwu.analytics.hotspots.select import check_area_share

DEFAULT_VALIDATION_MONTHS = 2


@dataclass(frozen=True)
class Backtest:
    """Every method's accuracy on one month, trained on everything before it."""

    month: str  # YYYY-MM
    n_train: int
    n_test: int
    n_cells: int
    cell_m: float
    study_area_m2: float
    scores: dict[str, dict[float, Score]]  # method → area share → score

    def table(self) -> dict[str, dict[float, dict[str, float]]]:
        """method → share → {hit_rate, pai, pei_star}: the figures a report prints."""
        return {
            name: {
                share: {"hit_rate": s.hit_rate, "pai": s.pai, "pei_star": s.pei_star}
                for share, s in by_share.items()
            }
            for name, by_share in self.scores.items()
        }


def backtest(
    points: Points,
    month: str | np.datetime64,
    *,
    methods: Mapping[str, Method] = METHODS,
    shares: Sequence[float] = DEFAULT_SHARES,
    cell_m: float = DEFAULT_CELL_M,
) -> Backtest:
    """Train each method on the points before ``month`` and score it on the points in it.

    The study area is the training points'; later months' points are ignored."""
    if not methods:
        raise HotspotError("no method to back-test")
    start, end = month_start(month), month_end(month)
    train, test = points.before(start), points.between(start, end)
    label = month_label(month)
    if len(train) == 0:
        raise HotspotError(
            f"no incidents with coordinates before {label} to train on", code="hotspots_no_training_points"
        )
    if len(test) == 0:
        raise HotspotError(
            f"no incidents with coordinates in {label} to score against", code="hotspots_no_test_points"
        )
    grid = build_grid(train, cell_m)
    results = {
        name: score(method(train, grid, start), grid, test, shares) for name, method in methods.items()
    }
    return Backtest(label, len(train), len(test), grid.n_cells, grid.cell_m, grid.study_area_m2, results)


@dataclass(frozen=True)
class MethodChoice:
    """Which method a forecast uses, and the evidence: mean PAI per method over the folds."""

    method: str
    area_share: float  # the share the PAI was measured at
    folds: tuple[str, ...]  # the months back-tested, latest first
    mean_pai: dict[str, float]
    fallback: bool  # true when no month could be back-tested and the default was taken


def choose_method(
    points: Points,
    for_month: str | np.datetime64,
    *,
    area_share: float = 0.05,
    validation_months: int = DEFAULT_VALIDATION_MONTHS,
    methods: Mapping[str, Method] = METHODS,
    cell_m: float = DEFAULT_CELL_M,
) -> MethodChoice:
    """The method with the best mean PAI at ``area_share`` over the ``validation_months`` months
    before ``for_month``, each trained on the months before it; ties go to the earlier method in
    ``methods`` (the simpler one). Points from ``for_month`` on are never looked at.

    A month with no incidents, or with nothing before it, is skipped; with no month left the
    default method (``recency-kde``) is taken, and ``fallback`` says so."""
    share = check_area_share(area_share)
    if not methods:
        raise HotspotError("no method to choose from")
    if validation_months < 0:
        raise HotspotError(f"validation months must be 0 or more, not {validation_months}")
    seen = points.before(month_start(for_month))
    folds: list[str] = []
    pai: dict[str, list[float]] = {name: [] for name in methods}
    for back in range(1, validation_months + 1):
        month = shift_month(for_month, -back)
        start = month_start(month)
        if not np.any(seen.t < start) or not np.any((seen.t >= start) & (seen.t < month_end(month))):
            continue
        result = backtest(seen, month, methods=methods, shares=(share,), cell_m=cell_m)
        folds.append(month)
        for name in methods:
            pai[name].append(result.scores[name][share].pai)
    if not folds:
        fallback = DEFAULT_METHOD if DEFAULT_METHOD in methods else next(iter(methods))
        return MethodChoice(fallback, share, (), {}, fallback=True)
    mean_pai = {name: float(np.mean(values)) for name, values in pai.items()}
    best = max(methods, key=lambda name: mean_pai[name])  # the first of equals: the simplest
    return MethodChoice(best, share, tuple(folds), mean_pai, fallback=False)
