"""Synthetic residents for the demo and the tests: realistic, valid, and nobody real.

Everything is a pure function of a numpy ``Generator`` (and ``today``, so ages are right): the same
seed gives the same people. Identity numbers follow GB 11643 (address code, birth date, sequence
with the sex in its last digit, check character); most people carry one of Harbin's district codes,
a share were first registered elsewhere in Heilongjiang or in another province. Birth dates follow
an age pyramid shaped like Harbin's in the 2020 census (old, few children), not a uniform spread.
Names draw surnames by their national frequency and given names by sex and by the decade of birth
(a 建国 is born in the 1950s, a 梓涵 in the 2010s). Phones are mainland mobiles; some people own cars.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from jingwu.domain.identity import Sex, id_check_char
from jingwu.domain.registry import LICENCE_CHARS, licence_check_char

# --------------------------------------------------------------------------------------------
# Where an identity number was first issued (the six-digit address code, GB/T 2260)
# --------------------------------------------------------------------------------------------

#: Harbin's districts with their code, weighted roughly by their population (2020 census, 万人).
HARBIN_DISTRICTS: dict[str, tuple[str, float]] = {
    "230102": ("道里区", 97.0),
    "230103": ("南岗区", 128.0),
    "230104": ("道外区", 75.0),
    "230108": ("平房区", 22.0),
    "230109": ("松北区", 37.0),
    "230110": ("香坊区", 104.0),
    "230111": ("呼兰区", 61.0),
    "230112": ("阿城区", 50.0),
    "230113": ("双城区", 62.0),
}

#: Elsewhere in Heilongjiang: the central district of each other prefecture-level city.
HEILONGJIANG_ELSEWHERE: dict[str, str] = {
    "230202": "齐齐哈尔市龙沙区",
    "230302": "鸡西市鸡冠区",
    "230402": "鹤岗市向阳区",
    "230502": "双鸭山市尖山区",
    "230602": "大庆市萨尔图区",
    "230803": "佳木斯市向阳区",
    "230902": "七台河市新兴区",
    "231002": "牡丹江市东安区",
    "231102": "黑河市爱辉区",
    "231202": "绥化市北林区",
}

#: Other provinces (people who came to Harbin for work or study), the neighbours most often.
OTHER_PROVINCES: dict[str, tuple[str, float]] = {
    "220102": ("长春市南关区", 4.0),
    "220202": ("吉林市昌邑区", 2.0),
    "210102": ("沈阳市和平区", 3.0),
    "150102": ("呼和浩特市新城区", 1.5),
    "370102": ("济南市历下区", 1.5),
    "130102": ("石家庄市长安区", 1.0),
    "410102": ("郑州市中原区", 1.0),
    "110101": ("北京市东城区", 1.0),
    "120101": ("天津市和平区", 0.6),
    "310101": ("上海市黄浦区", 0.4),
    "320102": ("南京市玄武区", 0.5),
    "340102": ("合肥市瑶海区", 0.5),
    "420102": ("武汉市江岸区", 0.5),
    "510104": ("成都市锦江区", 0.5),
    "440103": ("广州市荔湾区", 0.3),
    "610102": ("西安市新城区", 0.4),
}

#: Shares of where people were first registered: a Harbin district, elsewhere in the province, or
#: another province.
_ORIGIN_SHARES = (0.78, 0.14, 0.08)

# --------------------------------------------------------------------------------------------
# Age pyramid
# --------------------------------------------------------------------------------------------

#: Share (per cent) of each five-year age band 0–4, 5–9, …, 95–99: an old northern city (Harbin,
#: 2020 census: under 15 about 10 %, 60 and over about 24 %), the 1960s baby boom in its fifties.
AGE_BAND_SHARES = (
    2.6, 3.3, 3.6, 3.5, 4.3, 6.0, 7.4, 7.2, 7.4, 8.4,
    9.6, 9.4, 8.3, 7.0, 5.0, 3.1, 2.2, 1.3, 0.3, 0.1,
)  # fmt: skip

# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------

#: The hundred most common surnames with their approximate share (per cent) of the population
#: (public-security household registry, 2020), plus a few compound surnames.
SURNAME_SHARES: tuple[tuple[str, float], ...] = (
    ("王", 7.12), ("李", 7.00), ("张", 6.74), ("刘", 5.38), ("陈", 4.53), ("杨", 3.08),
    ("赵", 2.29), ("黄", 2.23), ("周", 1.95), ("吴", 1.85), ("徐", 1.67), ("孙", 1.54),
    ("胡", 1.31), ("朱", 1.26), ("高", 1.21), ("林", 1.18), ("何", 1.17), ("郭", 1.15),
    ("马", 1.05), ("罗", 0.86), ("梁", 0.84), ("宋", 0.81), ("郑", 0.78), ("谢", 0.72),
    ("韩", 0.68), ("唐", 0.65), ("冯", 0.64), ("于", 0.62), ("董", 0.61), ("萧", 0.10),
    ("程", 0.58), ("曹", 0.57), ("袁", 0.54), ("邓", 0.54), ("许", 0.53), ("傅", 0.50),
    ("沈", 0.49), ("曾", 0.48), ("彭", 0.48), ("吕", 0.46), ("苏", 0.46), ("卢", 0.45),
    ("蒋", 0.45), ("蔡", 0.44), ("贾", 0.42), ("丁", 0.41), ("魏", 0.41), ("薛", 0.40),
    ("叶", 0.39), ("阎", 0.38), ("余", 0.37), ("潘", 0.36), ("杜", 0.36), ("戴", 0.35),
    ("夏", 0.35), ("钟", 0.34), ("汪", 0.34), ("田", 0.33), ("任", 0.33), ("姜", 0.32),
    ("范", 0.31), ("方", 0.31), ("石", 0.30), ("姚", 0.30), ("谭", 0.29), ("廖", 0.28),
    ("邹", 0.28), ("熊", 0.27), ("金", 0.27), ("陆", 0.26), ("郝", 0.26), ("孔", 0.25),
    ("白", 0.25), ("崔", 0.24), ("康", 0.24), ("毛", 0.23), ("邱", 0.23), ("秦", 0.22),
    ("江", 0.22), ("史", 0.21), ("顾", 0.21), ("侯", 0.20), ("邵", 0.20), ("孟", 0.20),
    ("龙", 0.19), ("万", 0.19), ("段", 0.18), ("雷", 0.18), ("钱", 0.17), ("汤", 0.17),
    ("尹", 0.16), ("黎", 0.16), ("易", 0.15), ("常", 0.15), ("武", 0.15), ("乔", 0.14),
    ("贺", 0.14), ("赖", 0.13), ("龚", 0.13), ("文", 0.13), ("欧阳", 0.03), ("司马", 0.005),
    ("上官", 0.005), ("诸葛", 0.004), ("东方", 0.003), ("皇甫", 0.002),
)  # fmt: skip

#: Whole given names in fashion by generation and sex, each with a weight: the most common names of
#: people born in each period (household registry name statistics). Mixed with composed names.
_GIVEN_BY_ERA: dict[tuple[int, Sex], tuple[tuple[str, float], ...]] = {
    # born before 1960
    (0, Sex.MALE): (
        ("建国", 5),
        ("建华", 4),
        ("国庆", 3),
        ("建军", 4),
        ("志强", 3),
        ("德明", 2),
        ("振华", 2),
        ("国华", 3),
        ("文革", 1),
        ("卫国", 2),
        ("保国", 2),
        ("秀山", 1),
        ("福林", 2),
        ("永祥", 2),
        ("广才", 1),
        ("玉林", 2),
        ("长海", 2),
        ("凤山", 1),
        ("庆丰", 1),
        ("宝山", 2),
    ),
    (0, Sex.FEMALE): (
        ("秀英", 6),
        ("桂英", 5),
        ("秀兰", 5),
        ("玉兰", 5),
        ("桂兰", 4),
        ("淑珍", 4),
        ("凤英", 3),
        ("玉珍", 3),
        ("淑兰", 3),
        ("玉梅", 3),
        ("秀珍", 3),
        ("桂芝", 2),
        ("凤兰", 2),
        ("淑芬", 2),
        ("丽华", 2),
        ("素芬", 1),
        ("玉芬", 2),
        ("淑华", 2),
        ("桂香", 1),
        ("金凤", 1),
    ),
    # born 1960-1979
    (1, Sex.MALE): (
        ("伟", 6),
        ("勇", 5),
        ("军", 5),
        ("强", 4),
        ("刚", 4),
        ("斌", 3),
        ("涛", 3),
        ("明", 3),
        ("海涛", 2),
        ("建平", 2),
        ("红军", 2),
        ("志刚", 3),
        ("立新", 2),
        ("卫东", 2),
        ("宏伟", 2),
        ("东升", 2),
        ("永军", 1),
        ("晓东", 2),
        ("国强", 2),
        ("春雷", 1),
    ),
    (1, Sex.FEMALE): (
        ("丽", 6),
        ("红", 5),
        ("艳", 5),
        ("霞", 4),
        ("燕", 4),
        ("敏", 3),
        ("静", 3),
        ("红梅", 3),
        ("丽娟", 3),
        ("海燕", 3),
        ("晓红", 2),
        ("艳华", 2),
        ("春梅", 2),
        ("丽萍", 2),
        ("秀梅", 2),
        ("玉红", 1),
        ("桂华", 1),
        ("小红", 2),
        ("冬梅", 2),
        ("雪梅", 2),
    ),
    # born 1980-1999
    (2, Sex.MALE): (
        ("磊", 5),
        ("鹏", 4),
        ("超", 4),
        ("杰", 4),
        ("浩", 3),
        ("鑫", 3),
        ("宇", 3),
        ("帅", 3),
        ("亮", 3),
        ("晨", 2),
        ("俊杰", 2),
        ("建伟", 2),
        ("文博", 1),
        ("志鹏", 2),
        ("晓明", 2),
        ("天宇", 2),
        ("海洋", 1),
        ("博文", 1),
        ("子豪", 1),
        ("一鸣", 1),
    ),
    (2, Sex.FEMALE): (
        ("婷", 5),
        ("丹", 4),
        ("娜", 4),
        ("静", 4),
        ("璐", 3),
        ("倩", 3),
        ("洁", 3),
        ("琳", 3),
        ("婷婷", 3),
        ("晓丽", 2),
        ("佳琪", 2),
        ("思雨", 2),
        ("丹丹", 2),
        ("雪", 2),
        ("悦", 2),
        ("欣", 2),
        ("晶晶", 2),
        ("文静", 2),
        ("佳慧", 1),
        ("梦瑶", 1),
    ),
    # born 2000 and later
    (3, Sex.MALE): (
        ("浩然", 4),
        ("子轩", 5),
        ("宇轩", 4),
        ("梓睿", 3),
        ("一诺", 3),
        ("浩宇", 3),
        ("沐宸", 2),
        ("子墨", 3),
        ("俊熙", 2),
        ("宇航", 2),
        ("铭泽", 2),
        ("皓轩", 2),
        ("睿", 2),
        ("博", 2),
        ("奕辰", 2),
        ("思远", 2),
        ("嘉懿", 1),
        ("梓豪", 2),
        ("明轩", 2),
        ("景行", 1),
    ),
    (3, Sex.FEMALE): (
        ("梓涵", 5),
        ("欣怡", 5),
        ("一诺", 3),
        ("子涵", 4),
        ("诗涵", 3),
        ("若汐", 2),
        ("雨桐", 3),
        ("可馨", 2),
        ("梦琪", 2),
        ("语桐", 2),
        ("依诺", 2),
        ("紫涵", 2),
        ("思彤", 2),
        ("佳怡", 2),
        ("欣妍", 2),
        ("沐晴", 1),
        ("安琪", 2),
        ("雨涵", 2),
        ("芷若", 1),
        ("昕", 1),
    ),
}

#: Characters for composed given names, by sex (one or two of them).
_GIVEN_CHARS: dict[Sex, str] = {
    Sex.MALE: "伟强磊军洋勇杰涛明超刚华飞鹏辉宇浩凯博文斌健峰俊亮晨阳波龙东林振国建志永海立成",
    Sex.FEMALE: "芳娜敏静丽艳秀霞平桂英玉兰婷雪梅琳晶颖倩娟慧佳欣悦莉萍红燕洁丹璐怡彤萱妍",
}

#: Share of whole fashionable names against composed ones, and of one-character composed names.
_WHOLE_NAME_SHARE = 0.6
_SINGLE_CHAR_SHARE = 0.3

# --------------------------------------------------------------------------------------------
# Phones and plates
# --------------------------------------------------------------------------------------------

#: Mobile number prefixes in use with a rough weight (the three carriers' and the 19x ranges).
_MOBILE_PREFIXES: tuple[tuple[str, float], ...] = tuple(
    [(p, 3.0) for p in ("130", "131", "132", "133", "135", "136", "137", "138", "139")]
    + [(p, 2.0) for p in ("150", "151", "152", "155", "156", "157", "158", "159")]
    + [(p, 2.5) for p in ("180", "181", "182", "183", "185", "186", "187", "188", "189")]
    + [(p, 1.0) for p in ("145", "147", "166", "173", "176", "177", "178", "191", "198", "199")]
)

#: Plate letters in Heilongjiang: 黑A is Harbin; the others are the other cities of the province.
_PLATE_AUTHORITIES: tuple[tuple[str, float], ...] = (
    ("A", 80.0), ("B", 3.0), ("E", 3.0), ("L", 3.0), ("M", 3.0), ("C", 2.0), ("D", 2.0),
    ("F", 1.0), ("G", 1.0), ("J", 1.0), ("K", 1.0),
)  # fmt: skip
_SERIAL_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, no O
_NEW_ENERGY_SHARE = 0.18

# --------------------------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SyntheticPerson:
    """One made-up resident. ``id_number`` is a valid GB 11643 number; ``phone`` a national mobile
    number (11 digits) or None for a small child; ``plates`` the cars registered to them."""

    name: str
    id_number: str
    sex: Sex
    birth_date: date
    region_code: str
    phone: str | None
    plates: tuple[str, ...]

    def age(self, today: date) -> int:
        years = today.year - self.birth_date.year
        return years - ((today.month, today.day) < (self.birth_date.month, self.birth_date.day))


def _pick(rng: np.random.Generator, weighted: tuple[tuple[str, float], ...]) -> str:
    weights = np.fromiter((w for _, w in weighted), dtype=float, count=len(weighted))
    return weighted[int(rng.choice(len(weighted), p=weights / weights.sum()))][0]


def random_region(rng: np.random.Generator) -> str:
    """The address code of the place a number was first issued: mostly a Harbin district."""
    origin = int(rng.choice(3, p=_ORIGIN_SHARES))
    if origin == 0:
        return _pick(rng, tuple((code, share) for code, (_, share) in HARBIN_DISTRICTS.items()))
    if origin == 1:
        return _pick(rng, tuple((code, 1.0) for code in HEILONGJIANG_ELSEWHERE))
    return _pick(rng, tuple((code, share) for code, (_, share) in OTHER_PROVINCES.items()))


def random_birth_date(rng: np.random.Generator, *, today: date, min_age: int = 0, max_age: int = 99) -> date:
    """A birth date from the age pyramid, restricted to ages ``min_age``..``max_age`` today."""
    ages = np.arange(100)
    weights = np.repeat(np.asarray(AGE_BAND_SHARES, dtype=float) / 5.0, 5)
    weights[(ages < min_age) | (ages > max_age)] = 0.0
    if weights.sum() <= 0:
        raise ValueError(f"no age between {min_age} and {max_age}")
    age = int(rng.choice(ages, p=weights / weights.sum()))
    return _birth_for_age(rng, today=today, age=age)


def _birth_for_age(rng: np.random.Generator, *, today: date, age: int) -> date:
    """A uniform day on which someone born is exactly ``age`` years old today."""
    latest = _years_before(today, age)  # birthday today: just turned ``age``
    earliest = _years_before(today, age + 1) + timedelta(days=1)
    span = (latest - earliest).days
    return earliest + timedelta(days=int(rng.integers(0, span + 1)))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


def synthetic_id_number(rng: np.random.Generator, *, region: str, birth: date, sex: Sex) -> str:
    """A GB 11643 number: address code, birth date, a sequence whose last digit is odd for a man
    and even for a woman, and the check character."""
    sequence = int(rng.integers(0, 100)) * 10 + int(rng.integers(0, 5)) * 2
    sequence += 1 if sex is Sex.MALE else 0
    if sequence == 0:
        sequence = 2  # 000 is not issued
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_check_char(first17)


def synthetic_surname(rng: np.random.Generator) -> str:
    return _pick(rng, SURNAME_SHARES)


def _era(birth: date) -> int:
    return 0 if birth.year < 1960 else 1 if birth.year < 1980 else 2 if birth.year < 2000 else 3


def synthetic_given_name(rng: np.random.Generator, *, sex: Sex, birth: date) -> str:
    """A given name fitting the sex and the decade of birth."""
    if rng.random() < _WHOLE_NAME_SHARE:
        return _pick(rng, _GIVEN_BY_ERA[(_era(birth), sex)])
    chars = _GIVEN_CHARS[sex]
    count = 1 if rng.random() < _SINGLE_CHAR_SHARE else 2
    return "".join(chars[int(i)] for i in rng.integers(0, len(chars), size=count))


def synthetic_phone(rng: np.random.Generator) -> str:
    """A mainland mobile number (11 digits) from a prefix in use."""
    return _pick(rng, _MOBILE_PREFIXES) + "".join(str(int(d)) for d in rng.integers(0, 10, size=8))


def synthetic_plate(rng: np.random.Generator) -> str:
    """A Heilongjiang plate: mostly Harbin's 黑A; some new-energy (8 characters)."""
    authority = _pick(rng, _PLATE_AUTHORITIES)
    if rng.random() < _NEW_ENERGY_SHARE:
        energy = "DF"[int(rng.integers(0, 2))]
        second = _serial_char(rng, letter_share=0.3)
        digits = "".join(str(int(d)) for d in rng.integers(0, 10, size=4))
        return f"黑{authority}{energy}{second}{digits}"
    # Ordinary plates: five characters, mostly digits with at most two letters.
    serial = [_serial_char(rng, letter_share=0.0) for _ in range(5)]
    for position in rng.choice(5, size=int(rng.choice(3, p=(0.35, 0.45, 0.2))), replace=False):
        serial[int(position)] = _SERIAL_LETTERS[int(rng.integers(0, len(_SERIAL_LETTERS)))]
    return f"黑{authority}{''.join(serial)}"


