"""Getis-Ord Gi*: where the counts are significantly high now, cell and neighbours together.

Descriptive, not a forecast: it says which clusters of cells stand out from the study area's
mean, which analysts read beside a forecast. Binary weights: a cell's neighbours are the study
cells whose centres lie within the distance band of its own, itself included. The standard
statistic (Getis & Ord 1995; Ord & Getis 1995):

    Gi* = (Σ_j w_ij x_j − x̄ Σ_j w_ij) / (S √((n Σ_j w_ij² − (Σ_j w_ij)²) / (n − 1)))

with x̄ and S the mean and (population) standard deviation of all n study cells' counts."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from jingwu.analytics.hotspots.grid import Grid, IntArray
from jingwu.analytics.hotspots.points import FloatArray, HotspotError, Points

DEFAULT_BAND_M = 300.0
Z_95 = 1.96


def gistar(counts: FloatArray, grid: Grid, band_m: float = DEFAULT_BAND_M) -> FloatArray:
    """The Gi* z-score of each study cell's count (``counts`` in study-cell order).

    Zero where it is undefined: every count equal (no spread to stand out from), or a cell whose
    neighbourhood is the whole study area."""
    if not (np.isfinite(band_m) and band_m >= 0):
        raise HotspotError(f"the distance band must be a non-negative number of metres, not {band_m!r}")
    x = np.asarray(counts, dtype=np.float64)
    if x.shape != (grid.n_cells,):
        raise HotspotError(f"expected {grid.n_cells} counts, one per study cell, not {x.shape}")
    n = grid.n_cells
    reach = int(np.floor(band_m / grid.cell_m))
    offsets = np.arange(-reach, reach + 1, dtype=np.float64) * grid.cell_m
    kernel = (offsets[:, None] ** 2 + offsets[None, :] ** 2 <= band_m**2 + 1e-9).astype(np.float64)
    neighbour_sum = ndimage.correlate(grid.raster(x), kernel, mode="constant", cval=0.0)[grid.rows, grid.cols]
    weight_sum = ndimage.correlate(grid.mask.astype(np.float64), kernel, mode="constant", cval=0.0)[
        grid.rows, grid.cols
    ]
    mean = x.mean() if n else 0.0
    spread = np.sqrt(max(float((x * x).mean() - mean * mean), 0.0)) if n else 0.0
    z = np.zeros(n, dtype=np.float64)
    if n < 2 or spread <= 0.0:
        return z
    # Binary weights: Σ w² = Σ w.
    variance = (n * weight_sum - weight_sum**2) / (n - 1)
    ok = variance > 1e-12
    z[ok] = (neighbour_sum[ok] - mean * weight_sum[ok]) / (spread * np.sqrt(variance[ok]))
    return z


def gistar_points(points: Points, grid: Grid, band_m: float = DEFAULT_BAND_M) -> FloatArray:
    """Gi* of the points' counts per study cell (points outside the study area are left out)."""
    return gistar(grid.count(points)[0], grid, band_m)


def significant_cells(z: NDArray[np.float64], threshold: float = Z_95) -> IntArray:
    """The study cells with Gi* above ``threshold`` (1.96: p < 0.05 one cell at a time, with no
    correction for testing many cells), hottest first, ties in cell order."""
    hot = np.flatnonzero(z > threshold)
    order = np.argsort(-z[hot], kind="stable")
    return np.asarray(hot[order], dtype=np.int64)
