"""The ``type_spike`` rule: the count of one type in one grid cell over the last window against
the same cell's own history, by a Poisson tail probability or a z-score (docs/warning-models.md).

Pure: no clock, no store."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from jingwu.domain.warning_models import SpikeMethod, TypeSpike
from jingwu.domain.warning_records import (
    MAX_EVIDENCE_IDS,
    IncidentRecord,
    Prepared,
    Warning,
    sites_at,
    type_name,
)

#: Metres per degree of latitude, for the grid (an equal-area grid is not needed: a cell is
#: compared with its own history only).
M_PER_DEG = 111_320.0


def poisson_tail(k: int, lam: float) -> float:
    """P(X ≥ k) for X ~ Poisson(lam), summed from the smaller side so that small tails keep
    their digits."""
    if k <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    log_lam = math.log(lam)

    def term(i: int) -> float:
        return math.exp(-lam + i * log_lam - math.lgamma(i + 1))

    if k <= lam:
        return max(0.0, 1.0 - sum(term(i) for i in range(k)))
    total, i, t = 0.0, k, term(k)
    while t > 0 and t > total * 1e-17 and i < k + 100_000:
        total += t
        i += 1
        t *= lam / i
    return min(1.0, total)


@dataclass(frozen=True, slots=True)
class SpikeTest:
    passed: bool
    mean: float
    p: float | None = None
    z: float | None = None


def spike_test(p: TypeSpike, count: int, history: Sequence[int]) -> SpikeTest:
    """The current count against the cell's own history. Poisson: the tail probability under the
    history's mean λ (at least 1/(2·history_windows), so a never-seen type still needs
    ``min_count``); z-score: (count − mean) / max(standard deviation, 1)."""
    mean = sum(history) / len(history)
    if count < p.min_count:
        return SpikeTest(False, mean)
    if p.method is SpikeMethod.POISSON:
        tail = poisson_tail(count, max(mean, 1 / (2 * len(history))))
        return SpikeTest(tail <= p.max_p, mean, p=tail)
    sd = math.sqrt(sum((h - mean) ** 2 for h in history) / len(history))
    z = (count - mean) / max(sd, 1.0)
    return SpikeTest(z >= p.min_z, mean, z=z)


def grid_cell(lat: float, lon: float, cell_m: int) -> tuple[int, int]:
    """(row, column) of a square-ish cell of ``cell_m`` metres: rows by latitude, columns by
    longitude scaled at the row's middle, so every point of a row uses the same scale."""
    row = math.floor(lat * M_PER_DEG / cell_m)
    middle = (row + 0.5) * cell_m / M_PER_DEG
    return row, math.floor(lon * M_PER_DEG * math.cos(math.radians(middle)) / cell_m)


def cell_centre(row: int, col: int, cell_m: int) -> tuple[float, float]:
    lat = (row + 0.5) * cell_m / M_PER_DEG
    return lat, (col + 0.5) * cell_m / (M_PER_DEG * math.cos(math.radians(lat)))


def cell_counts(
    incidents: Iterable[IncidentRecord], now: datetime, window: timedelta, windows: int, cell_m: int
) -> dict[tuple[int, int, str], list[list[IncidentRecord]]]:
    """Per (row, column, type): the incidents of each window back from ``now``, the current
    window first: window i holds ``(now − (i+1)·window, now − i·window]``."""
    counts: dict[tuple[int, int, str], list[list[IncidentRecord]]] = {}
    for r in incidents:
        index = (now - r.at) // window
        if not 0 <= index < windows:
            continue
        row, col = grid_cell(r.lat, r.lon, cell_m)
        counts.setdefault((row, col, r.type_code), [[] for _ in range(windows)])[index].append(r)
    return counts


def type_spike(p: TypeSpike, prepared: Prepared, now: datetime) -> list[Warning]:
    window = timedelta(days=p.window_days)
    windows = p.history_windows + 1
    recent = prepared.incidents.between(now - window * windows, now)
    warnings = []
    for (row, col, code), by_window in sorted(cell_counts(recent, now, window, windows, p.cell_m).items()):
        current = by_window[0]
        history = tuple(len(w) for w in by_window[1:])
        test = spike_test(p, len(current), history)
        if not test.passed:
            continue
        lat, lon = cell_centre(row, col, p.cell_m)
        name_zh, name_en = type_name([code])
        stat: dict[str, Any] = {"p": test.p} if test.p is not None else {"z": round(test.z or 0.0, 3)}
        warnings.append(
            Warning(
                place_key=f"cell:{p.cell_m}:{row}:{col}:{code}",
                window_start=now - window,
                window_end=now,
                sites=sites_at([r.station_id for r in current], lat, lon, None),
                title_zh=(
                    f"{name_zh}：网格内近 {p.window_days} 天 {len(current)} 起，"
                    f"此前每 {p.window_days} 天平均 {test.mean:.1f} 起"
                ),
                title_en=(
                    f"{name_en}: {len(current)} in one grid cell in {p.window_days} days, "
                    f"against {test.mean:.1f} per {p.window_days} days before"
                ),
                evidence={
                    "type": code,
                    "count": len(current),
                    "history": list(history),
                    "mean": round(test.mean, 3),
                    "method": str(p.method),
                    **stat,
                    "window_days": p.window_days,
                    "cell": {"size_m": p.cell_m, "row": row, "col": col},
                    "incident_ids": [r.id for r in current[-MAX_EVIDENCE_IDS:]],
                },
                type_code=code,
                history=history,
            )
        )
    return warnings


__all__ = [
    "M_PER_DEG",
    "SpikeTest",
    "cell_centre",
    "cell_counts",
    "grid_cell",
    "poisson_tail",
    "spike_test",
    "type_spike",
]
