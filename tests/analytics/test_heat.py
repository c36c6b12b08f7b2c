"""The heat map's cells: counts per square cell of the hotspot grid, bounds in WGS-84, busiest
first; periods the records cannot map are refused with CompStat's codes."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from jingwu.analytics.heat import MAX_HEAT_CELLS, check_period, heat_cells
from jingwu.analytics.hotspots.projection import Projection
from jingwu.analytics.periods import parse_period
from jingwu.analytics.store import Span
from jingwu.errors import ValidationFailed

CENTRE = Projection(126.64, 45.76)


def _points_at(xy_m: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 points at these projected metres from the centre."""
    x, y = np.array([p[0] for p in xy_m]), np.array([p[1] for p in xy_m])
    return CENTRE.inverse(x, y)


def test_points_are_counted_in_the_cell_they_fall_in_busiest_first() -> None:
    lon, lat = _points_at([(10, 10), (90, 40), (60, 99), (150, 10), (-10, -10)])
    found = heat_cells(lon, lat, CENTRE, 100.0)
    counts = [c[4] for c in found["cells"]]
    assert counts == [3, 1, 1] and found["located"] == 5 and found["max"] == 3
    south, west, north, east, _ = found["cells"][0]
    # Cell (0, 0) spans 0…100 m east and north of the centre: its corners project back onto them.
    x0, y0 = CENTRE.forward(np.array([west]), np.array([south]))
    x1, y1 = CENTRE.forward(np.array([east]), np.array([north]))
    assert np.allclose([x0[0], y0[0], x1[0], y1[0]], [0, 0, 100, 100], atol=0.05)


def test_the_same_projection_puts_a_point_in_the_same_cell_whatever_else_is_counted() -> None:
    lon, lat = _points_at([(120, 340)])
    alone = heat_cells(lon, lat, CENTRE, 250.0)["cells"][0][:4]
    more_lon, more_lat = _points_at([(120, 340), (5000, -3000), (-800, 90)])
    among = {tuple(c[:4]) for c in heat_cells(more_lon, more_lat, CENTRE, 250.0)["cells"]}
    assert tuple(alone) in among


def test_no_points_make_an_empty_map_and_bad_sizes_or_too_many_cells_are_refused() -> None:
    empty = heat_cells(np.zeros(0), np.zeros(0), CENTRE, 250.0)
    assert empty["cells"] == [] and empty["located"] == 0 and empty["max"] == 0
    with pytest.raises(ValidationFailed) as bad:
        heat_cells(np.zeros(0), np.zeros(0), CENTRE, 10.0)
    assert bad.value.code == "bad_cell_size"
    side = int(np.ceil(np.sqrt(MAX_HEAT_CELLS + 1)))
    grid = [(i * 100.0 + 50, j * 100.0 + 50) for i in range(side) for j in range(side)]
    lon, lat = _points_at(grid)
    with pytest.raises(ValidationFailed) as fine:
        heat_cells(lon, lat, CENTRE, 100.0)
    assert fine.value.code == "heat_too_fine"


def test_a_period_is_refused_outside_the_data_or_finer_than_its_months() -> None:
    daily = Span(datetime(2024, 1, 1), datetime(2025, 12, 30), monthly=False)
    check_period(daily, parse_period("2025-W10"))  # inside: no refusal
    for span, text, code in (
        (None, "2025-06", "no_records"),
        (daily, "2030-01", "period_outside_data"),
        (
            Span(datetime(2019, 7, 1), datetime(2019, 8, 1), monthly=True),
            "2019-W28",
            "period_finer_than_data",
        ),
    ):
        with pytest.raises(ValidationFailed) as refused:
            check_period(span, parse_period(text))
        assert refused.value.code == code
