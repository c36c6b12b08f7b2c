"""What a call taker types, made comparable with the index: one form for digits, 号/號, spaces and
punctuation, and the parts of a Chinese address (admin prefixes, a house number, an intersection)
taken apart. Pure: no I/O."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Characters dropped before matching: spaces and punctuation carry nothing a name is told apart by.
_DROP = re.compile(r"[\s\u3000·•・.,，。;；:：'\"“”‘’()（）\[\]【】{}<>《》〈〉!！?？_~～*#|]+")

#: Between the two streets of an intersection: "红军街与果戈里大街", "A和B", "A/B", "A、B", "A&B".
_CROSSING = re.compile(r"与|和|跟")
_CROSSING_MARK = re.compile(r"\s*(?:[/&、,+×]|\s交\s)\s*")

#: How an intersection may end: "交口", "交叉口", "路口" (the 口 of 路口 belongs to neither street).
_CROSSING_END = re.compile(r"(?:十字路口|交叉路口|交叉口|交汇处|交汇口|交界处|交口|路口|街口|口)$")

#: A house number at the end: "85号", "38-8号", "3号楼", "15号院". The 号 is optional after digits.
_HOUSE_NUMBER = re.compile(r"^(?P<street>.*?\D)(?P<number>\d+(?:-\d+)?)(?:号(?:楼|院)?)?$")

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def normalise(text: str, *, query: bool = False) -> str:
    """One comparable form: NFKC (full-width digits and letters become ASCII), 號 → 号, lower case,
    traditional 區 → 区, no spaces or punctuation. In a ``query`` the punctuation that may stand
    between two crossing streets ("红军街/果戈里大街", "A、B") becomes 与 first."""
    folded = unicodedata.normalize("NFKC", text).replace("號", "号").replace("區", "区").lower()
    if query:
        folded = _CROSSING_MARK.sub("与", folded)
    return _DROP.sub("", folded)


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def clean_osm_name(value: str) -> str:
    """The Chinese part of an OSM name or ``addr:street``: "红军街 - Hongjun Street" → "红军街",
    "Nantong (一曼街)" → "一曼街". A name with no Chinese at all is kept (trimmed) as it is."""
    value = value.strip()
    if not has_cjk(value):
        return value
    runs = re.findall(r"[\u3400-\u9fff\uf900-\ufaff0-9０-９A-Za-z号號\-－]+", value)
    cjk_runs = [r for r in runs if has_cjk(r)]
    return max(cjk_runs, key=len).strip("-－") if cjk_runs else value


def clean_house_number(value: str) -> str:
    """The number of a house number: 85号 → 85, 3号-1层 → 3, 38-8 → 38-8; "" if it has none."""
    found = re.match(r"\s*(\d+(?:-\d+)?)", normalise(value))
    return found.group(1) if found else ""


@dataclass(frozen=True, slots=True)
class HouseNumber:
    street: str
    number: str


def split_house_number(text: str) -> HouseNumber | None:
    """A normalised query ending in a number: the street before it and the number (without 号)."""
    found = _HOUSE_NUMBER.match(text)
    if found is None or not has_cjk(found.group("street")):
        return None
    return HouseNumber(found.group("street"), found.group("number"))


def split_crossing(text: str) -> list[tuple[str, str]]:
    """The ways a normalised query may name two streets that cross, most likely first: each
    separator splits it once, with and without the intersection ending ("交口", "路口")."""
    pairs: list[tuple[str, str]] = []
    for found in _CROSSING.finditer(text):
        first, second = text[: found.start()], text[found.end() :]
        if not first or not second:
            continue
        ending = _CROSSING_END.search(second)
        if ending is not None and ending.start() > 0:
            cut = second[: ending.start()]
            # "中山路口": the 口 closes the crossing, the 路 belongs to the street.
            if ending.group() in ("路口", "街口"):
                cut = second[: ending.start() + 1]
            pairs.append((first, cut))
        pairs.append((first, second))
    return pairs


def strip_admin_suffix(name: str) -> str:
    """The short form people say: "南岗区" → "南岗", "哈尔滨市" → "哈尔滨", "保健路街道办事处" →
    "保健路", "黑龙江省" → "黑龙江"; "" when nothing of the name would be left."""
    for suffix in ("街道办事处", "办事处", "街道", "自治县", "新区", "省", "市", "区", "县", "镇", "乡"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return ""


__all__ = [
    "HouseNumber",
    "clean_house_number",
    "clean_osm_name",
    "has_cjk",
    "normalise",
    "split_crossing",
    "split_house_number",
    "strip_admin_suffix",
]
