"""The synthetic residents are valid, consistent, plausibly spread, and reproducible."""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np
import pytest

from jingwu.domain.identity import Sex, parse_id_number, parse_phone, parse_plate
from jingwu.simulation.people import (
    CHILD,
    HARBIN_DISTRICTS,
    HEAD,
    SPOUSE,
    synthetic_household,
    synthetic_people,
)

TODAY = date(2026, 12, 7)


@pytest.fixture(scope="module")
def people():
    return synthetic_people(np.random.default_rng(15), 4000, today=TODAY)


def test_every_identity_number_validates_and_agrees_with_the_person(people) -> None:
    for person in people:
        parsed = parse_id_number(person.id_number, today=TODAY)
        assert parsed.number == person.id_number
        assert parsed.birth_date == person.birth_date
        assert parsed.sex is person.sex
        assert person.id_number[:6] == person.region_code


def test_every_phone_and_plate_validates(people) -> None:
    phones = [p.phone for p in people if p.phone is not None]
    plates = [plate for p in people for plate in p.plates]
    assert len(phones) > 3000 and len(plates) > 500
    for phone in phones:
        assert parse_phone(phone).national == phone
    for plate in plates:
        assert parse_plate(plate).number == plate


def test_numbers_are_unique(people) -> None:
    assert len({p.id_number for p in people}) == len(people)


def test_most_people_carry_a_harbin_district_code_and_some_come_from_elsewhere(people) -> None:
    harbin = sum(p.region_code in HARBIN_DISTRICTS for p in people) / len(people)
    assert 0.7 < harbin < 0.86
    assert {p.region_code for p in people} >= set(HARBIN_DISTRICTS)
    assert any(not p.region_code.startswith("23") for p in people)


def test_ages_follow_a_pyramid_not_a_uniform_spread(people) -> None:
    ages = np.array([p.age(TODAY) for p in people])
    assert ages.min() >= 0 and ages.max() <= 99
    children = np.mean(ages < 15)
    old = np.mean(ages >= 60)
    assert 0.06 < children < 0.15  # a uniform 0-99 spread would give 0.15
    assert 0.17 < old < 0.32
    assert np.mean(ages >= 90) < 0.01  # uniform: 0.10
    assert abs(np.median(ages) - 47) < 6


def test_sexes_are_balanced_and_names_follow_surname_frequencies(people) -> None:
    men = sum(p.sex is Sex.MALE for p in people) / len(people)
    assert 0.45 < men < 0.55
    surnames = Counter(p.name[0] for p in people)
    assert {s for s, _ in surnames.most_common(5)} <= set("王李张刘陈杨赵黄")
    assert len(surnames) > 80
    assert all(2 <= len(p.name) <= 4 for p in people)


def test_the_same_seed_gives_the_same_people_and_another_seed_others() -> None:
    first = synthetic_people(np.random.default_rng(7), 200, today=TODAY)
    again = synthetic_people(np.random.default_rng(7), 200, today=TODAY)
    other = synthetic_people(np.random.default_rng(8), 200, today=TODAY)
    assert first == again
    assert {p.id_number for p in first}.isdisjoint({p.id_number for p in other})


def test_households_have_one_head_a_plausible_spouse_and_younger_children() -> None:
    rng = np.random.default_rng(3)
    households = [synthetic_household(rng, today=TODAY) for _ in range(500)]
    sizes = [len(h) for h in households]
    assert 1.8 < float(np.mean(sizes)) < 3.2
    for household in households:
        assert household[0].relation == HEAD
        assert [m.relation for m in household].count(HEAD) == 1
        head = household[0].person
        for member in household[1:]:
            parse_id_number(member.person.id_number, today=TODAY)
            if member.relation == SPOUSE:
                assert member.person.sex is not head.sex
                assert abs(member.person.age(TODAY) - head.age(TODAY)) <= 6
            if member.relation == CHILD:
                assert head.age(TODAY) - member.person.age(TODAY) >= 21
                assert member.person.region_code in HARBIN_DISTRICTS
