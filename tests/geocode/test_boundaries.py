"""Boundary relations cut by the extract's box are closed along it, on the right side."""

from __future__ import annotations

import numpy as np

from jingwu.geocode.boundaries import AdminRelation, assemble, assemble_all, chain, contains

BOX = (0.0, 0.0, 10.0, 10.0)


def _run(*points: tuple[int, float, float]) -> list[tuple[int, float, float]]:
    return list(points)


def test_runs_sharing_end_nodes_chain_into_one_closed_ring_whatever_their_direction() -> None:
    runs = [_run((1, 1, 1), (2, 3, 1)), _run((3, 3, 3), (2, 3, 1)), _run((3, 3, 3), (4, 1, 3), (1, 1, 1))]
    chains = chain(runs)
    assert len(chains) == 1
    assert chains[0][0][0] == chains[0][-1][0]
    assert len(chains[0]) == 5


def test_a_cut_area_is_closed_along_the_box_on_the_side_of_its_label() -> None:
    # A line from the bottom edge to the top edge at x = 4: the area is west of it (label at x = 2).
    west = AdminRelation(1, "西", 6, [_run((1, 4, 0.2), (2, 4, 9.8))], label_points=[(2.0, 5.0)])
    rings = assemble(west, BOX)
    inside = contains(rings, np.array([2.0, 6.0]), np.array([5.0, 5.0]))
    assert inside.tolist() == [True, False]
    east = AdminRelation(2, "东", 6, [_run((1, 4, 0.2), (2, 4, 9.8))], label_points=[(7.0, 5.0)])
    inside = contains(assemble(east, BOX), np.array([2.0, 6.0]), np.array([5.0, 5.0]))
    assert inside.tolist() == [False, True]


def test_without_a_label_a_district_is_told_its_side_by_its_complete_subareas() -> None:
    sub = AdminRelation(10, "街道", 8, [_run((5, 6, 4), (6, 8, 4), (7, 8, 6), (8, 6, 6), (5, 6, 4))])
    district = AdminRelation(1, "区", 6, [_run((1, 4, 0.2), (2, 4, 9.8))], subareas=[10])
    areas = {a.name: a for a in assemble_all([district, sub], BOX)}
    assert contains(areas["区"].rings, np.array([7.0]), np.array([5.0])).tolist() == [True]


def test_point_in_polygon_follows_the_even_odd_rule_for_holes() -> None:
    outer = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)]
    hole = [(4.0, 4.0), (6.0, 4.0), (6.0, 6.0), (4.0, 6.0)]
    inside = contains([outer, hole], np.array([1.0, 5.0, 11.0]), np.array([1.0, 5.0, 5.0]))
    assert inside.tolist() == [True, False, False]
