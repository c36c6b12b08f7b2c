"""From what the OSM file holds to the address index's columns: one entry per street (per stretch
of it: two streets of one name far apart are two entries), per intersection of two named streets,
per named place and per house-number address, each with its district (区) and street office (街道)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np
from pypinyin import Style, lazy_pinyin
from scipy.spatial import cKDTree

from jingwu.geocode.boundaries import AdminArea, assemble_all, contains
from jingwu.geocode.model import IndexData
from jingwu.geocode.osm_read import RawOsm, RawPlace, StreetRun
from jingwu.geocode.text import has_cjk, normalise

#: Runs of one street name closer than this are one street (two carriageways, a street the extract
#: or a bridge cuts in pieces); farther apart they are two streets that share a name.
SAME_STREET_M = 150.0
#: Crossing nodes of the same two streets within this distance are one intersection (the four
#: corners where two dual carriageways cross).
SAME_CROSSING_M = 200.0
#: A place of the same name and kind within this distance is the same place (a node and a polygon,
#: two buildings of one shop); a residential community, campus, hospital or station spreads wider.
SAME_PLACE_M = 250.0
SAME_SITE_M = 800.0
_SITES = frozenset({"community", "school", "hospital", "station", "mall"})
#: Spacing of the points along named streets that reverse geocoding looks up.
STREET_SAMPLE_M = 12.0

_EARTH_M = 6_371_008.8


class _Projection:
    """Local metres around the extract's middle (equirectangular: good to ~0.1 % over a city)."""

    def __init__(self, lon0: float, lat0: float) -> None:
        self.lon0, self.lat0 = lon0, lat0
        self.kx = math.radians(1) * _EARTH_M * math.cos(math.radians(lat0))
        self.ky = math.radians(1) * _EARTH_M

    def xy(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        return np.column_stack(
            ((np.asarray(lon) - self.lon0) * self.kx, (np.asarray(lat) - self.lat0) * self.ky)
        )


def _clusters(points: np.ndarray, within_m: float, links: Iterable[tuple[int, int]] = ()) -> list[list[int]]:
    """Groups of point indices joined by nearness (single linkage) or by the extra ``links``."""
    parent = list(range(len(points)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    pairs = cKDTree(points).query_pairs(within_m, output_type="ndarray") if len(points) > 1 else []
    for a, b in [*map(tuple, pairs), *links]:
        ra, rb = root(int(a)), root(int(b))
        if ra != rb:
            parent[ra] = rb
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(points)):
        groups[root(i)].append(i)
    return list(groups.values())


class _Entries:
    def __init__(self) -> None:
        self.kind: list[str] = []
        self.name: list[str] = []
        self.lon: list[float] = []
        self.lat: list[float] = []
        self.key_a: list[str] = []
        self.key_b: list[str] = []
        self.district_hint: list[str] = []
        self.aliases: list[list[str]] = []

    def add(
        self, kind: str, name: str, lon: float, lat: float, key_a: str = "", key_b: str = "", **extra: object
    ) -> int:
        self.kind.append(kind)
        self.name.append(name)
        self.lon.append(lon)
        self.lat.append(lat)
        self.key_a.append(key_a)
        self.key_b.append(key_b)
        self.district_hint.append(str(extra.get("district", "")))
        aliases = extra.get("aliases", [])
        self.aliases.append(list(aliases) if isinstance(aliases, list) else [])
        return len(self.kind) - 1


def build_index(raw: RawOsm) -> IndexData:
    projection = _Projection((raw.box[0] + raw.box[2]) / 2, (raw.box[1] + raw.box[3]) / 2)
    areas = assemble_all(raw.relations, raw.box)
    entries = _Entries()
    street_of_run = _add_streets(entries, raw.streets, projection)
    _add_crossings(entries, raw.streets, street_of_run, projection)
    _add_places(entries, raw.places, projection)
    samples_lon, samples_lat, samples_entry = _street_samples(raw.streets, street_of_run, projection)

    lon, lat = np.array(entries.lon, np.float64), np.array(entries.lat, np.float64)
    district = _area_names(areas, 6, lon, lat)
    subdistrict = _area_names(areas, 8, lon, lat)
    known_districts = {a.name for a in areas if a.level == 6}
    for i, hint in enumerate(entries.district_hint):
        if not district[i] and hint in known_districts:
            district[i] = hint
    # A street that runs through several districts is found under each of them.
    step = max(1, len(samples_lon) // 40_000)
    touched = _area_names(areas, 6, samples_lon[::step], samples_lat[::step])
    spans: dict[int, set[str]] = defaultdict(set)
    for e, d in zip(samples_entry[::step].tolist(), touched, strict=True):
        if d:
            spans[e].add(d)
    districts_all = [
        "|".join(sorted(spans.get(i, set()) | ({district[i]} if district[i] else set())))
        for i in range(len(lon))
    ]

    keys, key_entry = [], []
    for i, (name, aliases) in enumerate(zip(entries.name, entries.aliases, strict=True)):
        if entries.kind[i] == "crossing":
            continue  # found through its two streets, not by its label
        for text in dict.fromkeys([name, *aliases]):
            key = normalise(text)
            if key:
                keys.append(key)
                key_entry.append(i)
    initials = [_initials(k) for k in keys]
    syllables = [" ".join(lazy_pinyin(k)) if has_cjk(k) else "" for k in keys]

    rings = [(a.name, a.level, a.rings) for a in areas]
    return IndexData.from_columns(
        kind=entries.kind,
        name=entries.name,
        lon=lon,
        lat=lat,
        key_a=entries.key_a,
        key_b=entries.key_b,
        district=district,
        subdistrict=subdistrict,
        districts=districts_all,
        keys=keys,
        key_entry=key_entry,
        key_initials=initials,
        key_pinyin=syllables,
        sample_lon=samples_lon,
        sample_lat=samples_lat,
        sample_entry=samples_entry,
        areas=rings,
        above=[name for _, name in raw.province_and_city],
    )


def _initials(key: str) -> str:
    """哈尔滨工业大学 → hebgydx: letters and digits kept, each Chinese character's first letter."""
    if not has_cjk(key):
        return ""
    return "".join(p[:1] for p in lazy_pinyin(key, style=Style.FIRST_LETTER) if p).lower()


def _area_names(areas: Sequence[AdminArea], level: int, lon: np.ndarray, lat: np.ndarray) -> list[str]:
    names = [""] * len(lon)
    for area in areas:
        if area.level != level:
            continue
        for i in np.flatnonzero(contains(area.rings, lon, lat)).tolist():
            names[i] = names[i] or area.name
    return names


def _add_streets(entries: _Entries, runs: Sequence[StreetRun], projection: _Projection) -> list[int]:
    """One entry per stretch of a street name; returns each run's entry."""
    street_of_run = [-1] * len(runs)
    by_name: dict[str, list[int]] = defaultdict(list)
    for r, run in enumerate(runs):
        if run.name:
            by_name[run.name].append(r)
    for name, members in by_name.items():
        lon = np.array([p[1] for r in members for p in runs[r].nodes])
        lat = np.array([p[2] for r in members for p in runs[r].nodes])
        owner = np.repeat(np.arange(len(members)), [len(runs[r].nodes) for r in members])
        xy = projection.xy(lon, lat)
        # Runs that come near each other (or share a node) are one street.
        near = cKDTree(xy).query_pairs(SAME_STREET_M, output_type="ndarray")
        links = {(int(owner[a]), int(owner[b])) for a, b in near if owner[a] != owner[b]}
        starts = np.array([runs[r].nodes[0][1:] for r in members])
        for group in _clusters(projection.xy(starts[:, 0], starts[:, 1]), 0.0, links):
            at = np.flatnonzero(np.isin(owner, group))
            centre = xy[at].mean(axis=0)
            best = at[np.argmin(((xy[at] - centre) ** 2).sum(axis=1))]
            entry = entries.add("street", name, float(lon[best]), float(lat[best]))
            for g in group:
                street_of_run[members[g]] = entry
    return street_of_run


def _add_crossings(
    entries: _Entries, runs: Sequence[StreetRun], street_of_run: Sequence[int], projection: _Projection
) -> None:
    at_node: dict[int, set[int]] = defaultdict(set)
    where: dict[int, tuple[float, float]] = {}
    for r, run in enumerate(runs):
        if street_of_run[r] < 0:
            continue
        for node, lon, lat in run.nodes:
            at_node[node].add(street_of_run[r])
            where[node] = (lon, lat)
    by_pair: dict[tuple[int, int], list[int]] = defaultdict(list)
    for node, streets in at_node.items():
        if len(streets) < 2:
            continue
        ordered = sorted(streets, key=lambda e: entries.name[e])
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                if entries.name[a] != entries.name[b]:
                    by_pair[(a, b)].append(node)
    for (a, b), nodes in by_pair.items():
        points = np.array([where[n] for n in nodes])
        for group in _clusters(projection.xy(points[:, 0], points[:, 1]), SAME_CROSSING_M):
            lon, lat = points[group].mean(axis=0)
            name = f"{entries.name[a]}与{entries.name[b]}交口"
            entries.add("crossing", name, float(lon), float(lat), entries.name[a], entries.name[b])


def _add_places(entries: _Entries, places: Sequence[RawPlace], projection: _Projection) -> None:
    groups: dict[tuple[str, str], list[RawPlace]] = defaultdict(list)
    for place in places:
        # "4", "6#": a building's number inside a community is no place to be searched for.
        if place.kind is not None and sum(c.isalpha() for c in place.name) >= 2:
            groups[(normalise(place.name), place.kind)].append(place)
        if place.street and place.number:
            groups[(normalise(place.street) + "#" + place.number, "address")].append(place)
    for (_, kind), members in groups.items():
        xy = projection.xy(np.array([m.lon for m in members]), np.array([m.lat for m in members]))
        for group in _clusters(xy, SAME_SITE_M if kind in _SITES else SAME_PLACE_M):
            first = members[group[0]]
            aliases = list(dict.fromkeys(a for g in group for a in members[g].aliases))
            if kind == "address":
                label = f"{first.street}{first.number}号"
                entries.add(
                    "address",
                    label,
                    first.lon,
                    first.lat,
                    first.street,
                    first.number,
                    district=first.district,
                )
            else:
                entries.add(kind, first.name, first.lon, first.lat, district=first.district, aliases=aliases)


def _street_samples(
    runs: Sequence[StreetRun], street_of_run: Sequence[int], projection: _Projection
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points every few metres along every named street, with the street entry they belong to."""
    lons, lats, owners = [], [], []
    for r, run in enumerate(runs):
        if street_of_run[r] < 0:
            continue
        lon = np.array([p[1] for p in run.nodes])
        lat = np.array([p[2] for p in run.nodes])
        xy = projection.xy(lon, lat)
        seg = np.hypot(*np.diff(xy, axis=0).T)
        count = np.maximum(np.ceil(seg / STREET_SAMPLE_M).astype(np.int64), 1)
        t = np.concatenate([np.arange(c) / c for c in count.tolist()] + [np.array([1.0])])
        i = np.concatenate([np.full(c, k) for k, c in enumerate(count.tolist())] + [np.array([len(seg) - 1])])
        lons.append(lon[i] + (lon[i + 1] - lon[i]) * t)
        lats.append(lat[i] + (lat[i + 1] - lat[i]) * t)
        owners.append(np.full(len(t), street_of_run[r], np.int64))
    if not lons:
        return np.zeros(0), np.zeros(0), np.zeros(0, np.int64)
    return np.concatenate(lons), np.concatenate(lats), np.concatenate(owners)


__all__ = ["build_index"]
