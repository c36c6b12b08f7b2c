"""The values an early-warning rule works on and gives (:mod:`.warning_rules`): the records a
service loaded (incidents, disputes, plates seen), the warnings with the stations and places they
concern, the records cut to what a rule may read, and the de-duplication of warnings.

A warning of the same model at the same place whose window overlaps an earlier one's is not
raised again (:func:`fresh`), so a rule run every few minutes over a sliding window raises one
warning per place and window, not one per run. Windows are half-open, ``(start, end]``.

Pure: no clock, no store."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from jingwu.domain.geo import haversine_deg_m
from jingwu.domain.incident_types import INCIDENT_TYPES
from jingwu.domain.warning_models import RepeatAddress, Rule, Source, sources_read

#: Record ids kept in one warning's evidence (the counts are always whole).
MAX_EVIDENCE_IDS = 100
MAX_EVIDENCE_PAIRS = 20


# ----------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    id: str
    type_code: str
    at: datetime
    lat: float
    lon: float
    station_id: str | None
    address: str | None = None
    address_key: str = ""  # domain.disputes.address_key of the address


@dataclass(frozen=True, slots=True)
class DisputeRecord:
    id: str
    lat: float
    lon: float
    address_key: str
    station_id: str | None
    opened_at: datetime
    closed_at: datetime | None = None

    def open_at(self, when: datetime) -> bool:
        return self.opened_at <= when and (self.closed_at is None or self.closed_at > when)


@dataclass(frozen=True, slots=True)
class Sighting:
    """A plate seen: at a community gate (an access event) or in a patrol vehicle check."""

    source: Source  # Source.ACCESS_EVENTS or Source.CHECKS
    id: str
    plate: str  # the plate's keyed blind index: the same car has the same index in both sources
    plate_masked: str | None
    at: datetime
    lat: float
    lon: float
    station_id: str | None
    hit: bool = False  # a check that matched a watch list


@dataclass(frozen=True, slots=True)
class Records:
    """What a service read, and from which sources (``read``)."""

    read: frozenset[Source]
    incidents: tuple[IncidentRecord, ...] = ()
    disputes: tuple[DisputeRecord, ...] = ()
    sightings: tuple[Sighting, ...] = ()


# ----------------------------------------------------------------------------- warnings


@dataclass(frozen=True, slots=True)
class Site:
    """A station concerned and the place it is concerned with."""

    station_id: str | None
    lat: float
    lon: float
    address: str | None = None


@dataclass(frozen=True, slots=True)
class Warning:
    place_key: str
    window_start: datetime
    window_end: datetime
    sites: tuple[Site, ...]  # one per station concerned; the first is the main place
    title_zh: str
    title_en: str
    evidence: Mapping[str, Any]  # JSON-ready: counts and record ids
    # What the back-test matches the follow-up against (not shown).
    address_keys: tuple[str, ...] = ()
    plate: str | None = None
    type_code: str | None = None
    history: tuple[int, ...] = ()

    @property
    def lat(self) -> float:
        return self.sites[0].lat

    @property
    def lon(self) -> float:
        return self.sites[0].lon


@dataclass(frozen=True, slots=True)
class Raised:
    """An earlier warning, as far as de-duplication needs it."""

    place_key: str
    lat: float
    lon: float
    window_start: datetime
    window_end: datetime

    @classmethod
    def of(cls, warning: Warning) -> Raised:
        return cls(warning.place_key, warning.lat, warning.lon, warning.window_start, warning.window_end)


def same_place(rule: Rule, a: Raised, b: Raised) -> bool:
    """The same place key; for a repeat address also within twice the radius (a place's anchor,
    its earliest call in the window, moves as the window slides, never farther than that)."""
    if a.place_key == b.place_key:
        return True
    p = rule.params
    if isinstance(p, RepeatAddress) and p.radius_m > 0:
        return haversine_deg_m(a.lat, a.lon, b.lat, b.lon) <= 2 * p.radius_m
    return False


def overlaps(a: Raised, b: Raised) -> bool:
    return a.window_start < b.window_end and b.window_start < a.window_end


def fresh(rule: Rule, found: Iterable[Warning], raised: Iterable[Raised]) -> list[Warning]:
    """The warnings of ``found`` that are new: none earlier (in ``raised``, or before it in
    ``found``) at the same place with an overlapping window."""
    seen = list(raised)
    kept: list[Warning] = []
    for warning in found:
        candidate = Raised.of(warning)
        if any(overlaps(candidate, e) and same_place(rule, candidate, e) for e in seen):
            continue
        kept.append(warning)
        seen.append(candidate)
    return kept


# ----------------------------------------------------------------------------- preparing

T = TypeVar("T", IncidentRecord, Sighting)


class Timeline(Generic[T]):
    """Records in time order, cut by ``(start, end]`` in O(log n)."""

    def __init__(self, items: Iterable[T]) -> None:
        self.items: list[T] = sorted(items, key=lambda r: (r.at, r.id))
        self.times: list[datetime] = [r.at for r in self.items]

    def between(self, start: datetime, end: datetime) -> list[T]:
        return self.items[bisect_right(self.times, start) : bisect_right(self.times, end)]


@dataclass(frozen=True, slots=True)
class Prepared:
    rule: Rule
    incidents: Timeline[IncidentRecord]
    disputes: tuple[DisputeRecord, ...]
    sightings: Timeline[Sighting]


def prepare(rule: Rule, records: Records) -> Prepared:
    """The records the rule may read, of the types it watches, in time order."""
    allowed = sources_read(rule) & records.read
    codes = rule.type_codes
    incidents = [r for r in records.incidents if r.type_code in codes] if Source.INCIDENTS in allowed else []
    disputes = records.disputes if Source.DISPUTES in allowed else ()
    sightings = [s for s in records.sightings if s.source in allowed]
    return Prepared(rule, Timeline(incidents), tuple(disputes), Timeline(sightings))


def iso(when: datetime) -> str:
    return when.isoformat()


def type_name(codes: Iterable[str]) -> tuple[str, str]:
    distinct = sorted(set(codes))
    if len(distinct) == 1 and distinct[0] in INCIDENT_TYPES:
        t = INCIDENT_TYPES[distinct[0]]
        return t.name_zh, t.name_en
    return "所选类型", "the watched types"


def sites_at(stations: Iterable[str | None], lat: float, lon: float, address: str | None) -> tuple[Site, ...]:
    """One site per distinct station (in order of first appearance), all at one place."""
    return tuple(Site(s, lat, lon, address) for s in dict.fromkeys(stations))


__all__ = [
    "MAX_EVIDENCE_IDS",
    "MAX_EVIDENCE_PAIRS",
    "DisputeRecord",
    "IncidentRecord",
    "Prepared",
    "Raised",
    "Records",
    "Sighting",
    "Site",
    "Timeline",
    "Warning",
    "fresh",
    "iso",
    "overlaps",
    "prepare",
    "same_place",
    "sites_at",
    "type_name",
]
