"""Identifiers of people and vehicles: resident identity numbers, plate numbers, phone numbers.

Pure functions (no I/O, no clock: "today" is passed in). Each parser either returns a normalised
value or raises :class:`~jingwu.errors.ValidationFailed` with a stable ``code``:

* resident identity numbers (公民身份号码, GB 11643-1999): ``bad_id_number_format``,
  ``bad_id_checksum``, ``bad_id_birth_date``, ``bad_id_region``;
* plate numbers (机动车号牌, GA 36-2018): ``bad_plate``;
* phone numbers: ``bad_phone``.

The masking helpers never raise: they are for showing a stored value, which must always display.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date

from jingwu.errors import ValidationFailed

# --------------------------------------------------------------------------------------------
# Resident identity numbers (GB 11643-1999)
# --------------------------------------------------------------------------------------------

#: Province-level codes (the first two digits of GB/T 2260) with their names.
#:
#: Only these two digits are checked, never the full six-digit county code. A number keeps the
#: address code of the place and year it was issued for life: counties merge, split and are renamed
#: every year, and their old codes leave today's GB/T 2260 list, but nobody is re-numbered. Even
#: whole provinces moved: people registered in Chongqing before 1997 carry Sichuan's 51, people
#: from Hainan before 1988 carry Guangdong's 44. A check against the current county list would
#: therefore refuse real, valid people (and a complete historical list is not a pure-code fact).
#: The province-level codes have been stable since 1997 and catch a mistyped first digit or two.
PROVINCES: dict[str, str] = {
    "11": "北京市",
    "12": "天津市",
    "13": "河北省",
    "14": "山西省",
    "15": "内蒙古自治区",
    "21": "辽宁省",
    "22": "吉林省",
    "23": "黑龙江省",
    "31": "上海市",
    "32": "江苏省",
    "33": "浙江省",
    "34": "安徽省",
    "35": "福建省",
    "36": "江西省",
    "37": "山东省",
    "41": "河南省",
    "42": "湖北省",
    "43": "湖南省",
    "44": "广东省",
    "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市",
    "51": "四川省",
    "52": "贵州省",
    "53": "云南省",
    "54": "西藏自治区",
    "61": "陕西省",
    "62": "甘肃省",
    "63": "青海省",
    "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
    "71": "台湾省",
    "81": "香港特别行政区",
    "82": "澳门特别行政区",
    # Not a GB/T 2260 province: the residence permits of Hong Kong, Macao and Taiwan residents
    # (港澳台居民居住证, since 2018) carry 18-digit numbers built by the same GB 11643 rule, with
    # address code 810000, 820000 or 830000. 83 is Taiwan residents'; refusing it would refuse them.
    "83": "台湾居民居住证",
}

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"  # indexed by (Σ digit × weight) mod 11 — ISO 7064 MOD 11-2
_EARLIEST_BIRTH = date(1900, 1, 1)
_ID_18 = re.compile(r"[0-9]{17}[0-9X]")
_ID_15 = re.compile(r"[0-9]{15}")


class Sex(enum.StrEnum):
    MALE = "male"
    FEMALE = "female"


@dataclass(frozen=True, slots=True)
class ResidentId:
    """A checked resident identity number.

    ``number`` is always the 18-character form with an upper-case ``X``. ``from_15_digits`` says
    the input was a first-generation 15-digit number, upgraded here: such a number has no check
    digit, so a mistyped digit in it could not be detected.
    """

    number: str
    birth_date: date
    sex: Sex
    province_code: str
    province_name: str
    from_15_digits: bool = False


def id_check_char(first17: str) -> str:
    """The GB 11643 check character (``0``–``9`` or ``X``) of the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("the check character is computed from exactly 17 ASCII digits")
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def parse_id_number(text: str, *, today: date) -> ResidentId:
    """Check a resident identity number and return its parsed value.

    Accepts the 18-character number (a lower-case ``x`` is read as ``X``; surrounding white space
    is ignored) and the first-generation 15-digit number. A 15-digit number is accepted and
    upgraded the way the public-security registry upgraded them: the birth year gains ``19``
    (first-generation cards went only to people born in the 1900s) and the check character is
    computed. Its date and region are checked like an 18-digit number's; it has no checksum to check.

    Refuses, in this order: ``bad_id_number_format`` (length or characters), ``bad_id_checksum``,
    ``bad_id_birth_date`` (not a calendar date, before 1900 or after ``today``), ``bad_id_region``
    (the first two digits are no province-level code).
    """
    raw = text.strip().upper() if isinstance(text, str) else ""
    from_15 = False
    if _ID_18.fullmatch(raw):
        number = raw
        if id_check_char(number[:17]) != number[17]:
            raise ValidationFailed(
                "the identity number's check character does not match its digits",
                code="bad_id_checksum",
            )
    elif _ID_15.fullmatch(raw):
        first17 = raw[:6] + "19" + raw[6:]
        number = first17 + id_check_char(first17)
        from_15 = True
    else:
        raise ValidationFailed(
            "an identity number has 18 characters (17 digits and a digit or X) or 15 digits",
            code="bad_id_number_format",
        )

    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationFailed(
            "the identity number's birth date is not a calendar date", code="bad_id_birth_date"
        ) from None
    if birth < _EARLIEST_BIRTH or birth > today:
        raise ValidationFailed(
            f"the identity number's birth date {birth.isoformat()} is before 1900 or in the future",
            code="bad_id_birth_date",
            birth_date=birth.isoformat(),
        )

    province = number[:2]
    name = PROVINCES.get(province)
    if name is None:
        raise ValidationFailed(
            f"the identity number's region {province} is no province-level code",
            code="bad_id_region",
            province_code=province,
        )
    sex = Sex.MALE if int(number[16]) % 2 == 1 else Sex.FEMALE
    return ResidentId(
        number=number,
        birth_date=birth,
        sex=sex,
        province_code=province,
        province_name=name,
        from_15_digits=from_15,
    )