def _serial_char(rng: np.random.Generator, *, letter_share: float) -> str:
    if rng.random() < letter_share:
        return _SERIAL_LETTERS[int(rng.integers(0, len(_SERIAL_LETTERS)))]
    return str(int(rng.integers(0, 10)))


def _car_share(age: int) -> float:
    """Share of people of an age with a car registered to them."""
    if age < 18:
        return 0.0
    return 0.12 if age < 25 else 0.35 if age < 60 else 0.2 if age < 75 else 0.05


def synthetic_person(
    rng: np.random.Generator,
    *,
    today: date,
    sex: Sex | None = None,
    birth: date | None = None,
    surname: str | None = None,
    region: str | None = None,
    min_age: int = 0,
    max_age: int = 99,
) -> SyntheticPerson:
    """One resident; any of sex, birth date, surname and region may be imposed (a household's)."""
    sex = sex if sex is not None else (Sex.MALE if rng.random() < 0.5 else Sex.FEMALE)
    birth = (
        birth if birth is not None else random_birth_date(rng, today=today, min_age=min_age, max_age=max_age)
    )
    region = region if region is not None else random_region(rng)
    surname = surname if surname is not None else synthetic_surname(rng)
    name = surname + synthetic_given_name(rng, sex=sex, birth=birth)
    number = synthetic_id_number(rng, region=region, birth=birth, sex=sex)
    person = SyntheticPerson(name, number, sex, birth, region, None, ())
    age = person.age(today)
    phone = synthetic_phone(rng) if age >= 12 or (age >= 8 and rng.random() < 0.3) else None
    cars = int(rng.random() < _car_share(age)) + int(rng.random() < _car_share(age) * 0.08)
    plates = tuple(synthetic_plate(rng) for _ in range(cars))
    return SyntheticPerson(name, number, sex, birth, region, phone, plates)


