"""Read what the address index is made of from an OSM PBF (pyosmium): named streets with their
nodes, named places and house-number addresses with a point each, and the administrative
boundary relations with the located runs of their member ways."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import osmium

from jingwu.geocode.boundaries import AdminRelation, Box, NodeRun
from jingwu.geocode.text import clean_house_number, clean_osm_name

#: Named ways of these classes are not streets anyone gives as an address (or are not built).
_NOT_STREETS = frozenset(
    {
        "footway",
        "path",
        "cycleway",
        "steps",
        "bridleway",
        "corridor",
        "platform",
        "proposed",
        "abandoned",
        "razed",
        "elevator",
        "bus_stop",
        "via_ferrata",
    }
)

#: Admin levels kept: the district (区, 6) and the street office (街道, 8) areas of a Chinese city,
#: and the city and province names (4, 5) that a caller may put in front of an address.
ADMIN_LEVELS = (4, 5, 6, 8)

#: Other names a place is known by, searched as well as its name.
_ALIAS_KEYS = ("alt_name", "short_name", "official_name", "name:zh", "old_name", "loc_name")


def place_kind(tags: Mapping[str, str] | osmium.osm.TagList) -> str | None:
    """What a named thing is, as the call taker would look for it; None: not a place to go to."""
    amenity, building, landuse = tags.get("amenity", ""), tags.get("building", ""), tags.get("landuse", "")
    railway, shop, place = tags.get("railway", ""), tags.get("shop", ""), tags.get("place", "")
    if amenity in ("school", "college", "university", "kindergarten") or building in (
        "school",
        "university",
        "college",
        "kindergarten",
    ):
        return "school"
    if amenity in ("hospital", "clinic", "doctors") or building == "hospital" or "healthcare" in tags:
        return "hospital"
    if (
        railway in ("station", "halt")
        or tags.get("public_transport") == "station"
        or amenity == "bus_station"
        or building == "train_station"
    ):
        return "station"
    if tags.get("highway") == "bus_stop" or tags.get("public_transport") == "platform" or railway == "stop":
        return "stop"
    if shop in ("mall", "department_store", "supermarket") or amenity == "marketplace":
        return "mall"
    if (
        landuse == "residential"
        or place in ("neighbourhood", "quarter", "suburb", "village", "hamlet")
        or building in ("apartments", "residential", "dormitory", "house")
        or "residential" in tags
    ):
        return "community"
    if tags.get("boundary") or tags.get("highway") or railway or tags.get("natural") or tags.get("waterway"):
        return None
    if any(k in tags for k in ("amenity", "shop", "tourism", "leisure", "office", "historic", "craft")):
        return "place"
    if building or landuse in ("commercial", "retail", "industrial", "governmental", "military", "religious"):
        return "place"
    if place in ("square", "locality", "plot"):
        return "place"
    return None


@dataclass
class StreetRun:
    name: str
    highway: str
    nodes: NodeRun


@dataclass
class RawPlace:
    name: str  # "" for an address that names no place
    kind: str | None
    lon: float
    lat: float
    aliases: list[str] = field(default_factory=list)
    street: str = ""  # addr:street, cleaned
    number: str = ""  # addr:housenumber, cleaned
    district: str = ""  # addr:district, as tagged


@dataclass
class RawOsm:
    box: Box
    streets: list[StreetRun]
    places: list[RawPlace]
    relations: list[AdminRelation]
    province_and_city: list[tuple[int, str]]  # (admin level, name) of the levels above districts


def read_osm(pbf_path: Path) -> RawOsm:
    path = str(pbf_path)
    relations, way_ids, label_ids = _admin_relations(path)
    runs_by_way: dict[int, list[NodeRun]] = {}
    labels: dict[int, tuple[float, float]] = {}
    streets: list[StreetRun] = []
    places: list[RawPlace] = []
    extent = [180.0, 90.0, -180.0, -90.0]  # the nodes' box, for a file whose header has none
    processor = osmium.FileProcessor(path).with_locations().with_areas(osmium.filter.KeyFilter("name"))
    for obj in processor:
        tags = obj.tags
        if isinstance(obj, osmium.osm.Node):
            if obj.id in label_ids:
                labels[obj.id] = (obj.location.lon, obj.location.lat)
            lon, lat = obj.location.lon, obj.location.lat
            extent = [min(extent[0], lon), min(extent[1], lat), max(extent[2], lon), max(extent[3], lat)]
            if "name" in tags or "addr:housenumber" in tags:
                _add_place(places, tags, lon, lat)
        elif isinstance(obj, osmium.osm.Way):
            if obj.id in way_ids:
                runs_by_way[obj.id] = _located_runs(obj)
            highway = tags.get("highway")
            name = tags.get("name") or tags.get("name:zh")
            if highway and name and highway not in _NOT_STREETS:
                for run in _located_runs(obj):
                    streets.append(StreetRun(clean_osm_name(name), highway, run))
        elif isinstance(obj, osmium.osm.Area) and ("name" in tags or "addr:housenumber" in tags):
            centre = _area_centre(obj)
            if centre is not None:
                _add_place(places, tags, *centre)
    box = _file_box(path, (extent[0], extent[1], extent[2], extent[3]))
    admin: list[AdminRelation] = []
    above: list[tuple[int, str]] = []
    for osm_id, (name, level, members, nodes, subareas) in relations.items():
        if level < 6:
            above.append((level, name))
            continue
        runs = [run for w in members for run in runs_by_way.get(w, [])]
        points = [labels[n] for n in nodes if n in labels]
        admin.append(AdminRelation(osm_id, name, level, runs, points, subareas))
    return RawOsm(box, streets, places, admin, sorted(above))


_Relation = tuple[str, int, list[int], list[int], list[int]]


def _admin_relations(path: str) -> tuple[dict[int, _Relation], set[int], set[int]]:
    """Boundary relations of the kept levels: (name, level, member ways, label nodes, subareas)."""
    found: dict[int, _Relation] = {}
    for rel in osmium.FileProcessor(path, osmium.osm.RELATION):
        if not isinstance(rel, osmium.osm.Relation):
            continue
        tags = rel.tags
        if tags.get("boundary") != "administrative" or "name" not in tags:
            continue
        try:
            level = int(tags.get("admin_level") or "")
        except ValueError:
            continue
        if level not in ADMIN_LEVELS:
            continue
        ways = [m.ref for m in rel.members if m.type == "w" and m.role in ("outer", "inner", "")]
        nodes = [m.ref for m in rel.members if m.type == "n" and m.role in ("label", "admin_centre")]
        subs = [m.ref for m in rel.members if m.type == "r" and m.role == "subarea"]
        found[rel.id] = (clean_osm_name(tags["name"]), level, ways, nodes, subs)
    way_ids = {w for r in found.values() for w in r[2]}
    label_ids = {n for r in found.values() for n in r[3]}
    return found, way_ids, label_ids


def _located_runs(way: osmium.osm.Way) -> list[NodeRun]:
    """A way cut into runs of nodes that the extract holds (a way crossing its edge loses some)."""
    runs: list[NodeRun] = []
    run: NodeRun = []
    for node in way.nodes:
        if node.location.valid():
            if not run or run[-1][0] != node.ref:
                run.append((node.ref, node.location.lon, node.location.lat))
            continue
        if len(run) >= 2:
            runs.append(run)
        run = []
    if len(run) >= 2:
        runs.append(run)
    return runs


def _area_centre(area: osmium.osm.Area) -> tuple[float, float] | None:
    """The area-weighted centroid of the largest outer ring."""
    best: tuple[float, float, float] | None = None
    for ring in area.outer_rings():
        xy = np.array([(n.lon, n.lat) for n in ring if n.location.valid()], dtype=np.float64)
        if len(xy) < 3:
            continue
        x, y = xy[:, 0], xy[:, 1]
        x1, y1 = np.roll(x, -1), np.roll(y, -1)
        cross = x * y1 - x1 * y
        size = cross.sum() / 2
        if abs(size) < 1e-14:
            centre = (float(x.mean()), float(y.mean()), 0.0)
        else:
            cx = float(((x + x1) * cross).sum() / (6 * size))
            cy = float(((y + y1) * cross).sum() / (6 * size))
            centre = (cx, cy, abs(float(size)))
        if best is None or centre[2] > best[2]:
            best = centre
    return None if best is None else (best[0], best[1])


def _add_place(places: list[RawPlace], tags: osmium.osm.TagList, lon: float, lat: float) -> None:
    name = clean_osm_name(tags.get("name") or tags.get("name:zh") or "")
    kind = place_kind(tags) if name else None
    aliases = []
    for key in _ALIAS_KEYS:
        for alias in (tags.get(key) or "").split(";"):
            alias = clean_osm_name(alias)
            if alias and alias != name and alias not in aliases:
                aliases.append(alias)
    street = clean_osm_name(tags.get("addr:street") or "")
    number = clean_house_number(tags.get("addr:housenumber") or "")
    has_address = bool(street and number)
    if kind is None and not has_address:
        return
    places.append(
        RawPlace(
            name=name if kind is not None else "",
            kind=kind,
            lon=lon,
            lat=lat,
            aliases=aliases if kind is not None else [],
            street=street if has_address else "",
            number=number if has_address else "",
            district=tags.get("addr:district") or "",
        )
    )


def _file_box(path: str, extent: Box) -> Box:
    """The extract's box from its header, else the box of its nodes."""
    reader = osmium.io.Reader(path, osmium.osm.NOTHING)
    try:
        box = reader.header().box()
    finally:
        reader.close()
    if box.valid():
        return (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)
    if extent[0] > extent[2]:
        raise ValueError(f"{path}: no nodes")
    return extent


__all__ = ["ADMIN_LEVELS", "RawOsm", "RawPlace", "StreetRun", "place_kind", "read_osm"]
