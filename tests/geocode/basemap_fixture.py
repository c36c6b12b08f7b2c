"""A small hand-made OSM file for the base map's rules: a river whose riverbank relation the file's
box cuts (its bank ways run on beyond the file), a lake, a pond too small to draw, a park, a
stream named only on its waterway relation, streets, a hospital mapped twice, a community and a
quarter."""

from __future__ import annotations

from pathlib import Path

from tests.geocode.osm_fixture import lonlat

#: The file's box in grid units (about 111 m each): x -1..21, y -1..11.
BOX = (-1.0, -1.0, 21.0, 11.0)


def write_map(path: Path) -> Path:
    nodes: dict[int, tuple[float, float]] = {}
    tagged: dict[int, dict[str, str]] = {}

    def node(i: int, x: float, y: float, **tags: str) -> int:
        nodes[i] = lonlat(x, y)
        if tags:
            tagged[i] = tags
        return i

    def square(first: int, x0: float, y0: float, x1: float, y1: float) -> list[int]:
        ids = [node(first + k, x, y) for k, (x, y) in enumerate([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])]
        return [*ids, ids[0]]

    # The river: a band y 8..10 across the whole box. Its banks run from x = -5 to x = 25; the
    # nodes beyond the box (901…904) are not in the file, as in a real extract.
    node(1, -0.5, 8)
    node(2, 10, 8.2)
    node(3, 20.5, 8)
    node(4, 20.5, 10)
    node(5, 10, 9.8)
    node(6, -0.5, 10)
    ways: dict[int, tuple[list[int], dict[str, str]]] = {
        100: ([901, 1, 2, 3, 902], {}),
        101: ([903, 4, 5, 6, 904], {}),
    }
    # The river's middle line, named on its waterway relation only.
    node(7, -0.5, 9)
    node(8, 20.5, 9)
    ways[102] = ([7, 8], {"waterway": "river"})
    # A lake (about 330 m × 330 m) with a name, and a pond of a few square metres.
    ways[110] = (square(20, 12, 1, 15, 4), {"natural": "water", "name": "镜湖"})
    ways[111] = (square(30, 0, 0, 0.02, 0.02), {"natural": "water", "water": "pond"})
    # A park and, inside it, nothing else.
    ways[120] = (square(40, 0, 1, 4, 4), {"leisure": "park", "name": "儿童公园"})
    # 红军街: two primary ways meeting at node 52; a 小巷 of 10 m; a named footway.
    node(50, 0, 6)
    node(51, 5, 6)
    node(52, 10, 6)
    node(53, 15, 6.5)
    node(54, 5, 5)
    node(55, 5.09, 5)
    node(56, 6, 7)
    node(57, 9, 7)
    ways[130] = ([50, 51, 52], {"highway": "primary", "name": "红军街"})
    ways[131] = ([52, 53], {"highway": "primary", "name": "红军街"})
    ways[132] = ([54, 55], {"highway": "residential", "name": "小巷"})
    ways[133] = ([56, 57], {"highway": "footway", "name": "林荫小路"})
    # 第一医院 as a node and as its grounds' polygon; the label belongs at the polygon.
    node(60, 17.5, 1.5, amenity="hospital", name="第一医院")
    ways[140] = (square(61, 16, 0, 19, 3), {"amenity": "hospital", "name": "第一医院"})
    # A C-shaped community: its label must fall inside it, not in the bite.
    for i, (x, y) in enumerate(
        [(6, 0), (11, 0), (11, 1), (7, 1), (7, 4), (11, 4), (11, 5), (6, 5)], start=70
    ):
        node(i, x, y)
    ways[150] = ([70, 71, 72, 73, 74, 75, 76, 77, 70], {"landuse": "residential", "name": "阳光小区"})
    node(80, 2, 5, place="suburb", name="南岗街道")

    relations = {
        200: (
            [("w", 100, "outer"), ("w", 101, "outer")],
            {"type": "multipolygon", "natural": "water", "water": "river"},
        ),
        201: ([("w", 102, "main_stream")], {"type": "waterway", "waterway": "river", "name": "松花江"}),
    }

    def tags_xml(tags: dict[str, str]) -> str:
        return "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())

    west, south = lonlat(BOX[0], BOX[1])
    east, north = lonlat(BOX[2], BOX[3])
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="jingwu-tests">']
    lines.append(f'<bounds minlon="{west}" minlat="{south}" maxlon="{east}" maxlat="{north}"/>')
    for i, (lon, lat) in sorted(nodes.items()):
        lines.append(
            f'<node id="{i}" version="1" lat="{lat}" lon="{lon}">{tags_xml(tagged.get(i, {}))}</node>'
        )
    for i, (refs, tags) in sorted(ways.items()):
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        lines.append(f'<way id="{i}" version="1">{nds}{tags_xml(tags)}</way>')
    kinds = {"w": "way", "n": "node", "r": "relation"}
    for i, (members, tags) in sorted(relations.items()):
        mem = "".join(f'<member type="{kinds[t]}" ref="{r}" role="{role}"/>' for t, r, role in members)
        lines.append(f'<relation id="{i}" version="1">{mem}{tags_xml(tags)}</relation>')
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