def synthetic_people(rng: np.random.Generator, count: int, *, today: date) -> list[SyntheticPerson]:
    return [synthetic_person(rng, today=today) for _ in range(count)]


# --------------------------------------------------------------------------------------------
# Households
# --------------------------------------------------------------------------------------------

#: Relations to the head of household (户主), as the registry writes them.
HEAD, SPOUSE, CHILD, PARENT, GRANDCHILD, OTHER = "head", "spouse", "child", "parent", "grandchild", "other"


@dataclass(frozen=True, slots=True)
class SyntheticMember:
    person: SyntheticPerson
    relation: str  # one of HEAD, SPOUSE, CHILD, PARENT, GRANDCHILD, OTHER


def synthetic_household(rng: np.random.Generator, *, today: date) -> list[SyntheticMember]:
    """A household: the head first, then a spouse, children and sometimes an old parent or a tenant.

    Sizes follow a northern city's (2.4 people on average; many old couples and people alone); the
    children carry the father's surname, are born when the parents were 22–38, and were registered
    where the family lives.
    """
    head = synthetic_person(
        rng, today=today, min_age=20, max_age=95, sex=Sex.MALE if rng.random() < 0.7 else Sex.FEMALE
    )
    members = [SyntheticMember(head, HEAD)]
    head_age = head.age(today)
    married = rng.random() < (0.35 if head_age < 28 else 0.82 if head_age < 75 else 0.55)
    father_surname = head.name[: _surname_length(head.name)]
    if married:
        spouse_age = int(
            np.clip(head_age + rng.integers(-5, 4) * (1 if head.sex is Sex.MALE else -1), 18, 99)
        )
        spouse_sex = Sex.FEMALE if head.sex is Sex.MALE else Sex.MALE
        spouse = synthetic_person(
            rng, today=today, sex=spouse_sex, birth=_birth_for_age(rng, today=today, age=spouse_age)
        )
        members.append(SyntheticMember(spouse, SPOUSE))
        if spouse_sex is Sex.MALE:
            father_surname = spouse.name[: _surname_length(spouse.name)]
    home = (
        head.region_code
        if head.region_code in HARBIN_DISTRICTS
        else _pick(rng, tuple((code, share) for code, (_, share) in HARBIN_DISTRICTS.items()))
    )
    # Children still at home: only for heads young enough to have them there.
    if married and 24 <= head_age <= 62:
        count = int(rng.choice(3, p=(0.25, 0.6, 0.15)))
        for _ in range(count):
            child_age = head_age - int(rng.integers(22, 39))
            if child_age < 0:
                continue
            member = synthetic_person(
                rng, today=today, surname=father_surname, region=home,
                birth=_birth_for_age(rng, today=today, age=child_age),
            )  # fmt: skip
            members.append(SyntheticMember(member, CHILD))
    if 30 <= head_age <= 60 and rng.random() < 0.15:
        parent_age = min(99, head_age + int(rng.integers(22, 36)))
        members.append(
            SyntheticMember(
                synthetic_person(rng, today=today, birth=_birth_for_age(rng, today=today, age=parent_age)),
                PARENT,
            )
        )
    if rng.random() < 0.05:
        members.append(SyntheticMember(synthetic_person(rng, today=today, min_age=18, max_age=45), OTHER))
    return members


