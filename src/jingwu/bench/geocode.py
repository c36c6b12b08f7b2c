"""``jingwu bench geocode``: how often the first suggestion is the right place, and how fast.

Addresses are drawn with a seed from the index built from the city's OSM data (streets,
intersections, named places, house-number addresses), never picked by hand. Each is asked once
clean, as a call taker would write it in full (district + name), and once with the noise of a real
call: the district or its 区 left off, the city put in front, 號 for 号, full-width digits, the two
streets of an intersection swapped, one character wrong (an IME homophone or any other character),
or a place's pinyin initials. A hit is a first answer within 50 m of the true point."""

from __future__ import annotations

import math
import platform
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from pypinyin import lazy_pinyin

from jingwu.geocode import Geocoder, load_geocoder
from jingwu.geocode.text import has_cjk, strip_admin_suffix
from jingwu.settings import bundled_osm_file

HIT_WITHIN_M = 50.0
#: The share of each kind of address in the sample (what a city's calls name).
MIX = {"street": 0.3, "crossing": 0.25, "place": 0.35, "address": 0.1}
PLACE_KINDS = ("community", "school", "hospital", "station", "mall", "place")
_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


def sample_entries(geocoder: Geocoder, n: int, rng: np.random.Generator) -> list[int]:
    """``n`` entries drawn at random, kinds in the proportions of ``MIX`` (as far as there are)."""
    kinds = geocoder.data.kind
    pools = {
        "street": np.flatnonzero(kinds == "street"),
        "crossing": np.flatnonzero(kinds == "crossing"),
        "place": np.flatnonzero(np.isin(kinds, PLACE_KINDS)),
        "address": np.flatnonzero(kinds == "address"),
    }
    chosen: list[int] = []
    want = {k: round(n * share) for k, share in MIX.items()}
    short = 0
    for kind in ("address", "crossing", "street", "place"):  # the scarce first; the rest make up
        take = min(want[kind] + short, len(pools[kind]))
        short = want[kind] + short - take
        chosen.extend(rng.choice(pools[kind], size=take, replace=False).tolist())
    return chosen


class _Noise:
    """Ways a call taker's text differs from the index's, applied one at a time."""

    def __init__(self, geocoder: Geocoder, rng: np.random.Generator) -> None:
        self.rng = rng
        self.city = [strip_admin_suffix(a) or a for a in geocoder.data.above.tolist()][-1:] or [""]
        chars = sorted({c for name in geocoder.data.name.tolist() for c in name if has_cjk(c)})
        self.chars = chars
        self.homophones: dict[str, list[str]] = defaultdict(list)
        for c in chars:
            self.homophones[lazy_pinyin(c)[0]].append(c)

    def apply(self, kind: str, name: str, district: str, a: str, b: str) -> tuple[str, str]:
        """(the noise's name, the query)."""
        options = ["no district", "short district", "city in front"]
        if any(ch.isdigit() for ch in name):
            options.append("full-width digits")
        if kind == "address":
            options.append("號")
        if kind == "crossing":
            options.append("swapped")
        if sum(has_cjk(c) for c in (min(a, b, key=len) if kind == "crossing" else name)) >= 3:
            options.append("typo")
        if kind in PLACE_KINDS and has_cjk(name):
            options.append("pinyin initials")
        noise = options[int(self.rng.integers(len(options)))]
        if noise == "no district":
            return noise, name
        if noise == "short district":
            return noise, (strip_admin_suffix(district) or district) + name
        if noise == "city in front":
            return noise, self.city[0] + "市" + district + name if self.city[0] else district + name
        if noise == "full-width digits":
            return noise, district + name.translate(_FULL_WIDTH)
        if noise == "號":
            return noise, district + name.replace("号", "號")
        if noise == "swapped":
            return noise, district + f"{b}与{a}交口"
        if noise == "typo" and kind == "crossing":
            return noise, district + (
                f"{self._typo(a)}与{b}交口" if self.rng.random() < 0.5 else f"{a}与{self._typo(b)}交口"
            )
        if noise == "typo":
            return noise, district + self._typo(name)
        return noise, "".join(p[:1] for p in lazy_pinyin(name))

    def _typo(self, name: str) -> str:
        """One Chinese character replaced: half the time by one that sounds the same (the IME's
        wrong pick), else by any other character of the city's names."""
        at = [i for i, c in enumerate(name) if has_cjk(c)]
        i = at[int(self.rng.integers(len(at)))]
        same = [c for c in self.homophones.get(lazy_pinyin(name[i])[0], []) if c != name[i]]
        if same and self.rng.random() < 0.5:
            new = same[int(self.rng.integers(len(same)))]
        else:
            new = name[i]
            while new == name[i]:
                new = self.chars[int(self.rng.integers(len(self.chars)))]
        return name[:i] + new + name[i + 1 :]