def mask_id_number(number: str) -> str:
    """``2301**********123X``: the first and last four characters shown, the rest starred.

    Never raises and never validates (a stored legacy value must still display); anything shorter
    than nine characters is starred completely, so no more than eight characters ever show.
    """
    value = number.strip().upper()
    if len(value) < 9:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


# --------------------------------------------------------------------------------------------
# Plate numbers (机动车号牌, GA 36-2018)
# --------------------------------------------------------------------------------------------

#: The 31 mainland provincial abbreviations that begin a civil plate.
PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"


class PlateKind(enum.StrEnum):
    ORDINARY = "ordinary"  # blue (small) or yellow (large): the text does not tell them apart
    NEW_ENERGY = "new_energy"  # green (small) or yellow-green (large)
    POLICE = "police"  # white, a red 警 at the end
    COACH = "coach"  # 学: driving-school car
    TRAILER = "trailer"  # 挂
    HONG_KONG = "hong_kong"  # 粤Z…港: cross-border vehicle from Hong Kong (black plate)
    MACAO = "macao"  # 粤Z…澳 (black plate)
    EMBASSY = "embassy"  # 使: black, a country code and a serial, no province
    CONSULATE = "consulate"  # 领: black, a province and a serial
    EMERGENCY = "emergency"  # 应急: fire and rescue vehicles of the emergency-management system


@dataclass(frozen=True, slots=True)
class Plate:
    """A checked plate. ``province`` is the issuing province's abbreviation (the first character),
    or ``""`` for an embassy plate, which names a country instead."""

    number: str
    kind: PlateKind
    province: str


# The serial uses digits and the 24 letters without I and O (they read as 1 and 0). The issuing
# authority's letter may be O: "O" plates are issued by a provincial public-security department
# itself (e.g. 陕O…警); I is never used.
_SERIAL = "[0-9A-HJ-NP-Z]"
_AUTHORITY = "[A-HJ-Z]"
_PROV = f"[{PLATE_PROVINCES}]"
# Small new-energy vehicles: first serial character is the energy letter, then a letter or digit,
# then four digits. D (纯电动, pure electric) and F (非纯电动, plug-in hybrid / range-extender / fuel
# cell) were the original letters; when the series ran short the letters were extended: A B C D E
# for pure electric and F G H J K for the others.
_SMALL_NEV_LETTERS = "ABCDEFGHJK"
# Large new-energy vehicles: five digits, then D or F.
_LARGE_NEV_LETTERS = "DF"

