from __future__ import annotations

from datetime import date

import pytest

from jingwu.domain.identity import (
    PROVINCES,
    PhoneKind,
    PlateKind,
    Sex,
    id_check_char,
    mask_id_number,
    mask_phone,
    parse_id_number,
    parse_phone,
    parse_plate,
)
from jingwu.errors import ValidationFailed

TODAY = date(2025, 6, 1)


def _with_check(first17: str) -> str:
    return first17 + id_check_char(first17)


def _code(exc: pytest.ExceptionInfo[ValidationFailed]) -> str:
    return exc.value.code


# --- resident identity numbers -------------------------------------------------------------


def test_the_standards_own_example_numbers_have_the_check_characters_it_gives() -> None:
    # GB 11643-1999's worked examples: 11010519491231002X and 440524188001010014.
    assert id_check_char("11010519491231002") == "X"
    assert id_check_char("44052418800101001") == "4"


def test_check_character_satisfies_the_iso_7064_mod_11_2_definition() -> None:
    # Defined independently of the weight table: position i (1-based from the right, the check
    # character at 1) weighs 2**(i-1) mod 11, X is 10, and the weighted sum of all 18 is 1 mod 11.
    # Covering every remainder proves the whole "10X98765432" mapping.
    seen = set()
    for n in range(2000):
        first17 = f"{(n * 7919 + 11) % 10**17:017d}"
        check = id_check_char(first17)
        values = [int(d) for d in first17] + [10 if check == "X" else int(check)]
        assert sum(v * pow(2, 17 - i, 11) for i, v in enumerate(values)) % 11 == 1
        seen.add(check)
    assert seen == set("0123456789X")


def test_a_valid_number_is_parsed() -> None:
    parsed = parse_id_number("11010519491231002X", today=TODAY)
    assert parsed.number == "11010519491231002X"
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sex is Sex.FEMALE  # 17th digit 2: even
    assert (parsed.province_code, parsed.province_name) == ("11", "北京市")
    assert parsed.from_15_digits is False


def test_a_lower_case_x_and_surrounding_space_are_normalised() -> None:
    assert parse_id_number(" 11010519491231002x\n", today=TODAY).number == "11010519491231002X"


