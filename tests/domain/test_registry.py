"""The registry's rules: standard addresses, checked fields with stable codes, licences, changes,
and the one-person-two-addresses conflict."""

from __future__ import annotations

from datetime import date

import pytest

from jingwu.domain.registry import (
    HouseAddress,
    Relation,
    Residence,
    as_values,
    changes,
    licence_check_char,
    parse_business,
    parse_house,
    parse_licence_number,
    parse_resident,
    residence_conflict,
)
from jingwu.errors import ValidationFailed

TODAY = date(2026, 12, 7)
RESIDENT = {
    "name": "王建国",
    "id_number": "23010319580312001X",
    "phone": "+86 138-1234-5678",
    "relation": "head",
    "plates": ["黑A·1234D", "黑AD12345"],
    "moved_in": "2001-05-01",
}


def _fix_check(number: str) -> str:
    from jingwu.domain.identity import id_check_char

    return number[:17] + id_check_char(number[:17])


def test_the_licence_check_character_follows_gb32100() -> None:
    # The standard's own worked example.
    assert licence_check_char("91350100M000100Y4") == "3"
    assert parse_licence_number(" 91350100m000100y43 ") == "91350100M000100Y43"
    for bad in ("91350100M000100Y44", "91350100M000100Y4", "91350100I000100Y43", "9135A100M000100Y43"):
        with pytest.raises(ValidationFailed) as caught:
            parse_licence_number(bad)
        assert caught.value.code == "bad_licence_number"


def test_a_resident_is_normalised_and_each_bad_field_has_its_code() -> None:
    record = RESIDENT | {"id_number": _fix_check(RESIDENT["id_number"])}
    parsed = parse_resident(record, today=TODAY)
    assert parsed.phone == "+8613812345678" and parsed.relation is Relation.HEAD
    assert parsed.plates == ("黑A1234D", "黑AD12345")
    cases = {
        "bad_id_checksum": {
            "id_number": record["id_number"][:17] + ("0" if record["id_number"][17] != "0" else "1")
        },
        "bad_phone": {"phone": "12345"},
        "bad_plate": {"plates": ["京A"]},
        "bad_relation": {"relation": "boss"},
        "bad_date": {"moved_out": "2000-01-01"},
        "missing_field": {"name": " "},
        "bad_name": {"name": "王1"},
    }
    for code, change in cases.items():
        with pytest.raises(ValidationFailed) as caught:
            parse_resident(record | change, today=TODAY)
        assert caught.value.code == code, change


def test_a_house_has_one_key_for_one_standard_address() -> None:
    a = parse_house({"street_address": "红军街85号", "community": "保健路", "building": "3", "unit": "2",
                     "room": "501", "lat": 45.75, "lon": 126.64})  # fmt: skip
    b = HouseAddress("红军街 85号", "保健路", "3", "2", "501", 45.7501, 126.6401)
    assert a.key == b.key
    assert a.label == "红军街85号 保健路社区 3号楼2单元501室"
    with pytest.raises(ValidationFailed) as caught:
        parse_house({"street_address": "红军街85号", "community": "保健路", "lat": 45.75, "lon": 126.64})
    assert caught.value.code == "missing_field"
    with pytest.raises(ValidationFailed):
        parse_house({"street_address": "x", "community": "y", "building": "1", "lat": 95, "lon": 126.64})


def test_a_business_checks_its_people_in_charge() -> None:
    business = {"name": "便利店", "licence_number": "91350100M000100Y43", "kind": "shop",
                "people_in_charge": [{"name": "李红", "phone": "13900001111"}]}  # fmt: skip
    parsed = parse_business(business, today=TODAY)
    assert parsed.people_in_charge[0].role == "负责人"
    with pytest.raises(ValidationFailed) as caught:
        parse_business(business | {"people_in_charge": [{"name": "李红", "phone": "1"}]}, today=TODAY)
    assert caught.value.code == "bad_phone"
    with pytest.raises(ValidationFailed) as caught:
        parse_business(business | {"kind": "casino"}, today=TODAY)
    assert caught.value.code == "bad_business_kind"


def test_changes_lists_only_the_fields_that_differ() -> None:
    record = RESIDENT | {"id_number": _fix_check(RESIDENT["id_number"])}
    before = as_values(parse_resident(record, today=TODAY))
    after = as_values(parse_resident(record | {"phone": "13900001111"}, today=TODAY))
    assert changes(before, after) == [("phone", "+8613812345678", "+8613900001111")]


def test_one_number_at_two_addresses_is_a_conflict_unless_the_collector_says_the_person_moved() -> None:
    here = Residence("res_1", "hse_a")
    assert not residence_conflict(None, claimed_house_id="hse_b", target_id=None, moved_out=None)
    assert not residence_conflict(here, claimed_house_id="hse_a", target_id=None, moved_out=None)
    assert residence_conflict(here, claimed_house_id="hse_b", target_id=None, moved_out=None)
    assert not residence_conflict(here, claimed_house_id="hse_b", target_id="res_1", moved_out=None)
    assert residence_conflict(here, claimed_house_id="hse_b", target_id="res_other", moved_out=None)
    assert not residence_conflict(here, claimed_house_id="hse_b", target_id=None, moved_out=date(2026, 1, 1))
