"""Turn restrictions from OSM relations (``type=restriction``), read and resolved to graph edges.

A restriction names a ``from`` way, a ``via`` node (or a chain of ``via`` ways) and a ``to`` way:
``no_*`` forbids driving from → via → to, ``only_*`` forbids every other way out of the via. As in
OSRM, a ``from`` or ``to`` way must start or end at the via (the way it is drawn cannot say which
side is meant otherwise); restrictions that break this, or whose members are missing from the
extract, are left out and counted, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import osmium
from numpy.typing import NDArray

IntArray = NDArray[np.int64]

#: The tag that applies to a police patrol car, most specific first (``restriction:motorcar``
#: overrides the general ``restriction``); ``restriction:hgv``, ``:bus`` … do not apply.
_RESTRICTION_KEYS = (
    "restriction:motorcar",
    "restriction:motor_vehicle",
    "restriction:vehicle",
    "restriction",
)
#: An ``except`` naming one of these exempts a patrol car.
_EXEMPT = frozenset({"motorcar", "motor_vehicle", "vehicle", "emergency"})
#: Old-style time limits: a restriction in force only part of the day is left out, like a
#: ``restriction:conditional`` (which is never read), so that no route is made up of an illegal turn
#: the rest of the time either: the router has no legal-hours model.
_PART_TIME = ("day_on", "day_off", "hour_on", "hour_off")


@dataclass(frozen=True, slots=True)
class Restriction:
    """One turn restriction as drawn in OSM (way and node ids)."""

    relation: int
    only: bool
    from_ways: tuple[int, ...]
    via_node: int | None
    via_ways: tuple[int, ...]
    to_ways: tuple[int, ...]


@dataclass
class RestrictionReport:
    """What became of the restrictions of an extract: relation ids applied, and left out by reason."""

    applied: list[int] = field(default_factory=list)
    skipped: dict[str, list[int]] = field(default_factory=dict)

    def skip(self, reason: str, relation: int) -> None:
        self.skipped.setdefault(reason, []).append(relation)


def restriction_kind(tags: dict[str, str]) -> str | None:
    """The restriction value that binds a patrol car (``no_left_turn``, ``only_straight_on`` …), or
    None when the relation does not restrict it."""
    if tags.get("type") != "restriction":
        return None
    if any(key in tags for key in _PART_TIME):
        return None
    exempt = {v.strip() for v in tags.get("except", "").split(";")}
    if exempt & _EXEMPT:
        return None
    for key in _RESTRICTION_KEYS:
        value = tags.get(key)
        if value is not None:
            value = value.strip()
            return value if value.startswith(("no_", "only_")) else None
    return None


def read_restrictions(pbf_path: Path) -> tuple[list[Restriction], list[int]]:
    """The restrictions that bind a patrol car, and the ids of relations too incomplete to use."""
    found: list[Restriction] = []
    broken: list[int] = []
    processor = osmium.FileProcessor(str(pbf_path), osmium.osm.RELATION).with_filter(
        osmium.filter.TagFilter(("type", "restriction"))
    )
    for relation in processor:
        if not isinstance(relation, osmium.osm.Relation):  # the processor passes relations only
            continue
        tags = {tag.k: tag.v for tag in relation.tags}
        kind = restriction_kind(tags)
        if kind is None:
            continue
        members: dict[str, list[tuple[str, int]]] = {}
        for member in relation.members:
            members.setdefault(member.role, []).append((member.type, member.ref))
        from_ways = tuple(ref for kind_, ref in members.get("from", []) if kind_ == "w")
        to_ways = tuple(ref for kind_, ref in members.get("to", []) if kind_ == "w")
        via = members.get("via", [])
        via_nodes = [ref for kind_, ref in via if kind_ == "n"]
        via_ways = tuple(ref for kind_, ref in via if kind_ == "w")
        if not from_ways or not to_ways or not via or (via_nodes and (via_ways or len(via_nodes) > 1)):
            broken.append(relation.id)
            continue
        only = kind.startswith("only_")
        if only and (len(from_ways) > 1 or len(to_ways) > 1):
            broken.append(relation.id)  # "only" into two ways at once means nothing
            continue
        found.append(
            Restriction(
                relation=relation.id,
                only=only,
                from_ways=from_ways,
                via_node=via_nodes[0] if via_nodes else None,
                via_ways=via_ways,
                to_ways=to_ways,
            )
        )
    return found, broken


@dataclass(frozen=True, slots=True)
class EdgeRestriction:
    """A restriction resolved to directed edges: the path from → via edges … and the edges it
    bans (``only=False``) or is limited to (``only=True``) at the path's end."""

    relation: int
    only: bool
    path: tuple[int, ...]  # the from edge, then the via ways' edges in driving order
    to: tuple[int, ...]