def run_geocode_bench(
    osm: Path | None = None, queries: int = 1000, seed: int = 1, cache_dir: Path | None = None
) -> dict[str, Any]:
    started = time.perf_counter()
    geocoder = load_geocoder(osm or bundled_osm_file(), cache_dir)
    load_s = time.perf_counter() - started
    rng = np.random.default_rng(seed)
    d = geocoder.data
    entries = sample_entries(geocoder, queries, rng)
    noise = _Noise(geocoder, rng)
    for text in ("哈尔滨", "红军街"):  # warm up
        geocoder.search(text)
    hits: dict[str, list[bool]] = defaultdict(list)
    by_noise: dict[str, list[bool]] = defaultdict(list)
    by_kind: dict[str, list[bool]] = defaultdict(list)
    times: list[float] = []
    misses: list[dict[str, str]] = []
    names: dict[tuple[str, str], int] = defaultdict(int)
    for n, dist in zip(d.name.tolist(), d.district.tolist(), strict=True):
        names[(n, dist)] += 1
    for e in entries:
        kind, name, district = str(d.kind[e]), str(d.name[e]), str(d.district[e])
        # Where a district has two places of the name, a caller says which street office.
        where = district + (str(d.subdistrict[e]) if names[(name, district)] > 1 else "")
        lat, lon = float(d.lat[e]), float(d.lon[e])
        noise_name, noisy = noise.apply(kind, name, where, str(d.key_a[e]), str(d.key_b[e]))
        for variant, query in (("clean", where + name), ("noisy", noisy)):
            t0 = time.perf_counter()
            found = geocoder.search(query, limit=5)
            times.append(time.perf_counter() - t0)
            hit = bool(found) and _distance_m(lat, lon, found[0].lat, found[0].lon) <= HIT_WITHIN_M
            hits[variant].append(hit)
            by_kind[f"{variant}:{'place' if kind in PLACE_KINDS else kind}"].append(hit)
            if variant == "noisy":
                by_noise[noise_name].append(hit)
            if not hit and len(misses) < 20:
                misses.append({"query": query, "want": name, "got": found[0].label if found else ""})
    ms = np.array(times) * 1000.0

    def share(values: list[bool]) -> float:
        return round(float(np.mean(values)), 4) if values else 0.0

    return {
        "bench": "geocode",
        "queries": len(entries),
        "seed": seed,
        "index_entries": d.size,
        "index_load_s": round(load_s, 3),
        "top1_clean": share(hits["clean"]),
        "top1_noisy": share(hits["noisy"]),
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
        "max_ms": round(float(ms.max()), 3),
        "by_noise": {k: {"n": len(v), "top1": share(v)} for k, v in sorted(by_noise.items())},
        "by_kind": {k: {"n": len(v), "top1": share(v)} for k, v in sorted(by_kind.items())},
        "misses": misses,
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}",
    }


__all__ = ["HIT_WITHIN_M", "MIX", "run_geocode_bench", "sample_entries"]
