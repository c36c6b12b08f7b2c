"""Forward geocoding: what a call taker typed → the index's entries, best first.

A query is read several ways at once (as typed; with the province, city, district and street office
in front taken off; as a street and house number; as two crossing streets) and every reading's
candidates are scored 0..100: the exact name 100, a homophone typo (the pinyin IME's wrong
character) just below, a prefix of the name by how much of it was typed, then edit-distance
similarity. A district that was named lifts the entries in it and sinks those outside it.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process
from scipy.spatial import cKDTree

from jingwu.geocode.model import IndexData, Match
from jingwu.geocode.text import has_cjk, normalise, split_crossing, split_house_number, strip_admin_suffix

#: Among equal scores: an exact address before a crossing before a street before a place.
_KIND_ORDER = {
    "address": 0,
    "crossing": 1,
    "street": 2,
    "community": 3,
    "school": 3,
    "hospital": 3,
    "station": 3,
    "mall": 3,
    "place": 4,
    "stop": 5,
}

#: How much a district that was named moves an entry: in it, up; known to be elsewhere, down.
IN_DISTRICT = 4.0
OTHER_DISTRICT = -12.0
#: A street found but not the house number asked for: the street, marked down by this much.
NUMBER_MISSING = 15.0
_Offer = Callable[[int, float], None]

#: Two streets that share no node but come this close meet there (at a roundabout, a square).
MEETING_WITHIN_M = 120.0
_M_PER_DEG = 111_195.0

#: Candidates taken from each way of matching before scoring.
_FEW = 24


@dataclass(frozen=True, slots=True)
class _Reading:
    text: str
    district: str  # "" when the query named none
    subdistrict: str


def lazy_pinyin(text: str) -> list[str]:
    """pypinyin's, imported on first use: loading its dictionaries takes most of a second, which a
    server start need not wait for (the index is loaded, and this warmed, in the background)."""
    from pypinyin import lazy_pinyin as convert

    return list(convert(text))


class Searcher:
    def __init__(self, data: IndexData) -> None:
        lazy_pinyin("哈")  # the dictionaries, loaded here with the index rather than at the first query
        self._d = data
        self._kind: list[str] = data.kind.tolist()
        self._name: list[str] = data.name.tolist()
        self._district: list[str] = data.district.tolist()
        self._subdistrict: list[str] = data.subdistrict.tolist()
        self._districts: list[frozenset[str]] = [
            frozenset(filter(None, d.split("|"))) for d in data.districts
        ]
        self._lat: list[float] = data.lat.tolist()
        self._lon: list[float] = data.lon.tolist()
        self._keys: list[str] = data.keys.tolist()
        self._key_entry: list[int] = data.key_entry.tolist()
        self._initials: list[str] = data.key_initials.tolist()
        self._pinyin: list[str] = data.key_pinyin.tolist()
        self._exact: dict[str, list[int]] = defaultdict(list)
        for k, key in enumerate(self._keys):
            self._exact[key].append(k)
        self._sorted = sorted((key, k) for k, key in enumerate(self._keys))
        self._blob = "\n".join(self._keys)
        self._blob_starts = [0]
        for key in self._keys[:-1]:
            self._blob_starts.append(self._blob_starts[-1] + len(key) + 1)
        self._sorted_keys = [key for key, _ in self._sorted]
        self._initials_exact: dict[str, list[int]] = defaultdict(list)
        for k, initials in enumerate(self._initials):
            if initials:
                self._initials_exact[initials].append(k)
        # Streets by name; crossings and addresses by their streets.
        self._streets: dict[str, list[int]] = defaultdict(list)
        self._crossings: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        self._addresses: dict[tuple[str, str], list[int]] = defaultdict(list)
        for e, kind in enumerate(self._kind):
            if kind == "street":
                self._streets[normalise(self._name[e])].append(e)
            elif kind == "crossing":
                a, b = normalise(str(data.key_a[e])), normalise(str(data.key_b[e]))
                self._crossings[a][b].append(e)
                self._crossings[b][a].append(e)
            elif kind == "address":
                self._addresses[(normalise(str(data.key_a[e])), str(data.key_b[e]))].append(e)
        self._street_names = sorted(self._streets)
        # Each street's points (for two streets that meet without a shared node: a roundabout).
        order = np.argsort(data.sample_entry, kind="stable")
        self._sample_order = order
        self._sample_xy = np.column_stack(
            (
                data.sample_lon[order] * _M_PER_DEG * np.cos(np.radians(data.sample_lat[order])),
                data.sample_lat[order] * _M_PER_DEG,
            )
        )
        bounds = np.searchsorted(data.sample_entry[order], np.arange(len(self._kind) + 1))
        self._sample_span = bounds
        self._admin = self._admin_names(data)

    @staticmethod
    def _admin_names(data: IndexData) -> list[tuple[str, int, str]]:
        """(what may be typed, level, the area's name): full names and short forms, longest first;
        level 0 for the province and city, whose names are only taken off."""
        names: dict[str, tuple[int, str]] = {}
        for name in data.above.tolist():
            for form in (name, strip_admin_suffix(name)):
                if form:
                    names.setdefault(normalise(form), (0, name))
        for name, level in zip(data.area_name.tolist(), data.area_level.tolist(), strict=True):
            for form in (name, strip_admin_suffix(name)):
                if form:
                    names.setdefault(normalise(form), (int(level), name))
        return sorted(((t, lv, n) for t, (lv, n) in names.items()), key=lambda x: -len(x[0]))

    # ------------------------------------------------------------------ the query

    def search(self, text: str, limit: int = 10) -> list[Match]:
        query = normalise(text, query=True)
        if not query:
            return []
        scores: dict[int | _Meeting, float] = {}
        for reading in self._readings(query):
            for entry, score in self._candidates(reading.text):
                spans = self._districts[entry] if isinstance(entry, int) else entry.districts
                if reading.district:
                    score += IN_DISTRICT if reading.district in spans else 0.0
                    if spans and reading.district not in spans:
                        score += OTHER_DISTRICT
                subdistrict = self._subdistrict[entry] if isinstance(entry, int) else entry.subdistrict
                if reading.subdistrict and subdistrict == reading.subdistrict:
                    score += 1.0
                if score > scores.get(entry, -1.0):
                    scores[entry] = score
        ranked = sorted(scores.items(), key=lambda es: (-es[1], *self._order(es[0])))
        return [self._match(e, s) for e, s in ranked[:limit]]

    def _order(self, entry: int | _Meeting) -> tuple[int, int]:
        if isinstance(entry, int):
            return _KIND_ORDER.get(self._kind[entry], 9), len(self._name[entry])
        return _KIND_ORDER["crossing"], len(entry.label)

    def _match(self, entry: int | _Meeting, score: float) -> Match:
        score = round(max(0.0, min(score, 100.0)), 1)
        if not isinstance(entry, int):
            return Match(
                entry.label, entry.lat, entry.lon, "crossing", entry.district, entry.subdistrict, score
            )
        return Match(
            label=self._name[entry],
            lat=self._lat[entry],
            lon=self._lon[entry],
            kind=self._kind[entry],
            district=self._district[entry],
            subdistrict=self._subdistrict[entry],
            score=score,
        )

    def _readings(self, query: str) -> list[_Reading]:
        """The query as typed, and with the admin names in front of it taken off one by one."""
        readings = [_Reading(query, "", "")]
        rest, district, subdistrict = query, "", ""
        progress = True
        while progress and rest:
            progress = False
            for typed, level, name in self._admin:
                if rest.startswith(typed) and len(rest) > len(typed):
                    rest = rest[len(typed) :]
                    district = name if level == 6 else district
                    subdistrict = name if level == 8 else subdistrict
                    readings.append(_Reading(rest, district, subdistrict))
                    progress = True
                    break
        return readings

    def _candidates(self, text: str) -> Iterable[tuple[int | _Meeting, float]]:
        yield from self._by_name(text)
        number = split_house_number(text)
        if number is not None:
            yield from self._by_house_number(number.street, number.number)
        for first, second in split_crossing(text):
            yield from self._by_crossing(first, second)

    # ------------------------------------------------------------------ names

    def _by_name(self, text: str) -> Iterable[tuple[int, float]]:
        found: dict[int, float] = {}

        def offer(key: int, score: float) -> None:
            entry = self._key_entry[key]
            if score > found.get(entry, -1.0):
                found[entry] = score

        for k in self._exact.get(text, ()):
            offer(k, 100.0)
        # A prefix: what a call taker has typed so far.
        at = bisect.bisect_left(self._sorted_keys, text)
        for key, k in self._sorted[at : at + _FEW * 4]:
            if not key.startswith(text):
                break
            offer(k, 84.0 + 12.0 * len(text) / len(key))
        if text.isascii() and text.isalpha() and len(text) >= 2:
            self._by_initials(text, offer)
        if len(text) >= 2:
            if has_cjk(text):
                for k in self._containing(text):
                    offer(k, 72.0 + 16.0 * len(text) / len(self._keys[k]))
            self._by_similarity(text, offer)
        return found.items()

    def _containing(self, text: str) -> list[int]:
        """Keys that hold the text but are not it (found in one string of all keys, in C)."""
        found: list[int] = []
        at = self._blob.find(text)
        while at >= 0 and len(found) < _FEW * 8:
            k = bisect.bisect_right(self._blob_starts, at) - 1
            if self._keys[k] != text:
                found.append(k)
            at = self._blob.find(
                text, self._blob_starts[k + 1] if k + 1 < len(self._keys) else len(self._blob)
            )
        return found

    def _by_initials(self, text: str, offer: _Offer) -> None:
        for k in self._initials_exact.get(text, ()):
            offer(k, 94.0)
        for _, score, k in process.extract(
            text, self._initials, scorer=fuzz.ratio, limit=_FEW, score_cutoff=70
        ):
            if self._initials[k].startswith(text):
                offer(k, 80.0 + 12.0 * len(text) / len(self._initials[k]))
            else:
                offer(k, 0.85 * score)

    def _by_similarity(self, text: str, offer: _Offer) -> None:
        """Edit-distance neighbours; one with the same pinyin is an IME typo and ranks just under
        an exact match."""
        sound = lazy_pinyin(text) if has_cjk(text) else []
        for _, score, k in process.extract(text, self._keys, scorer=fuzz.ratio, limit=_FEW, score_cutoff=55):
            key = self._keys[k]
            if sound and len(key) == len(text) and self._pinyin[k].split(" ") == sound:
                offer(k, 97.0 - 2.0 * sum(a != b for a, b in zip(key, text, strict=True)))
            else:
                offer(k, 0.9 * score)

    # ------------------------------------------------------------------ streets

    def _street_names_like(self, text: str) -> list[tuple[str, float]]:
        """Street names the text may mean, with how well it matches them."""
        if text in self._streets:
            return [(text, 100.0)]
        found: dict[str, float] = {}
        at = bisect.bisect_left(self._street_names, text)
        for name in self._street_names[at : at + _FEW]:
            if not name.startswith(text):
                break
            found[name] = 84.0 + 12.0 * len(text) / len(name)
        sound = lazy_pinyin(text) if has_cjk(text) else []
        for name, score, _ in process.extract(
            text, self._street_names, scorer=fuzz.ratio, limit=8, score_cutoff=60
        ):
            if sound and len(name) == len(text) and lazy_pinyin(name) == sound:
                score = 97.0
            else:
                score *= 0.9
            found[name] = max(found.get(name, 0.0), score)
        return sorted(found.items(), key=lambda ns: -ns[1])[:8]

    def _by_house_number(self, street: str, number: str) -> Iterable[tuple[int, float]]:
        for name, score in self._street_names_like(street)[:4] or [(street, 100.0)]:
            exact = self._addresses.get((name, number))
            if exact:
                yield from ((e, score) for e in exact)
            else:
                yield from ((e, score - NUMBER_MISSING) for e in self._streets.get(name, ()))
        # An address whose street is not a street we know (tagged on a building only).
        for e in self._addresses.get((street, number), ()):
            yield e, 100.0

    def _by_crossing(self, first: str, second: str) -> Iterable[tuple[int | _Meeting, float]]:
        for name, score_a in self._street_names_like(first)[:4]:
            partners = self._crossings.get(name, {})
            if second in self._streets and second not in partners:
                # Named in full but sharing no node: they may meet at a roundabout or a square.
                yield from self._meeting(name, second, score_a)
                continue
            if second in partners:
                yield from ((e, min(score_a, 100.0)) for e in partners[second])
                continue
            options = list(partners)
            for other in options:
                if other.startswith(second):
                    score_b = 84.0 + 12.0 * len(second) / len(other)
                    yield from ((e, min(score_a, score_b)) for e in partners[other])
            sound = lazy_pinyin(second) if has_cjk(second) else []
            for other, score_b, _ in process.extract(
                second, options, scorer=fuzz.ratio, limit=3, score_cutoff=60
            ):
                if sound and len(other) == len(second) and lazy_pinyin(other) == sound:
                    score_b = 97.0
                else:
                    score_b *= 0.9
                yield from ((e, min(score_a, score_b)) for e in partners[other])

    def _meeting(self, first: str, second: str, score: float) -> Iterable[tuple[_Meeting, float]]:
        """Where two streets of these names come within ``MEETING_WITHIN_M`` of each other."""
        for a in self._streets[first]:
            for b in self._streets[second]:
                pa = self._sample_xy[self._sample_span[a] : self._sample_span[a + 1]]
                pb = self._sample_xy[self._sample_span[b] : self._sample_span[b + 1]]
                if not len(pa) or not len(pb):
                    continue
                distance, (x, y) = _closest(pa, pb)
                if distance > MEETING_WITHIN_M:
                    continue
                lat = y / _M_PER_DEG
                lon = x / (_M_PER_DEG * math.cos(math.radians(lat)))
                names = sorted((self._name[a], self._name[b]))
                meeting = _Meeting(
                    label=f"{names[0]}与{names[1]}交口",
                    lat=round(lat, 7),
                    lon=round(lon, 7),
                    district=self._district[a],
                    subdistrict=self._subdistrict[a],
                    districts=self._districts[a] | self._districts[b],
                )
                yield meeting, score - distance / MEETING_WITHIN_M * 5.0


@dataclass(frozen=True, slots=True)
class _Meeting:
    """Two streets that meet without sharing a node: found at query time, not an entry."""

    label: str
    lat: float
    lon: float
    district: str
    subdistrict: str
    districts: frozenset[str]


def _closest(a: np.ndarray, b: np.ndarray) -> tuple[float, np.ndarray]:
    """The closest pair of points of two point sets: its distance and midpoint."""
    distance, j = cKDTree(b).query(a)
    i = int(np.argmin(distance))
    return float(distance[i]), (a[i] + b[int(j[i])]) / 2


__all__ = ["IN_DISTRICT", "MEETING_WITHIN_M", "NUMBER_MISSING", "OTHER_DISTRICT", "Searcher"]