class EdgeLookup:
    """Which directed edges belong to which OSM way at which graph node."""

    def __init__(
        self,
        node_ref: IntArray,
        edge_u: IntArray,
        edge_v: IntArray,
        edge_piece: IntArray,
        piece_way: IntArray,
        way_ends: dict[int, tuple[int, int]],
    ) -> None:
        self.node_of: dict[int, int] = {int(ref): i for i, ref in enumerate(node_ref.tolist())}
        self.node_ref = node_ref
        self.way_ends = way_ends
        self.into: dict[tuple[int, int], list[int]] = {}  # (way, node) → edges of the way ending there
        self.out_of: dict[tuple[int, int], list[int]] = {}  # (way, node) → edges of the way leaving it
        way = piece_way[edge_piece]
        for e, (u, v, w) in enumerate(zip(edge_u.tolist(), edge_v.tolist(), way.tolist(), strict=True)):
            self.into.setdefault((w, v), []).append(e)
            self.out_of.setdefault((w, u), []).append(e)
        self.edge_v = edge_v.tolist()

    def ends_at(self, way: int, node_ref: int) -> bool:
        ends = self.way_ends.get(way)
        return ends is not None and node_ref in ends

    def other_end(self, way: int, node_ref: int) -> int:
        first, last = self.way_ends[way]
        return last if node_ref == first else first

    def walk(self, way: int, start_ref: int) -> list[int] | None:
        """The edges of ``way`` driven from its end ``start_ref`` to its other end, or None when the
        way cannot be driven that way (one-way, or cut by the extract)."""
        target = self.other_end(way, start_ref)
        node = self.node_of.get(start_ref)
        path: list[int] = []
        while node is not None and int(self.node_ref[node]) != target:
            edges = [e for e in self.out_of.get((way, node), []) if e not in path]
            if len(edges) != 1 or len(path) > 10_000:
                return None
            path.append(edges[0])
            node = self.edge_v[edges[0]]
        return path if node is not None and path else None


def resolve(
    restrictions: Iterable[Restriction], lookup: EdgeLookup
) -> tuple[list[EdgeRestriction], RestrictionReport]:
    """Map each restriction onto the directed edges of the compiled graph."""
    report = RestrictionReport()
    out: list[EdgeRestriction] = []
    for r in restrictions:
        resolved = _resolve_one(r, lookup)
        if isinstance(resolved, str):
            report.skip(resolved, r.relation)
            continue
        out.extend(resolved)
        report.applied.append(r.relation)
    return out, report


def _resolve_one(r: Restriction, lookup: EdgeLookup) -> list[EdgeRestriction] | str:
    for way in (*r.from_ways, *r.via_ways, *r.to_ways):
        if way not in lookup.way_ends:
            return "member not a drivable road in the extract"
    # The chain: from's end → each via way end to end → to's start, as OSM node refs.
    if r.via_node is not None:
        start_refs = [r.via_node]
    else:
        first, last = lookup.way_ends[r.via_ways[0]]
        start_refs = [first, last]
    for start in start_refs:
        if not all(lookup.ends_at(w, start) for w in r.from_ways):
            continue
        via_edges: list[int] = []
        node = start
        ok = True
        for way in r.via_ways:
            if not lookup.ends_at(way, node):
                ok = False
                break
            walked = lookup.walk(way, node)
            if walked is None:
                ok = False
                break
            via_edges.extend(walked)
            node = lookup.other_end(way, node)
        if not ok or not all(lookup.ends_at(w, node) for w in r.to_ways):
            continue
        graph_start, graph_end = lookup.node_of.get(start), lookup.node_of.get(node)
        if graph_start is None or graph_end is None:
            return "via not on the routable network"
        to_edges = tuple(e for w in r.to_ways for e in lookup.out_of.get((w, graph_end), []))
        from_edges = [e for w in r.from_ways for e in lookup.into.get((w, graph_start), [])]
        if not from_edges:
            return "from way cannot be driven into the via"
        if r.only and not to_edges:
            return "only_ into a way that cannot be driven out of the via"
        if not to_edges:
            return "nothing to forbid: to way cannot be driven out of the via"
        return [EdgeRestriction(r.relation, r.only, (e, *via_edges), to_edges) for e in from_edges]
    return "from/to ways do not start or end at the via"