_PLATE_PATTERNS: tuple[tuple[PlateKind, re.Pattern[str]], ...] = (
    (PlateKind.ORDINARY, re.compile(f"{_PROV}{_AUTHORITY}{_SERIAL}{{5}}")),
    (
        PlateKind.NEW_ENERGY,
        re.compile(
            f"{_PROV}{_AUTHORITY}(?:[{_SMALL_NEV_LETTERS}]{_SERIAL}[0-9]{{4}}|[0-9]{{5}}[{_LARGE_NEV_LETTERS}])"
        ),
    ),
    (PlateKind.POLICE, re.compile(f"{_PROV}{_AUTHORITY}{_SERIAL}{{4}}警")),
    (PlateKind.COACH, re.compile(f"{_PROV}{_AUTHORITY}{_SERIAL}{{4}}学")),
    (PlateKind.TRAILER, re.compile(f"{_PROV}{_AUTHORITY}{_SERIAL}{{4}}挂")),
    (PlateKind.HONG_KONG, re.compile(f"粤Z{_SERIAL}{{4}}港")),
    (PlateKind.MACAO, re.compile(f"粤Z{_SERIAL}{{4}}澳")),
    # Consulates: a province (where the consulate sits), a letter and four characters, then 领.
    (PlateKind.CONSULATE, re.compile(f"{_PROV}{_AUTHORITY}{_SERIAL}{{4}}领")),
    # 应急救援 (GA 36-2018 amendment of 2018, when fire services left the armed police): a
    # province, a letter, four characters and the two characters 应急 — eight in all.
    (PlateKind.EMERGENCY, re.compile(f"{_PROV}{_AUTHORITY}{_SERIAL}{{4}}应急")),
    # Embassies: a three-digit country code (001 upwards) and a three-digit serial; 使 comes first
    # on the 1992-style plate (使014·578) and last on the 2018 one (224·578使).
    (PlateKind.EMBASSY, re.compile(r"使(?!000)[0-9]{3}[0-9]{3}|(?!000)[0-9]{3}[0-9]{3}使")),
)
# Separators people type or read off the plate: spaces (also full-width), the middle dot, dots, dashes.
_PLATE_SEPARATORS = re.compile(r"[\s·•.．\-]")


def parse_plate(text: str) -> Plate:
    """Check a plate number and return it normalised (no separators, upper case) with its kind.

    Recognised: ordinary plates (7 characters: province, authority letter, five letters or digits;
    blue for small vehicles, yellow for large ones, black for the old foreign-invested ones: the
    text does not tell the colours apart), new-energy plates (8 characters, see the energy
    letters above), police (…警, white), driving-school (…学), trailer (…挂), Hong Kong / Macao
    cross-border plates (粤Z…港 / 粤Z…澳), consulate (沪A1234领), embassy (使014578 / 224578使)
    and emergency-rescue (黑A1234应急) plates. Not recognised: military and armed-police plates
    (another registry's), temporary paper permits. Anything else: ``bad_plate``.
    """
    value = _PLATE_SEPARATORS.sub("", text).upper() if isinstance(text, str) else ""
    for kind, pattern in _PLATE_PATTERNS:
        if pattern.fullmatch(value):
            province = "" if kind is PlateKind.EMBASSY else value[0]
            return Plate(number=value, kind=kind, province=province)
    raise ValidationFailed("not a plate number", code="bad_plate")


# --------------------------------------------------------------------------------------------
# Phone numbers
# --------------------------------------------------------------------------------------------


class PhoneKind(enum.StrEnum):
    MOBILE = "mobile"
    LANDLINE = "landline"


@dataclass(frozen=True, slots=True)
class Phone:
    """A mainland phone number. ``e164`` is ``+86`` and the national number, without the trunk 0.

    ``extension`` (digits) belongs to landlines only; :attr:`normalised` writes it the RFC 3966
    way (``;ext=``), which is what is stored.
    """

    e164: str
    kind: PhoneKind
    extension: str | None = None

    @property
    def national(self) -> str:
        """Written the way it is dialled at home: ``13812345678``, ``045187654321``."""
        digits = self.e164[3:]
        return digits if self.kind is PhoneKind.MOBILE else "0" + digits

    @property
    def normalised(self) -> str:
        return self.e164 if self.extension is None else f"{self.e164};ext={self.extension}"


_MOBILE = re.compile(r"1[3-9][0-9]{9}")
# National number of a landline without the trunk 0: a two-digit area code (10 Beijing, 2x the
# other big cities) with an 8-digit subscriber number, or a three-digit area code (3xx–9xx) with
# a 7- or 8-digit one. Subscriber numbers never begin with 0 or 1.
_LANDLINE = re.compile(r"(?:(?:10|2[0-9])[2-9][0-9]{7}|[3-9][0-9]{2}[2-9][0-9]{6,7})")
# 400 and 800 numbers are companies' national service lines, not a person's phone.
_SERVICE_PREFIXES = ("400", "800")
_EXTENSION_MARK = re.compile(r"(?:转|分机|ext\.?|x|#|,|;ext=)", re.IGNORECASE)
_PHONE_SEPARATORS = re.compile(r"[\s\-()（）.]")


def _national(digits: str) -> tuple[str, PhoneKind] | None:
    """Classify a national number (no country code, no trunk 0), or None."""
    if digits.startswith(_SERVICE_PREFIXES):
        return None
    if _MOBILE.fullmatch(digits):
        return digits, PhoneKind.MOBILE
    if _LANDLINE.fullmatch(digits):
        return digits, PhoneKind.LANDLINE
    return None