def test_sex_follows_the_parity_of_the_17th_digit() -> None:
    male = _with_check("23010219900307123")
    female = _with_check("23010219900307124")
    assert parse_id_number(male, today=TODAY).sex is Sex.MALE
    assert parse_id_number(female, today=TODAY).sex is Sex.FEMALE
    assert parse_id_number(male, today=TODAY).province_name == "黑龙江省"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "11010519491231002",  # 17
        "11010519491231002XX",  # 19
        "1101051949123100X2",  # X not last
        "11010519491231002Y",
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width digits
        "110105 19491231 002X",  # inner space is not stripped: a typo, not formatting
        "11010549123100",  # 14
    ],
)
def test_malformed_numbers_are_refused(text: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_id_number(text, today=TODAY)
    assert _code(exc) == "bad_id_number_format"


def test_every_single_digit_change_is_caught_by_the_checksum() -> None:
    good = "11010519491231002X"
    for i in range(17):
        for d in "0123456789":
            if d == good[i]:
                continue
            bad = good[:i] + d + good[i + 1 :]
            try:
                parse_id_number(bad, today=TODAY)
            except ValidationFailed as e:
                # A changed date or region digit may fail later checks, but never pass.
                assert e.code == "bad_id_checksum", (bad, e.code)
            else:
                pytest.fail(f"{bad} passed")


def test_a_wrong_check_character_is_refused() -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_id_number("110105194912310021", today=TODAY)
    assert _code(exc) == "bad_id_checksum"


@pytest.mark.parametrize(
    "first17",
    [
        "11010519490230002",  # 30 February
        "11010519491301002",  # month 13
        "11010519490000002",  # day 0
        "11010519000229002",  # 1900 was not a leap year
        "11010518991231002",  # before 1900
        "44052418800101001",  # the standard's own 1880 example: a real check character, but too old
        "11010520250602002",  # the day after TODAY
    ],
)
def test_impossible_birth_dates_are_refused(first17: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_id_number(_with_check(first17), today=TODAY)
    assert _code(exc) == "bad_id_birth_date"


def test_boundary_birth_dates_are_accepted() -> None:
    assert parse_id_number(_with_check("11010520000229002"), today=TODAY).birth_date == date(2000, 2, 29)
    assert parse_id_number(_with_check("11010519000101002"), today=TODAY).birth_date == date(1900, 1, 1)
    born_today = parse_id_number(_with_check("11010520250601002"), today=TODAY)
    assert born_today.birth_date == TODAY


@pytest.mark.parametrize("region", ["00", "10", "16", "20", "24", "30", "38", "40", "47", "55", "60", "66"])
def test_unknown_province_codes_are_refused(region: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_id_number(_with_check(region + "010519491231002"), today=TODAY)
    assert _code(exc) == "bad_id_region"
    assert exc.value.params["province_code"] == region


def test_every_listed_province_is_accepted_and_the_list_is_the_published_one() -> None:
    expected = (
        {"11", "12", "13", "14", "15", "21", "22", "23"}
        | {str(c) for c in range(31, 38)}
        | {str(c) for c in range(41, 47)}
        | {str(c) for c in range(50, 55)}
        | {str(c) for c in range(61, 66)}
        | {"71", "81", "82", "83"}
    )
    assert set(PROVINCES) == expected
    for code, name in PROVINCES.items():
        assert parse_id_number(_with_check(code + "010519491231002"), today=TODAY).province_name == name


def test_an_abolished_county_code_is_still_accepted() -> None:
    # 5102xx: Chongqing's codes while it was a city of Sichuan, gone from GB/T 2260 since 1997.
    # Its people keep their numbers; only the province-level 51 is checked.
    assert parse_id_number(_with_check("51020219600101001"), today=TODAY).province_code == "51"


def test_a_15_digit_number_is_upgraded_to_18() -> None:
    parsed = parse_id_number("110105491231002", today=TODAY)
    assert parsed.number == "11010519491231002X"
    assert parsed.from_15_digits is True
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sex is Sex.FEMALE


def test_a_15_digit_number_is_still_checked_for_date_and_region() -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_id_number("110105490230002", today=TODAY)
    assert _code(exc) == "bad_id_birth_date"
    with pytest.raises(ValidationFailed) as exc:
        parse_id_number("990105491231002", today=TODAY)
    assert _code(exc) == "bad_id_region"


def test_id_masking_shows_four_and_four() -> None:
    assert mask_id_number("23010219900307123X") == "2301**********123X"
    assert mask_id_number("11010519491231002x") == "1101**********002X"
    assert mask_id_number("110105491231002") == "1101*******1002"
    assert mask_id_number("12345678") == "********"  # too short to show anything
    assert mask_id_number("") == ""


# --- plate numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number", "kind"),
    [
        ("黑A12345", "黑A12345", PlateKind.ORDINARY),
        ("黑a·1b2c3", "黑A1B2C3", PlateKind.ORDINARY),
        ("京 N 8P 888", "京N8P888", PlateKind.ORDINARY),
        ("粤O12345", "粤O12345", PlateKind.ORDINARY),  # O as the authority: a provincial department
        ("沪AD12345", "沪AD12345", PlateKind.NEW_ENERGY),  # small, pure electric
        ("粤BFA1234", "粤BFA1234", PlateKind.NEW_ENERGY),  # small, hybrid, letter in 2nd place
        ("浙AA12345", "浙AA12345", PlateKind.NEW_ENERGY),  # extended pure-electric letter
        ("苏EK99999", "苏EK99999", PlateKind.NEW_ENERGY),  # extended non-pure-electric letter
        ("黑A12345D", "黑A12345D", PlateKind.NEW_ENERGY),  # large, pure electric
        ("川A54321F", "川A54321F", PlateKind.NEW_ENERGY),  # large, hybrid
        ("黑A1234警", "黑A1234警", PlateKind.POLICE),
        ("陕O1313警", "陕O1313警", PlateKind.POLICE),
        ("黑A1234学", "黑A1234学", PlateKind.COACH),
        ("鲁B1234挂", "鲁B1234挂", PlateKind.TRAILER),
        ("粤Z1234港", "粤Z1234港", PlateKind.HONG_KONG),
        ("粤Z 1A34 澳", "粤Z1A34澳", PlateKind.MACAO),
    ],
)
def test_plates_are_normalised_and_classified(text: str, number: str, kind: PlateKind) -> None:
    plate = parse_plate(text)
    assert (plate.number, plate.kind, plate.province) == (number, kind, number[0])


@pytest.mark.parametrize(
    "text",
    [
        "",
        "黑A1234",  # too short
        "黑A1234567",  # too long
        "港A12345",  # not a mainland province
        "AA12345",  # no province
        "黑I12345",  # I is never an authority letter
        "黑A1I345",  # I in the serial
        "黑A1O345",  # O in the serial
        "黑112345",  # the authority is a letter
        "黑AL12345",  # 8 characters, L is no energy letter
        "黑AD1234A",  # small new-energy: last four are digits
        "黑A1234AD",  # large new-energy: first five are digits
        "黑A12345A",  # large new-energy: only D or F at the end
        "黑A123警",  # police serial has four characters
        "黑A12345警",
        "京A1234港",  # Hong Kong plates are 粤Z
        "黑A1234使",  # 使 ends no provincial plate: an embassy plate is 使 and six digits
    ],
)
def test_bad_plates_are_refused(text: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_plate(text)
    assert _code(exc) == "bad_plate"


# --- phone numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalised", "kind"),
    [
        ("13812345678", "+8613812345678", PhoneKind.MOBILE),
        ("138 1234 5678", "+8613812345678", PhoneKind.MOBILE),
        ("138-1234-5678", "+8613812345678", PhoneKind.MOBILE),
        ("+86 138 1234 5678", "+8613812345678", PhoneKind.MOBILE),
        ("+86-13812345678", "+8613812345678", PhoneKind.MOBILE),
        ("0086 13812345678", "+8613812345678", PhoneKind.MOBILE),
        ("19212345678", "+8619212345678", PhoneKind.MOBILE),
        ("0451-87654321", "+8645187654321", PhoneKind.LANDLINE),
        ("0451 8765432", "+864518765432", PhoneKind.LANDLINE),  # 7-digit subscriber number
        ("(010) 6552 9988", "+861065529988", PhoneKind.LANDLINE),
        ("010-6552-9988", "+861065529988", PhoneKind.LANDLINE),
        ("+86 10 6552 9988", "+861065529988", PhoneKind.LANDLINE),
        ("+86 451 8765 4321", "+8645187654321", PhoneKind.LANDLINE),
        ("+86 (0)451 87654321", "+8645187654321", PhoneKind.LANDLINE),
        ("0451-87654321-123", "+8645187654321;ext=123", PhoneKind.LANDLINE),
        ("0451 87654321 转 8", "+8645187654321;ext=8", PhoneKind.LANDLINE),
        ("021-62345678 ext. 4567", "+862162345678;ext=4567", PhoneKind.LANDLINE),
        ("+8645187654321;ext=123", "+8645187654321;ext=123", PhoneKind.LANDLINE),  # stored form
    ],
)
def test_phones_are_normalised_to_e164(text: str, normalised: str, kind: PhoneKind) -> None:
    phone = parse_phone(text)
    assert (phone.normalised, phone.kind) == (normalised, kind)
    assert parse_phone(phone.normalised) == phone  # the stored form reads back the same


@pytest.mark.parametrize(
    "text",
    [
        "110",
        "119",
        "120",
        "122",
        "12345",
        "12110",
        "95588",
        "10086",
        "114",
        "400-810-8888",  # service line
        "+86 400 810 8888",
        "800-820-8820",
        "87654321",  # landline without area code
        "45187654321",  # an area code without its 0 is only read after +86
        "1065529988",
        "12812345678",  # 12x is no mobile range
        "1381234567",  # 10 digits
        "138123456789",  # 12 digits
        "+1 415 555 0100",  # not mainland
        "+852 9123 4567",  # Hong Kong
        "13812345678-123",  # mobiles have no extension
        "13812345678 转 5",
        "0451-0765432",  # subscriber numbers never start with 0
        "0451-87654321 转 12a",
        "1３812345678",
        "phone",
        "",
    ],
)
def test_bad_and_service_numbers_are_refused(text: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_phone(text)
    assert _code(exc) == "bad_phone"


def test_phone_masking() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+86 138 1234 5678") == "138****5678"
    assert mask_phone("+8645187654321;ext=123") == "0451****4321"
    assert mask_phone("010-6552-9988") == "010****9988"
    assert mask_phone("not a number 12345678") == "****5678"  # unparsable: only the last four
    assert mask_phone("1234567") == "*******"
