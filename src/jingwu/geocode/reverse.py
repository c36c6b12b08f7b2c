"""Reverse geocoding: a point (a map click, a unit's fix) → the address a call taker would write:
the nearest house-number address if it is close, else the intersection at hand, else the nearest
named street; with the district and street office the point lies in."""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial import cKDTree

from jingwu.geocode.boundaries import contains
from jingwu.geocode.model import IndexData, Match, NearbyStreet, Place

#: A house-number address this close to the point is the point's address.
ADDRESS_WITHIN_M = 60.0
#: An intersection this close names the point better than one of its streets.
CROSSING_WITHIN_M = 40.0
#: Farther than this from every named street, the point has no street.
STREET_WITHIN_M = 300.0

_EARTH_M = 6_371_008.8


class Reverser:
    def __init__(self, data: IndexData) -> None:
        self._d = data
        lat0 = float(np.mean(data.sample_lat)) if len(data.sample_lat) else float(np.mean(data.lat))
        self._kx = math.radians(1) * _EARTH_M * math.cos(math.radians(lat0))
        self._ky = math.radians(1) * _EARTH_M
        self._streets = cKDTree(self._xy(data.sample_lon, data.sample_lat)) if len(data.sample_lon) else None
        self._kinds: dict[str, tuple[np.ndarray, cKDTree | None]] = {}
        for kind in ("address", "crossing"):
            ids = np.flatnonzero(data.kind == kind)
            tree = cKDTree(self._xy(data.lon[ids], data.lat[ids])) if len(ids) else None
            self._kinds[kind] = (ids, tree)
        self._areas = [
            (str(data.area_name[a]), int(data.area_level[a]), data.area_rings(a))
            for a in range(len(data.area_name))
        ]

    def _xy(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        return np.column_stack((np.asarray(lon) * self._kx, np.asarray(lat) * self._ky))

    def _nearest(self, kind: str, point: np.ndarray, within_m: float) -> tuple[int, float] | None:
        ids, tree = self._kinds[kind]
        if tree is None:
            return None
        distance, i = tree.query(point, distance_upper_bound=within_m)
        return None if math.isinf(distance) else (int(ids[i]), float(distance))

    def area_names(self, lat: float, lon: float) -> tuple[str, str]:
        """(district, street office) at the point, "" where none."""
        found = {6: "", 8: ""}
        lon_a, lat_a = np.array([lon]), np.array([lat])
        for name, level, rings in self._areas:
            if level in found and not found[level] and bool(contains(rings, lon_a, lat_a)[0]):
                found[level] = name
        return found[6], found[8]

    def reverse(self, lat: float, lon: float) -> Place:
        d = self._d
        point = self._xy(np.array([lon]), np.array([lat]))[0]
        district, subdistrict = self.area_names(lat, lon)

        def match(entry: int, distance: float) -> Match:
            return Match(
                label=str(d.name[entry]),
                lat=float(d.lat[entry]),
                lon=float(d.lon[entry]),
                kind=str(d.kind[entry]),
                district=str(d.district[entry]),
                subdistrict=str(d.subdistrict[entry]),
                score=round(max(0.0, 100.0 - distance), 1),
            )

        near = self._nearest("address", point, ADDRESS_WITHIN_M)
        address = match(*near) if near else None
        near = self._nearest("crossing", point, CROSSING_WITHIN_M)
        crossing = match(*near) if near else None
        street = None
        if self._streets is not None:
            distance, i = self._streets.query(point, distance_upper_bound=STREET_WITHIN_M)
            if not math.isinf(distance):
                entry = int(d.sample_entry[i])
                street = NearbyStreet(
                    name=str(d.name[entry]),
                    distance_m=round(float(distance), 1),
                    lat=float(d.sample_lat[i]),
                    lon=float(d.sample_lon[i]),
                )
        where = address.label if address else crossing.label if crossing else street.name if street else ""
        label = f"{district}{where}" if where else ""
        return Place(
            label=label,
            address=address,
            street=street,
            crossing=crossing,
            district=district,
            subdistrict=subdistrict,
        )


__all__ = ["ADDRESS_WITHIN_M", "CROSSING_WITHIN_M", "STREET_WITHIN_M", "Reverser"]
