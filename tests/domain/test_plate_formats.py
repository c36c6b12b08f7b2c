"""Every mainland plate format a patrol check meets (GA 36-2018): one valid and several invalid
examples per kind, so a typo is refused as ``bad_plate`` and never checked as another plate."""

from __future__ import annotations

import pytest

from jingwu.domain.identity import PlateKind, parse_plate
from jingwu.errors import ValidationFailed


@pytest.mark.parametrize(
    ("text", "number", "kind", "province"),
    [
        ("黑A12345", "黑A12345", PlateKind.ORDINARY, "黑"),  # blue, small
        ("黑L·7Q219", "黑L7Q219", PlateKind.ORDINARY, "黑"),  # yellow, large: same text
        ("沪C 8X2K1", "沪C8X2K1", PlateKind.ORDINARY, "沪"),  # black (foreign-invested, 1992 style)
        ("黑AD12345", "黑AD12345", PlateKind.NEW_ENERGY, "黑"),  # green, small, pure electric
        ("京AFA1234", "京AFA1234", PlateKind.NEW_ENERGY, "京"),  # green, small, hybrid
        ("黑A12345F", "黑A12345F", PlateKind.NEW_ENERGY, "黑"),  # yellow-green, large
        ("黑A0123警", "黑A0123警", PlateKind.POLICE, "黑"),  # white police
        ("吉A1234学", "吉A1234学", PlateKind.COACH, "吉"),  # learner
        ("黑B1234挂", "黑B1234挂", PlateKind.TRAILER, "黑"),  # trailer
        ("粤Z·A123港", "粤ZA123港", PlateKind.HONG_KONG, "粤"),  # black, Hong Kong
        ("粤Z1234澳", "粤Z1234澳", PlateKind.MACAO, "粤"),  # black, Macao
        ("沪A·1234领", "沪A1234领", PlateKind.CONSULATE, "沪"),  # consulate
        ("使014·578", "使014578", PlateKind.EMBASSY, ""),  # embassy, 1992 style
        ("224 578使", "224578使", PlateKind.EMBASSY, ""),  # embassy, 2018 style
        ("黑A1234应急", "黑A1234应急", PlateKind.EMERGENCY, "黑"),  # emergency rescue
    ],
)
def test_each_mainland_format_is_recognised(text: str, number: str, kind: PlateKind, province: str) -> None:
    plate = parse_plate(text)
    assert (plate.number, plate.kind, plate.province) == (number, kind, province)


@pytest.mark.parametrize(
    "text",
    [
        "黑A1234领5",  # 领 ends the plate
        "沪A123领",  # consulate serial has four characters
        "港A1234领",  # not a mainland province
        "使01457",  # embassy: three + three digits
        "使0145789",
        "使000578",  # country code 000 is never issued
        "使01A578",  # embassy serials are digits
        "224578",  # six digits without 使
        "使014578使",
        "黑A123应急",  # emergency serial has four characters
        "黑A1234应",  # half the 应急 mark
        "应急A1234",
        "粤Z12345港",  # Hong Kong serial has four characters
        "黑Z1234港",  # Hong Kong plates are 粤Z
        "黑A1234學",  # traditional 學 is not the mark
        "黑AD123456",  # new-energy plates have eight characters
        "黑A1234D5",
        "黑I1234挂",  # I is never an authority letter
    ],
)
def test_malformed_plates_of_each_kind_are_refused(text: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_plate(text)
    assert exc.value.code == "bad_plate"
