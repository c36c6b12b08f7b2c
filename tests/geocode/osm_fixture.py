"""A small hand-made OSM file for the index rules: two districts (one cut by the file's box), a
street office, two streets that cross, a street of the same name far away, a campus, an address."""

from __future__ import annotations

from pathlib import Path

# A local grid: x, y in units of about 111 m (0.001°) from (126.600, 45.750).
LON0, LAT0, STEP = 126.600, 45.750, 0.001


def lonlat(x: float, y: float) -> tuple[float, float]:
    return round(LON0 + x * STEP / 0.6972, 7), round(LAT0 + y * STEP, 7)  # 0.6972 = cos(45.75°)


def write_city(path: Path) -> Path:
    nodes: dict[int, tuple[float, float]] = {}
    tagged: dict[int, dict[str, str]] = {}

    def node(i: int, x: float, y: float, **tags: str) -> int:
        nodes[i] = lonlat(x, y)
        if tags:
            tagged[i] = tags
        return i

    # Districts: 西区 is the square x 0..10, y 0..10; 东区 is x 10..30, cut by the box at x = 20 (its
    # eastern nodes 901, 902 are not in the file). 东区's label node lies inside it.
    for i, (x, y) in enumerate([(0, 0), (10, 0), (10, 10), (0, 10)], start=1):
        node(i, x, y)
    node(5, 20, 0)
    node(6, 20, 10)
    node(7, 15, 5, place="city", name="东区")
    # Streets: 红军街 runs west-east at y = 5 (two ways meeting at node 12); 果戈里大街 runs south-north
    # at x = 5 and crosses it at node 11. Another 红军街 lies far east in 东区.
    node(10, 1, 5)
    node(11, 5, 5)
    node(12, 8, 5)
    node(13, 9.5, 5)
    node(20, 5, 1)
    node(21, 5, 9)
    node(30, 14, 2)
    node(31, 18, 2)
    # A campus (closed way) and an address node.
    for i, (x, y) in enumerate([(6, 6), (8, 6), (8, 8), (6, 8)], start=40):
        node(i, x, y)
    node(50, 7, 5.2, **{"addr:street": "红军街 - Hongjun Street", "addr:housenumber": "85号"})
    node(51, 2, 2, amenity="hospital", name="第一医院")

    ways = {
        100: ([1, 2, 3, 4, 1], {"boundary": "administrative", "admin_level": "6"}),
        101: ([2, 5], {"boundary": "administrative"}),
        102: ([5, 901, 902, 6], {"boundary": "administrative"}),
        103: ([6, 3], {"boundary": "administrative"}),
        200: ([10, 11, 12], {"highway": "secondary", "name": "红军街"}),
        201: ([12, 13], {"highway": "secondary", "name": "红军街"}),
        202: ([20, 11, 21], {"highway": "tertiary", "name": "果戈里大街"}),
        203: ([30, 31], {"highway": "residential", "name": "红军街"}),
        204: (
            [40, 41, 42, 43, 40],
            {"amenity": "university", "name": "哈尔滨工业大学", "short_name": "哈工大"},
        ),
    }
    relations = {
        300: (
            [("w", 100, "outer")],
            {"type": "boundary", "boundary": "administrative", "admin_level": "6", "name": "西区"},
        ),
        301: (
            [
                ("w", 101, "outer"),
                ("w", 102, "outer"),
                ("w", 103, "outer"),
                ("w", 100, "outer"),
                ("n", 7, "label"),
            ],
            {"type": "boundary", "boundary": "administrative", "admin_level": "6", "name": "东区"},
        ),
        302: (
            [("w", 100, "outer")],
            {"type": "boundary", "boundary": "administrative", "admin_level": "8", "name": "西山街道"},
        ),
        303: ([], {"type": "boundary", "boundary": "administrative", "admin_level": "5", "name": "滨城市"}),
    }
    # 东区's way 100 is shared with 西区 only along x = 10; a relation may hold a way whole, so 东区
    # is given its own western edge instead.
    ways[104] = ([2, 3], {"boundary": "administrative"})
    relations[301] = (
        [
            ("w", 101, "outer"),
            ("w", 102, "outer"),
            ("w", 103, "outer"),
            ("w", 104, "outer"),
            ("n", 7, "label"),
        ],
        relations[301][1],
    )

    def tags_xml(tags: dict[str, str]) -> str:
        return "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())

    west, south = lonlat(-1, -1)
    east, north = lonlat(20.5, 11)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="jingwu-tests">']
    lines.append(f'<bounds minlon="{west}" minlat="{south}" maxlon="{east}" maxlat="{north}"/>')
    for i, (lon, lat) in sorted(nodes.items()):
        lines.append(
            f'<node id="{i}" version="1" lat="{lat}" lon="{lon}">{tags_xml(tagged.get(i, {}))}</node>'
        )
    for i, (refs, tags) in sorted(ways.items()):
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        lines.append(f'<way id="{i}" version="1">{nds}{tags_xml(tags)}</way>')
    for i, (members, tags) in sorted(relations.items()):
        kinds = {"w": "way", "n": "node", "r": "relation"}
        mem = "".join(f'<member type="{kinds[t]}" ref="{r}" role="{role}"/>' for t, r, role in members)
        lines.append(f'<relation id="{i}" version="1">{mem}{tags_xml(tags)}</relation>')
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
