"""Read what the base map draws from an OSM PBF (pyosmium): water and green areas, rivers, named
streets, landmarks and the names of communities and quarters.

Areas come from pyosmium's assembler where it can build them; a multipolygon the extract cuts (the
Songhua's riverbank relation runs far beyond any city extract) it cannot, so its member ways are
kept and closed along the extract's box instead (``boundaries.assemble``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import osmium

from jingwu.geocode.boundaries import AdminRelation, Box, NodeRun, Ring, assemble
from jingwu.geocode.osm_read import place_kind
from jingwu.geocode.text import clean_osm_name

#: Highway classes whose names are drawn along the road; paths and steps are not streets.
STREET_CLASSES = frozenset(
    {
        "motorway",
        "trunk",
        "primary",
        "secondary",
        "tertiary",
        "motorway_link",
        "trunk_link",
        "primary_link",
        "secondary_link",
        "tertiary_link",
        "unclassified",
        "residential",
        "living_street",
        "pedestrian",
        "service",
    }
)
WATERWAY_LINES = frozenset({"river", "canal", "stream", "drain", "ditch"})
#: Landmarks a dispatcher steers by; ``place_kind`` names the rest (schools, hospitals, stations…).
_LANDMARK_AMENITIES = {"police": "police", "fire_station": "fire", "townhall": "government"}
_PLACES = {"suburb": "quarter", "quarter": "quarter", "neighbourhood": "community", "village": "village"}


def area_layer(tags: Mapping[str, str] | osmium.osm.TagList) -> tuple[str, str] | None:
    """(layer, kind) of an area the map fills: water or green; None: not filled."""
    natural, landuse, leisure = tags.get("natural", ""), tags.get("landuse", ""), tags.get("leisure", "")
    if (
        natural == "water"
        or tags.get("waterway") in ("riverbank", "dock")
        or landuse in ("reservoir", "basin")
    ):
        return "water", tags.get("water") or "water"
    if leisure in ("park", "garden", "nature_reserve", "golf_course") or landuse in ("village_green",):
        return "green", "park"
    if landuse == "forest" or natural in ("wood", "scrub"):
        return "green", "wood"
    if landuse in ("grass", "meadow", "recreation_ground", "cemetery") or natural in ("grassland", "heath"):
        return "green", "grass"
    return None


def label_kind(tags: Mapping[str, str] | osmium.osm.TagList) -> str | None:
    """What a named node or area is labelled as: a landmark kind, ``community``, ``quarter``,
    ``village``, ``park`` or ``water``; None: not labelled."""
    place = tags.get("place", "")
    if place in _PLACES:
        return _PLACES[place]
    amenity = tags.get("amenity", "")
    if amenity in _LANDMARK_AMENITIES:
        return _LANDMARK_AMENITIES[amenity]
    if tags.get("railway") == "subway_entrance":
        return None
    kind = place_kind(tags)
    if kind in ("school", "hospital", "station", "mall", "community"):
        if kind == "community" and "building" in tags:
            return None  # one block of flats: its community carries the name
        if kind == "school" and amenity == "kindergarten":
            return None
        return kind
    layer = area_layer(tags)
    if layer is not None:
        return "water" if layer[0] == "water" else "park"
    return None


@dataclass
class RawArea:
    layer: str  # "water" or "green"
    kind: str  # water: river, lake, pond, water…; green: park, wood, grass
    name: str
    rings: list[Ring]  # (lon, lat) rings under the even-odd rule


@dataclass
class RawLine:
    kind: str  # a waterway value, or a highway class for a street
    name: str
    nodes: NodeRun


@dataclass
class RawLabel:
    kind: str
    name: str
    lon: float
    lat: float
    rings: list[Ring] = field(default_factory=list)  # the named area, if it is one


@dataclass
class RawMap:
    box: Box
    areas: list[RawArea]
    waterways: list[RawLine]
    streets: list[RawLine]
    labels: list[RawLabel]


@dataclass
class _Relation:
    layer: tuple[str, str] | None
    label: str | None
    name: str
    ways: list[int]


def read_map(pbf_path: Path) -> RawMap:
    path = str(pbf_path)
    relations, waterway_names = _relations(path)
    member_ways = {w for r in relations.values() for w in r.ways}
    runs_by_way: dict[int, list[NodeRun]] = {}
    built: set[int] = set()
    areas: list[RawArea] = []
    waterways: list[RawLine] = []
    streets: list[RawLine] = []
    labels: list[RawLabel] = []
    extent = [180.0, 90.0, -180.0, -90.0]
    keys = osmium.filter.KeyFilter("natural", "waterway", "landuse", "leisure", "place", "amenity", "shop")
    processor = osmium.FileProcessor(path).with_locations().with_areas(keys)
    for obj in processor:
        tags = obj.tags
        if isinstance(obj, osmium.osm.Node):
            lon, lat = obj.location.lon, obj.location.lat
            extent = [min(extent[0], lon), min(extent[1], lat), max(extent[2], lon), max(extent[3], lat)]
            name = _name(tags)
            kind = label_kind(tags) if name else None
            if kind is not None:
                labels.append(RawLabel(kind, name, lon, lat))
        elif isinstance(obj, osmium.osm.Way):
            if obj.id in member_ways:
                runs_by_way[obj.id] = _located_runs(obj)
            highway, waterway = tags.get("highway", ""), tags.get("waterway", "")
            name = _name(tags)
            if highway in STREET_CLASSES and name:
                streets.extend(RawLine(highway, name, run) for run in _located_runs(obj))
            elif waterway in WATERWAY_LINES:
                name = name or waterway_names.get(obj.id, "")
                waterways.extend(RawLine(waterway, name, run) for run in _located_runs(obj))
        elif isinstance(obj, osmium.osm.Area):
            if not obj.from_way():
                built.add(obj.orig_id())
            rings = _area_rings(obj)
            if not rings:
                continue
            _add_area(areas, labels, tags, rings)
    box = _file_box(path, (extent[0], extent[1], extent[2], extent[3]))
    for osm_id, relation in relations.items():
        if osm_id in built:
            continue
        runs = [run for w in relation.ways for run in runs_by_way.get(w, [])]
        if not runs:
            continue
        rings = assemble(AdminRelation(osm_id, relation.name, 0, runs), box)
        if rings:
            _add_area_parts(areas, labels, relation.layer, relation.label, relation.name, rings)
    return RawMap(box, areas, waterways, streets, labels)


def _name(tags: osmium.osm.TagList | Mapping[str, str]) -> str:
    return clean_osm_name(tags.get("name") or tags.get("name:zh") or "")


def _relations(path: str) -> tuple[dict[int, _Relation], dict[int, str]]:
    """Multipolygons the map fills or names (by id), and the names of waterway relations by
    member way (a river's ways are often named only on its relation)."""
    found: dict[int, _Relation] = {}
    waterway_names: dict[int, str] = {}
    for rel in osmium.FileProcessor(path, osmium.osm.RELATION):
        if not isinstance(rel, osmium.osm.Relation):
            continue
        tags = rel.tags
        kind = tags.get("type")
        if kind == "waterway" and tags.get("waterway") in WATERWAY_LINES and _name(tags):
            for member in rel.members:
                if member.type == "w":
                    waterway_names.setdefault(member.ref, _name(tags))
        if kind != "multipolygon":
            continue
        name = _name(tags)
        layer = area_layer(tags)
        label = label_kind(tags) if name else None
        if layer is None and label is None:
            continue
        ways = [m.ref for m in rel.members if m.type == "w" and m.role in ("outer", "inner", "")]
        found[rel.id] = _Relation(layer, label, name, ways)
    return found, waterway_names


def _add_area(
    areas: list[RawArea], labels: list[RawLabel], tags: osmium.osm.TagList, rings: list[Ring]
) -> None:
    name = _name(tags)
    _add_area_parts(areas, labels, area_layer(tags), label_kind(tags) if name else None, name, rings)


def _add_area_parts(
    areas: list[RawArea],
    labels: list[RawLabel],
    layer: tuple[str, str] | None,
    label: str | None,
    name: str,
    rings: list[Ring],
) -> None:
    if layer is not None:
        areas.append(RawArea(layer[0], layer[1], name, rings))
    if label is not None:
        # The label's point is chosen when the map is built (inside the area, far from its edge).
        labels.append(RawLabel(label, name, rings[0][0][0], rings[0][0][1], rings))


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


def _area_rings(area: osmium.osm.Area) -> list[Ring]:
    rings: list[Ring] = []
    for outer in area.outer_rings():
        rings.append([(n.lon, n.lat) for n in outer])
        rings.extend([(n.lon, n.lat) for n in inner] for inner in area.inner_rings(outer))
    return [r for r in rings if len(r) >= 4]


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


__all__ = [
    "STREET_CLASSES",
    "WATERWAY_LINES",
    "RawArea",
    "RawLabel",
    "RawLine",
    "RawMap",
    "area_layer",
    "label_kind",
    "read_map",
]
