"""The address index as flat columns (what the on-disk cache stores), and what a search answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: What an entry is: a house-number address, a street, the intersection of two streets, or a
#: named place of one of these kinds.
KINDS = (
    "address",
    "street",
    "crossing",
    "community",
    "school",
    "hospital",
    "station",
    "mall",
    "stop",
    "place",
)

Rings = list[list[tuple[float, float]]]


@dataclass(frozen=True, eq=False)
class IndexData:
    """Entries, their search keys, the points along named streets, and the admin areas."""

    kind: NDArray[np.str_]  # [N] one of KINDS
    name: NDArray[np.str_]  # [N] the label: 红军街, 红军街85号, 果戈里大街与红军街交口, 哈尔滨工业大学
    lon: NDArray[np.float64]  # [N]
    lat: NDArray[np.float64]  # [N]
    key_a: NDArray[np.str_]  # [N] an address's street; a crossing's first street
    key_b: NDArray[np.str_]  # [N] an address's number; a crossing's second street
    district: NDArray[np.str_]  # [N] 区 at the entry's point, "" outside every district
    subdistrict: NDArray[np.str_]  # [N] 街道 at the entry's point
    districts: NDArray[np.str_]  # [N] every district a street runs through, "|"-separated
    keys: NDArray[np.str_]  # [K] normalised names and aliases
    key_entry: NDArray[np.int64]  # [K]
    key_initials: NDArray[np.str_]  # [K] pinyin initials (hebgydx), "" for a key without Chinese
    key_pinyin: NDArray[np.str_]  # [K] toneless syllables, space-separated
    sample_lon: NDArray[np.float64]  # [S] points along named streets
    sample_lat: NDArray[np.float64]  # [S]
    sample_entry: NDArray[np.int64]  # [S] the street entry of each point
    area_name: NDArray[np.str_]  # [A]
    area_level: NDArray[np.int64]  # [A] OSM admin_level: 6 district, 8 street office
    area_ring_ptr: NDArray[np.int64]  # [A+1] area a's rings are area_ring_ptr[a] : [a+1]
    ring_ptr: NDArray[np.int64]  # [R+1] ring r's points are ring_ptr[r] : [r+1]
    ring_lon: NDArray[np.float64]  # [P]
    ring_lat: NDArray[np.float64]  # [P]
    above: NDArray[np.str_]  # province and city names, outermost first

    @classmethod
    def from_columns(
        cls, *, areas: Sequence[tuple[str, int, Rings]], above: Sequence[str], **columns: Any
    ) -> IndexData:
        strings = {"kind", "name", "key_a", "key_b", "district", "subdistrict", "districts", "keys"}
        strings |= {"key_initials", "key_pinyin"}
        values: dict[str, Any] = {}
        for key, column in columns.items():
            if key in strings:
                values[key] = np.array(list(column) or [""], dtype=np.str_)[: len(column)]
            elif key in ("key_entry", "sample_entry"):
                values[key] = np.asarray(column, dtype=np.int64)
            else:
                values[key] = np.asarray(column, dtype=np.float64)
        rings = [ring for _, _, area_rings in areas for ring in area_rings]
        values["area_name"] = np.array([a[0] for a in areas] or [""], dtype=np.str_)[: len(areas)]
        values["area_level"] = np.array([a[1] for a in areas], dtype=np.int64)
        values["area_ring_ptr"] = np.concatenate(([0], np.cumsum([len(a[2]) for a in areas]))).astype(
            np.int64
        )
        values["ring_ptr"] = np.concatenate(([0], np.cumsum([len(r) for r in rings]))).astype(np.int64)
        values["ring_lon"] = np.array([p[0] for r in rings for p in r], dtype=np.float64)
        values["ring_lat"] = np.array([p[1] for r in rings for p in r], dtype=np.float64)
        values["above"] = np.array(list(above) or [""], dtype=np.str_)[: len(above)]
        return cls(**values)

    @property
    def size(self) -> int:
        return int(self.kind.shape[0])

    def area_rings(self, area: int) -> Rings:
        rings: Rings = []
        for r in range(int(self.area_ring_ptr[area]), int(self.area_ring_ptr[area + 1])):
            lo, hi = int(self.ring_ptr[r]), int(self.ring_ptr[r + 1])
            rings.append(list(zip(self.ring_lon[lo:hi].tolist(), self.ring_lat[lo:hi].tolist(), strict=True)))
        return rings

    def to_arrays(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, Any]) -> IndexData:
        return cls(**{f.name: arrays[f.name] for f in fields(cls)})


@dataclass(frozen=True, slots=True)
class Match:
    """One answer to a search, best first: what the call taker picks from."""

    label: str
    lat: float
    lon: float
    kind: str
    district: str
    subdistrict: str
    score: float  # 0..100: 100 is the exact name


@dataclass(frozen=True, slots=True)
class NearbyStreet:
    name: str
    distance_m: float
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Place:
    """What lies at a point: the nearest house-number address (if close), the nearest named
    street, and the district and street office the point is in."""

    label: str  # what goes into an incident's address field, e.g. 南岗区红军街85号
    address: Match | None
    street: NearbyStreet | None
    crossing: Match | None
    district: str
    subdistrict: str


__all__ = ["KINDS", "IndexData", "Match", "NearbyStreet", "Place", "Rings"]
