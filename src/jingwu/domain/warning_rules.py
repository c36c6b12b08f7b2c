"""Evaluating an early-warning rule (:mod:`.warning_models`) over the records a service loaded.

Given the records and ``now``, each kind returns its warnings: the stations concerned, the place,
a title in both languages and the evidence as counts and record ids (never a name, a phone or an
ID number; a plate only masked). ``repeat_address`` and ``plate_far_apart`` are here, ``type_spike``
in :mod:`.warning_spikes`; the records, the warnings and their de-duplication in
:mod:`.warning_records` (re-exported here).

Windows are half-open, ``(start, end]``: a repeat-address or spike warning's is the rule's window
ending at ``now``; a plate's runs from ``max_minutes`` before its first sighting to its last.

Pure: no clock, no store. The records are plain values; the service reads only the sources the
model lists, and :func:`prepare` drops anything else it is handed all the same."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from jingwu.domain.geo import haversine_deg_m
from jingwu.domain.warning_models import PlateFarApart, RepeatAddress, Rule
from jingwu.domain.warning_records import (
    MAX_EVIDENCE_IDS,
    MAX_EVIDENCE_PAIRS,
    DisputeRecord,
    IncidentRecord,
    Prepared,
    Raised,
    Records,
    Sighting,
    Site,
    Timeline,
    Warning,
    fresh,
    iso,
    overlaps,
    prepare,
    same_place,
    sites_at,
    type_name,
)
from jingwu.domain.warning_spikes import (
    M_PER_DEG,
    cell_centre,
    cell_counts,
    grid_cell,
    poisson_tail,
    spike_test,
    type_spike,
)


def evaluate(rule: Rule, records: Records, now: datetime, *, since: datetime | None = None) -> list[Warning]:
    """The rule's warnings at ``now``, before de-duplication. ``since``: for a plate rule, the
    start of the period whose sightings are looked at (default: ``max_minutes`` before ``now``)."""
    return evaluate_prepared(prepare(rule, records), now, since=since)


def evaluate_prepared(prepared: Prepared, now: datetime, *, since: datetime | None = None) -> list[Warning]:
    p = prepared.rule.params
    if isinstance(p, RepeatAddress):
        return _repeat_address(p, prepared, now)
    if isinstance(p, PlateFarApart):
        return _plate_far_apart(p, prepared, now, since)
    return type_spike(p, prepared, now)


# ----------------------------------------------------------------------------- repeat address


@dataclass(slots=True)
class PlaceGroup:
    anchor: IncidentRecord
    members: list[IncidentRecord] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)


def places(incidents: Sequence[IncidentRecord], radius_m: float) -> list[PlaceGroup]:
    """Incidents grouped by place, in time order: each joins the earliest place whose address it
    shares (normalised) or whose first incident lies within ``radius_m``; else it starts one."""
    found: list[PlaceGroup] = []
    by_key: dict[str, int] = {}
    grid: dict[tuple[int, int], list[int]] = defaultdict(list)
    cell = max(radius_m, 1.0)
    scale = math.cos(math.radians(incidents[0].lat)) if incidents else 1.0

    def cell_of(lat: float, lon: float) -> tuple[int, int]:
        return math.floor(lat * M_PER_DEG / cell), math.floor(lon * M_PER_DEG * scale / cell)

    for r in incidents:
        index: int | None = by_key.get(r.address_key) if r.address_key else None
        if index is None and radius_m > 0:
            row, col = cell_of(r.lat, r.lon)
            near = [
                i
                for dr in (-1, 0, 1)
                for dc in (-1, 0, 1)
                for i in grid.get((row + dr, col + dc), ())
                if haversine_deg_m(found[i].anchor.lat, found[i].anchor.lon, r.lat, r.lon) <= radius_m
            ]
            index = min(near) if near else None
        if index is None:
            index = len(found)
            found.append(PlaceGroup(r))
            grid[cell_of(r.lat, r.lon)].append(index)
        place = found[index]
        place.members.append(r)
        if r.address_key:
            place.keys.add(r.address_key)
            by_key.setdefault(r.address_key, index)
    return found


def at_place(
    place_keys: Iterable[str], lat: float, lon: float, radius_m: float, key: str, plat: float, plon: float
) -> bool:
    """Whether a record (``key``, ``plat``/``plon``) lies at a place: one of its addresses, or
    within the radius of its point."""
    if key and key in place_keys:
        return True
    return radius_m > 0 and haversine_deg_m(lat, lon, plat, plon) <= radius_m


def _repeat_address(p: RepeatAddress, prepared: Prepared, now: datetime) -> list[Warning]:
    window = timedelta(days=p.window_days)
    warnings: list[Warning] = []
    for place in places(prepared.incidents.between(now - window, now), p.radius_m):
        members = place.members
        if len(members) < p.min_count:
            continue
        anchor = place.anchor
        disputes = [
            d
            for d in prepared.disputes
            if d.open_at(now)
            and at_place(place.keys, anchor.lat, anchor.lon, p.radius_m, d.address_key, d.lat, d.lon)
        ]
        if p.require_open_dispute and not disputes:
            continue
        addresses = Counter(m.address for m in members if m.address)
        address = max(addresses, key=lambda a: (addresses[a], a)) if addresses else None
        keys = Counter(m.address_key for m in members if m.address_key)
        key = anchor.address_key or (max(keys, key=lambda k: (keys[k], k)) if keys else "")
        place_key = f"addr:{key}" if key else f"pt:{anchor.lat:.4f},{anchor.lon:.4f}"
        by_type = Counter(m.type_code for m in members)
        name_zh, name_en = type_name(by_type)
        where_zh, where_en = address or "同一地点", address or "one place"
        with_dispute_zh = "，且有未结纠纷" if disputes else ""
        with_dispute_en = ", with an open dispute there" if disputes else ""
        stations = [m.station_id for m in members] + [d.station_id for d in disputes]
        evidence: dict[str, Any] = {
            "incidents": len(members),
            "incident_ids": [m.id for m in members[-MAX_EVIDENCE_IDS:]],
            "by_type": dict(sorted(by_type.items())),
            "first_at": iso(members[0].at),
            "last_at": iso(members[-1].at),
            "window_days": p.window_days,
            "radius_m": p.radius_m,
            "open_disputes": len(disputes),
            "dispute_ids": sorted(d.id for d in disputes)[:MAX_EVIDENCE_IDS],
        }
        warnings.append(
            Warning(
                place_key=place_key,
                window_start=now - window,
                window_end=now,
                sites=sites_at(stations, anchor.lat, anchor.lon, address),
                title_zh=f"{where_zh}：{p.window_days} 天内 {len(members)} 起{name_zh}警情{with_dispute_zh}",
                title_en=(
                    f"{len(members)} calls of {name_en} in {p.window_days} days at {where_en}"
                    + with_dispute_en
                ),
                evidence=evidence,
                address_keys=tuple(sorted(place.keys)),
            )
        )
    return warnings


# ----------------------------------------------------------------------------- plates


@dataclass(frozen=True, slots=True)
class Pair:
    first: Sighting
    second: Sighting
    metres: float


def impossible_pairs(seen: Sequence[Sighting], max_minutes: int, min_km: float) -> list[Pair]:
    """Pairs of one plate's sightings (in time order) more than ``min_km`` apart within
    ``max_minutes``: a car cannot be in both places, so one plate is on two cars."""
    limit = timedelta(minutes=max_minutes)
    min_m = min_km * 1000
    pairs = []
    for i, a in enumerate(seen):
        for b in seen[i + 1 :]:
            if b.at - a.at > limit:
                break
            metres = haversine_deg_m(a.lat, a.lon, b.lat, b.lon)
            if metres > min_m:
                pairs.append(Pair(a, b, metres))
    return pairs


def _plate_far_apart(
    p: PlateFarApart, prepared: Prepared, now: datetime, since: datetime | None
) -> list[Warning]:
    limit = timedelta(minutes=p.max_minutes)
    start = (since if since is not None else now - limit) - limit
    by_plate: dict[str, list[Sighting]] = defaultdict(list)
    for s in prepared.sightings.between(start, now):
        by_plate[s.plate].append(s)
    warnings = []
    for plate in sorted(by_plate):
        pairs = impossible_pairs(by_plate[plate], p.max_minutes, p.min_km)
        if not pairs:
            continue
        involved = sorted(
            {s.id: s for pair in pairs for s in (pair.first, pair.second)}.values(),
            key=lambda s: (s.at, s.id),
        )
        first_at: dict[str | None, Sighting] = {}
        for s in involved:
            first_at.setdefault(s.station_id, s)
        widest = max(pairs, key=lambda pair: (pair.metres, -(pair.second.at - pair.first.at).total_seconds()))
        km = widest.metres / 1000
        minutes = (widest.second.at - widest.first.at).total_seconds() / 60
        masked = next((s.plate_masked for s in involved if s.plate_masked), None) or "***"
        warnings.append(
            Warning(
                place_key=f"plate:{plate}",
                window_start=involved[0].at - limit,
                window_end=involved[-1].at,
                sites=tuple(Site(st, s.lat, s.lon) for st, s in first_at.items()),
                title_zh=f"车牌 {masked} {minutes:.0f} 分钟内现于相距 {km:.1f} 公里的两地，疑似套牌",
                title_en=(
                    f"Plate {masked} seen {km:.1f} km apart within {minutes:.0f} minutes: possibly cloned"
                ),
                evidence={
                    "plate": masked,
                    "sightings": [
                        {"source": str(s.source), "id": s.id, "at": iso(s.at), "station_id": s.station_id}
                        for s in involved[: MAX_EVIDENCE_PAIRS * 2]
                    ],
                    "pairs": [
                        {
                            "from": pair.first.id,
                            "to": pair.second.id,
                            "km": round(pair.metres / 1000, 2),
                            "minutes": round((pair.second.at - pair.first.at).total_seconds() / 60, 1),
                        }
                        for pair in pairs[:MAX_EVIDENCE_PAIRS]
                    ],
                    "pair_count": len(pairs),
                    "min_km": p.min_km,
                    "max_minutes": p.max_minutes,
                },
                plate=plate,
            )
        )
    return warnings


__all__ = [
    "MAX_EVIDENCE_IDS",
    "DisputeRecord",
    "IncidentRecord",
    "Pair",
    "PlaceGroup",
    "Prepared",
    "Raised",
    "Records",
    "Sighting",
    "Site",
    "Timeline",
    "Warning",
    "at_place",
    "cell_centre",
    "cell_counts",
    "evaluate",
    "evaluate_prepared",
    "fresh",
    "grid_cell",
    "impossible_pairs",
    "overlaps",
    "places",
    "poisson_tail",
    "prepare",
    "same_place",
    "spike_test",
]