def synthetic_licence_number(
    rng: np.random.Generator, *, region: str = "230103", sole_trader: bool = False
) -> str:
    """A unified social credit code (GB 32100) of a business registered in ``region``: 91 for a
    company, 92 for a sole trader (个体工商户), a nine-character organisation code, the check."""
    body = "".join(LICENCE_CHARS[int(i)] for i in rng.integers(0, len(LICENCE_CHARS), size=9))
    first17 = ("92" if sole_trader else "91") + region + body
    return first17 + licence_check_char(first17)


def _surname_length(name: str) -> int:
    return 2 if len(name) >= 3 and any(name.startswith(s) for s, _ in SURNAME_SHARES if len(s) == 2) else 1


__all__ = [
    "AGE_BAND_SHARES",
    "CHILD",
    "HARBIN_DISTRICTS",
    "HEAD",
    "OTHER",
    "PARENT",
    "SPOUSE",
    "SURNAME_SHARES",
    "SyntheticMember",
    "SyntheticPerson",
    "random_birth_date",
    "random_region",
    "synthetic_given_name",
    "synthetic_household",
    "synthetic_id_number",
    "synthetic_licence_number",
    "synthetic_people",
    "synthetic_person",
    "synthetic_phone",
    "synthetic_plate",
    "synthetic_surname",
]
