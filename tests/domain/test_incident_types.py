from __future__ import annotations

import dataclasses

import pytest

from jingwu.domain.incident_types import (
    CAPABILITIES,
    CATEGORIES,
    CODE_PATTERN,
    EIDO_COMMON_TYPES,
    INCIDENT_TYPES,
    PRIORITIES,
    UNIT_KINDS,
    IncidentType,
    get_incident_type,
    search_incident_types,
)
from jingwu.errors import ValidationFailed


def test_registry_has_a_useful_number_of_types() -> None:
    assert 50 <= len(INCIDENT_TYPES) <= 75


def test_codes_are_unique_well_formed_and_keyed_by_themselves() -> None:
    codes = [t.code for t in INCIDENT_TYPES.values()]
    assert len(codes) == len(set(codes))
    for key, t in INCIDENT_TYPES.items():
        assert key == t.code
        assert CODE_PATTERN.fullmatch(t.code), t.code
        assert t.code.isascii()
        assert t.code.split(".", 1)[0] == t.category


def test_names_are_present_and_unique() -> None:
    zh = [t.name_zh for t in INCIDENT_TYPES.values()]
    en = [t.name_en for t in INCIDENT_TYPES.values()]
    assert all(zh) and all(en)
    assert len(set(zh)) == len(zh)
    assert len(set(en)) == len(en)


def test_priorities_are_in_range() -> None:
    for t in INCIDENT_TYPES.values():
        assert t.default_priority in PRIORITIES, t.code
    assert {t.default_priority for t in INCIDENT_TYPES.values()} == set(PRIORITIES)


def test_every_eido_type_is_a_documented_apco_code() -> None:
    for t in INCIDENT_TYPES.values():
        assert t.eido_type in EIDO_COMMON_TYPES, t.code
        # APCO ANS 2.103.1 codes are short upper-case tokens, not free text
        assert t.eido_type.isupper() and " " not in t.eido_type


def test_unit_kinds_and_capabilities_come_from_the_vocabularies() -> None:
    for t in INCIDENT_TYPES.values():
        assert t.allowed_unit_kinds, t.code
        assert t.allowed_unit_kinds <= UNIT_KINDS, t.code
        assert t.required_capabilities <= CAPABILITIES, t.code


def test_patrol_cars_can_attend_everything_and_drones_only_search_or_observe() -> None:
    assert all("patrol_car" in t.allowed_unit_kinds for t in INCIDENT_TYPES.values())
    with_drones = {t.code for t in INCIDENT_TYPES.values() if "drone" in t.allowed_unit_kinds}
    assert {"help.missing_person", "help.missing_person.child", "order.thrown_object"} <= with_drones
    assert "crim.robbery" not in with_drones
    assert "order.noise" not in with_drones


def test_dispatch_relevant_requirements() -> None:
    assert "armed" in get_incident_type("crim.firearm.shots").required_capabilities
    assert "traffic" in get_incident_type("traffic.accident.injury").required_capabilities
    assert get_incident_type("order.noise").required_capabilities == frozenset()
    assert "foot" in get_incident_type("order.noise").allowed_unit_kinds
    assert get_incident_type("crim.homicide").default_priority == 1


def test_every_category_has_types_and_consistent_names() -> None:
    used = {t.category for t in INCIDENT_TYPES.values()}
    assert used == set(CATEGORIES)
    for t in INCIDENT_TYPES.values():
        assert (t.category_zh, t.category_en) == CATEGORIES[t.category]


def test_types_are_immutable() -> None:
    t = get_incident_type("crim.robbery")
    assert isinstance(t, IncidentType)
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.default_priority = 4  # type: ignore[misc]
    with pytest.raises(TypeError):
        INCIDENT_TYPES["x.y"] = t  # type: ignore[index]


def test_get_known_type() -> None:
    t = get_incident_type("crim.robbery")
    assert (t.name_zh, t.name_en, t.category, t.eido_type) == ("抢劫", "Robbery", "crim", "ROBBERY")


@pytest.mark.parametrize("code", ["crim.nonsense", "", "CRIM.ROBBERY", "robbery"])
def test_unknown_code_is_a_validation_error(code: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        get_incident_type(code)
    assert info.value.code == "unknown_incident_type"
    assert info.value.http_status == 422
    assert info.value.params == {"type_code": code}
    assert repr(code) in info.value.message


def test_search_by_chinese_english_and_code() -> None:
    assert "crim.robbery" in [t.code for t in search_incident_types("抢劫")]
    assert [t.code for t in search_incident_types("robbery")] == ["crim.robbery"]
    assert [t.code for t in search_incident_types("  ROBBERY ")] == ["crim.robbery"]
    missing = [t.code for t in search_incident_types("走失")]
    assert missing == ["help.missing_person", "help.missing_person.elderly", "help.missing_person.child"]
    assert {t.category for t in search_incident_types("traffic.")} == {"traffic"}


def test_search_blank_lists_all_and_nonsense_lists_none() -> None:
    assert search_incident_types("") == list(INCIDENT_TYPES.values())
    assert search_incident_types("zzz-no-such-type") == []
