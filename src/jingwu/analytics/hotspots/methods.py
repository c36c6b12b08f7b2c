"""The forecasting methods: each turns the training points into a score per study cell.

Every method has the same signature, ``(train, grid, start) -> scores``, ``start`` being the first
second of the period forecast, so a back-test can run them side by side. Scores are expected
incidents per cell (higher is hotter); only their order matters to the choice of hotspots.
Kernel densities are computed at cell resolution: the points are binned to the grid and the bins
convolved with a sampled, normalised Gaussian, which equals summing each point's kernel at the
cell centres once the points are snapped to their cells, at a fraction of the cost."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from jingwu.analytics.hotspots.grid import Grid
from jingwu.analytics.hotspots.points import FloatArray, HotspotError, Points

Method = Callable[[Points, Grid, np.datetime64], NDArray[np.float64]]

DEFAULT_BANDWIDTH_M = 300.0
DEFAULT_TAU_DAYS = 60.0
_SECONDS_PER_DAY = 86_400.0
#: near_repeat's weights and time scale, chosen on Berkeley 2018-19 and the synthetic city of the
#: tests (docs/analytics.md): small, because the long-run counts carry most of the signal.
NEAR_REPEAT_SMOOTHING = 0.1
NEAR_REPEAT_RECENT = 0.3
NEAR_REPEAT_TAU_DAYS = 30.0


def counts(train: Points, grid: Grid, start: np.datetime64) -> FloatArray:
    """The naive baseline: last period's (all training) counts per cell, hot where crime was."""
    return grid.count(train)[0]


def kde(
    train: Points, grid: Grid, start: np.datetime64, *, bandwidth_m: float = DEFAULT_BANDWIDTH_M
) -> FloatArray:
    """Gaussian kernel density over all training points: smooths the counts so that a cell next
    to many incidents ranks above an isolated one-off."""
    return _smoothed(train, grid, None, bandwidth_m)


def recency_kde(
    train: Points,
    grid: Grid,
    start: np.datetime64,
    *,
    bandwidth_m: float = DEFAULT_BANDWIDTH_M,
    tau_days: float = DEFAULT_TAU_DAYS,
) -> FloatArray:
    """Kernel density with each point weighted by exp(-age/τ), its age counted to ``start``:
    crime concentrates where it happened lately, and old hotspots fade."""
    if not (np.isfinite(tau_days) and tau_days > 0):
        raise HotspotError(f"the recency time scale must be a positive number of days, not {tau_days!r}")
    age_days = (np.asarray(start, dtype="datetime64[s]") - train.t).astype(np.float64) / _SECONDS_PER_DAY
    if np.any(age_days < 0):
        raise HotspotError("training points must all precede the period forecast", code="hotspots_leak")
    # Relative to the youngest point, so that years of history cannot underflow every weight to 0.
    weights = np.exp(-(age_days - (age_days.min() if age_days.size else 0.0)) / tau_days)
    return _smoothed(train, grid, weights, bandwidth_m)


def near_repeat(
    train: Points,
    grid: Grid,
    start: np.datetime64,
    *,
    bandwidth_m: float = DEFAULT_BANDWIDTH_M,
    tau_days: float = NEAR_REPEAT_TAU_DAYS,
) -> FloatArray:
    """Where crime has long been (the cell's share of all incidents, a little smoothed) plus where
    it struck lately (recent incidents, decaying in days and spreading to the cells around): a
    grid form of a self-exciting point process, its weights fixed rather than fitted. Block-level
    data (Berkeley) rewards the long-run counts, clustered flare-ups the recent term; this keeps
    both (docs/analytics.md gives the scores)."""
    long_run = _share(counts(train, grid, start))
    smoothed = _share(_smoothed(train, grid, None, bandwidth_m))
    recent = _share(recency_kde(train, grid, start, bandwidth_m=bandwidth_m / 2, tau_days=tau_days))
    return long_run + NEAR_REPEAT_SMOOTHING * smoothed + NEAR_REPEAT_RECENT * recent


def _share(scores: FloatArray) -> FloatArray:
    total = float(scores.sum())
    return scores / total if total > 0 else scores


def _smoothed(train: Points, grid: Grid, weights: FloatArray | None, bandwidth_m: float) -> FloatArray:
    if not (np.isfinite(bandwidth_m) and bandwidth_m > 0):
        raise HotspotError(f"the kernel bandwidth must be a positive number of metres, not {bandwidth_m!r}")
    x, y = grid.projection.forward(train.lon, train.lat)
    binned = grid.raster_counts(x, y, weights)
    # Zero beyond the window is exact: every training point lies inside it.
    density = ndimage.gaussian_filter(binned, sigma=bandwidth_m / grid.cell_m, mode="constant", cval=0.0)
    return np.asarray(density[grid.rows, grid.cols], dtype=np.float64)


def random_ranking(grid: Grid, rng: np.random.Generator) -> FloatArray:
    """Scores drawn at random: the ranking a method must beat to be worth anything (PAI ≈ 1)."""
    return rng.random(grid.n_cells)


#: The methods a back-test compares, simplest first: on a tie the simpler one is chosen.
METHODS: Mapping[str, Method] = MappingProxyType(
    {"counts": counts, "kde": kde, "recency-kde": recency_kde, "near-repeat": near_repeat}
)

#: The method used when there is not enough history to choose one by back-testing.
DEFAULT_METHOD = "near-repeat"