def parse_phone(text: str) -> Phone:
    """Check a reporter's phone number and return it in E.164 (``+86…``).

    Accepted: mainland mobile numbers (11 digits, ``1`` then ``3``–``9``); landlines with their
    area code (``0451-87654321``, ``(010) 6552 9988``), optionally with an extension (``-123``,
    ``转123``, ``ext 123``); either may carry ``+86`` or ``0086`` in front (a landline then drops its
    0, though a kept one is tolerated). Spaces, dashes, dots and brackets are ignored.

    Refused with ``bad_phone``: short emergency and service numbers (110, 119, 120, 122, 12345,
    10086, 95xxx …) — they are not a number anyone can be called back on; 400/800 service lines;
    landlines without an area code; other countries' numbers; anything else.

    Mobile prefixes are not checked digit by digit against the carriers' allocations: new ranges
    open every few years (192 in 2021) and a stale table would refuse real callers.
    """
    if not isinstance(text, str):
        raise ValidationFailed("not a phone number", code="bad_phone")
    value = text.strip()
    extension: str | None = None
    mark = _EXTENSION_MARK.search(value)
    if mark is not None:
        value, extension = value[: mark.start()], _PHONE_SEPARATORS.sub("", value[mark.end() :])
        if not (extension.isascii() and extension.isdigit() and 1 <= len(extension) <= 6):
            raise ValidationFailed("the phone extension must be 1 to 6 digits", code="bad_phone")

    international = False
    compact = value.strip()
    if compact.startswith("+"):
        compact = compact[1:].lstrip()
        if not compact.startswith("86"):
            raise ValidationFailed("only mainland China (+86) numbers are accepted", code="bad_phone")
        compact, international = compact[2:], True
    groups = [g for g in _PHONE_SEPARATORS.split(compact) if g]
    digits = "".join(groups)
    if not (digits.isascii() and digits.isdigit()):
        raise ValidationFailed("a phone number has only digits and separators", code="bad_phone")
    if not international and digits.startswith("0086"):
        digits, international = digits[4:], True
        groups = []  # the dash-extension guess below works on the written groups; not after 0086

    found = _classify(digits, international=international)
    # "0451-87654321-123": without a marker, a last dash group may be an extension.
    if found is None and extension is None and len(groups) >= 3 and len(groups[-1]) <= 6:
        found = _classify("".join(groups[:-1]), international=international)
        if found is not None and found[1] is PhoneKind.LANDLINE:
            extension = groups[-1]
        else:
            found = None
    if found is None:
        raise ValidationFailed(
            "not a mainland mobile number or a landline with its area code", code="bad_phone"
        )
    national, kind = found
    if extension is not None and kind is PhoneKind.MOBILE:
        raise ValidationFailed("a mobile number has no extension", code="bad_phone")
    return Phone(e164="+86" + national, kind=kind, extension=extension)


def _classify(digits: str, *, international: bool) -> tuple[str, PhoneKind] | None:
    if digits.startswith("0"):
        # The trunk 0 of a landline; after +86 it should have been dropped, but people keep it.
        return _landline_only(digits[1:])
    if international:
        return _national(digits)
    # Without +86 only a mobile number may start without 0 (a landline needs its area code).
    found = _national(digits)
    return found if found is not None and found[1] is PhoneKind.MOBILE else None


def _landline_only(digits: str) -> tuple[str, PhoneKind] | None:
    found = _national(digits)
    return found if found is not None and found[1] is PhoneKind.LANDLINE else None


def mask_phone(number: str) -> str:
    """``138****5678`` (mobile), ``0451****4321`` (landline: the area code and last four shown).

    Accepts a raw or a normalised number and never raises: what does not parse keeps only its
    last four digits (``****5678``), or is starred completely when it has fewer than eight.
    """
    try:
        phone = parse_phone(number)
    except ValidationFailed:
        digits = "".join(c for c in number if c.isdigit())
        return "*" * len(digits) if len(digits) < 8 else "*" * (len(digits) - 4) + digits[-4:]
    national = phone.national
    if phone.kind is PhoneKind.MOBILE:
        return national[:3] + "****" + national[-4:]
    area = 3 if national[1] in "12" else 4
    return national[:area] + "*" * (len(national) - area - 4) + national[-4:]


def mask_name(name: str) -> str:
    """``张*`` / ``欧阳**`` / ``J***``: the first character only, one star for each other one
    (spaces kept), so a name is recognisable to whoever already knows it and to no one else."""
    name = name.strip()
    if not name:
        return ""
    return name[0] + "".join(" " if c.isspace() else "*" for c in name[1:])


__all__ = [
    "PLATE_PROVINCES",
    "PROVINCES",
    "Phone",
    "PhoneKind",
    "Plate",
    "PlateKind",
    "ResidentId",
    "Sex",
    "id_check_char",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "parse_id_number",
    "parse_phone",
    "parse_plate",
]
