"""The grid of square cells and the study area: where a forecast is made and judged.

Cells are aligned to the projection's origin (cell (i, j) spans x in [i·s, (i+1)·s), y likewise).
The study area is every cell whose interior meets the convex hull of the training points buffered
by half a cell, so an edge point's own cell always counts, and the area is exactly
``n_cells · s²``. Measuring PAI against that area, rather than a city's whole box, keeps empty
fields and rivers from flattering the score. Points that all coincide, or lie on a line, still
make an area: the buffer turns the point or segment into a small polygon."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from jingwu.analytics.hotspots.points import HotspotError, Points
from jingwu.analytics.hotspots.projection import FloatArray, Projection

IntArray = NDArray[np.int64]

DEFAULT_CELL_M = 150.0


@dataclass(frozen=True, eq=False)
class Grid:
    """The study area as a raster window: ``index[r, c]`` is the study cell at raster row ``r``
    (north-going) and column ``c`` (east-going), or -1 outside it. Study cells are numbered in
    raster order (row by row, west to east), the stable order that breaks ties everywhere."""

    projection: Projection
    cell_m: float
    col0: int  # the window's first column: cell i = col0 + c
    row0: int  # the window's first row: cell j = row0 + r
    index: IntArray  # (rows, cols)
    rows: IntArray  # per study cell, its raster row
    cols: IntArray  # per study cell, its raster column

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.index.shape[0]), int(self.index.shape[1]))

    @property
    def n_cells(self) -> int:
        return int(self.rows.size)

    @property
    def study_area_m2(self) -> float:
        return self.n_cells * self.cell_m * self.cell_m

    @property
    def mask(self) -> NDArray[np.bool_]:
        return self.index >= 0

    def cell_bounds(self, cells: IntArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """(x_min, y_min, x_max, y_max) in projected metres of the given study cells."""
        s = self.cell_m
        x0 = (self.col0 + self.cols[cells]).astype(np.float64) * s
        y0 = (self.row0 + self.rows[cells]).astype(np.float64) * s
        return x0, y0, x0 + s, y0 + s

    def cell_centres(self) -> tuple[FloatArray, FloatArray]:
        """Projected centres of all study cells, in study-cell order."""
        x0, y0, x1, y1 = self.cell_bounds(np.arange(self.n_cells))
        return (x0 + x1) / 2, (y0 + y1) / 2

    def locate(self, points: Points) -> IntArray:
        """The study cell of each point, or -1 for a point outside the study area."""
        x, y = self.projection.forward(points.lon, points.lat)
        return self.locate_xy(x, y)

    def locate_xy(self, x: FloatArray, y: FloatArray) -> IntArray:
        """``locate`` for points already projected."""
        c = np.floor(x / self.cell_m).astype(np.int64) - self.col0
        r = np.floor(y / self.cell_m).astype(np.int64) - self.row0
        nr, nc = self.shape
        inside = (r >= 0) & (r < nr) & (c >= 0) & (c < nc)
        out = np.full(c.shape, -1, dtype=np.int64)
        out[inside] = self.index[r[inside], c[inside]]
        return out

    def count(self, points: Points) -> tuple[NDArray[np.float64], int]:
        """Points per study cell, and how many points fell outside the study area."""
        cells = self.locate(points)
        inside = cells >= 0
        counts = np.bincount(cells[inside], minlength=self.n_cells).astype(np.float64)
        return counts, int(np.count_nonzero(~inside))

    def raster(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """Per-cell values laid out on the raster window, zero outside the study area."""
        out = np.zeros(self.shape, dtype=np.float64)
        out[self.rows, self.cols] = values
        return out

    def raster_counts(self, x: FloatArray, y: FloatArray, weights: FloatArray | None = None) -> FloatArray:
        """Projected points binned on the raster window (points beyond it are dropped)."""
        c = np.floor(x / self.cell_m).astype(np.int64) - self.col0
        r = np.floor(y / self.cell_m).astype(np.int64) - self.row0
        nr, nc = self.shape
        inside = (r >= 0) & (r < nr) & (c >= 0) & (c < nc)
        w = None if weights is None else weights[inside]
        flat = np.bincount(r[inside] * nc + c[inside], weights=w, minlength=nr * nc)
        return np.asarray(flat, dtype=np.float64).reshape(nr, nc)


#: The most cells a study area may have (22,500 km² at 150 m); beyond, the cells grow.
MAX_CELLS = 1_000_000
#: Points farther from the centre than Q3 + OUTLIER_IQR × IQR of all distances are left out of the
#: study area's hull (they still count, as incidents outside it): one mis-geocoded record in another
#: city would otherwise stretch the study area over the country between.
OUTLIER_IQR = 3.0
OUTLIER_FLOOR_M = 2_000.0


def _core(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    distance = np.hypot(x - np.median(x), y - np.median(y))
    q1, q3 = np.percentile(distance, [25, 75])
    keep = distance <= max(q3 + OUTLIER_IQR * (q3 - q1), OUTLIER_FLOOR_M)
    return x[keep], y[keep]


def build_grid(train: Points, cell_m: float = DEFAULT_CELL_M, projection: Projection | None = None) -> Grid:
    """The study area of the training points: projection about their median unless given."""
    if not (np.isfinite(cell_m) and cell_m > 0):
        raise HotspotError(f"cell side must be a positive number of metres, not {cell_m!r}")
    if len(train) == 0:
        raise HotspotError("no training points: a study area needs at least one incident with coordinates")
    proj = projection or Projection.about(train.lon, train.lat)
    x, y = proj.forward(train.lon, train.lat)
    x, y = _core(x, y)
    hull = shapely.MultiPoint(np.column_stack([x, y])).convex_hull.buffer(cell_m / 2)
    # A force's whole country at 150 m would be millions of cells: the side grows until it fits.
    while hull.area / cell_m**2 > MAX_CELLS:
        cell_m *= 2
        hull = shapely.MultiPoint(np.column_stack([x, y])).convex_hull.buffer(cell_m / 2)
    min_x, min_y, max_x, max_y = hull.bounds
    col0, col1 = int(np.floor(min_x / cell_m)), int(np.floor(max_x / cell_m))
    row0, row1 = int(np.floor(min_y / cell_m)), int(np.floor(max_y / cell_m))
    nr, nc = row1 - row0 + 1, col1 - col0 + 1
    # The hull is convex, so its cut by one row's strip is convex too: a cell of that row meets it
    # exactly when their x-ranges overlap. One intersection per row instead of one per cell.
    y_lo = (row0 + np.arange(nr)) * cell_m
    strips = shapely.box(min_x - cell_m, y_lo, max_x + cell_m, y_lo + cell_m)
    cuts = shapely.intersection(hull, strips)
    has_area = shapely.area(cuts) > 0
    bounds = shapely.bounds(cuts)  # NaN for an empty cut; has_area is false there
    x_lo = (col0 + np.arange(nc)) * cell_m
    with np.errstate(invalid="ignore"):
        meets = (x_lo[None, :] < bounds[:, 2:3]) & (x_lo[None, :] + cell_m > bounds[:, 0:1])
    mask = meets & has_area[:, None]
    rows, cols = np.nonzero(mask)
    index = np.full((nr, nc), -1, dtype=np.int64)
    index[rows, cols] = np.arange(rows.size)
    return Grid(proj, float(cell_m), col0, row0, index, rows.astype(np.int64), cols.astype(np.int64))
