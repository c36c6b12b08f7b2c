"""The registry's personal fields at rest: sealed field by field with the KeyRing, each bound to its
column, and a keyed blind index beside each for exact search (like incidents' reporters)."""

from __future__ import annotations

import json
from typing import Any

from jingwu.domain.identity import mask_id_number, mask_name, mask_phone
from jingwu.service.personal_data import ID_INDEX_KIND, PHONE_INDEX_KIND, open_field
from jingwu.store.fieldcrypt import KeyRing

NAME = "records_residents.name"
ID_NUMBER = "records_residents.id_number"
PHONE = "records_residents.phone"
PEOPLE_IN_CHARGE = "records_businesses.people_in_charge"
PAYLOAD = "records_collections.payload"
HISTORY = "records_history.value"
NAME_INDEX_KIND = "name"


def name_index(keys: KeyRing, name: str) -> str:
    """Exact-name search: the blind index of the name with its spaces removed."""
    return keys.blind_index("".join(name.split()), kind=NAME_INDEX_KIND)


def id_index(keys: KeyRing, id_number: str) -> str:
    return keys.blind_index(id_number, kind=ID_INDEX_KIND)


def phone_index(keys: KeyRing, phone_e164: str) -> str:
    return keys.blind_index(phone_e164, kind=PHONE_INDEX_KIND)


def seal(keys: KeyRing, value: str | None, context: str) -> str | None:
    return keys.encrypt(value, context=context) if value else value


def unseal(keys: KeyRing, value: str | None, context: str) -> str | None:
    return open_field(keys, value, context=context)


def seal_json(keys: KeyRing, value: Any, context: str) -> str:
    return keys.encrypt(json.dumps(value, ensure_ascii=False, sort_keys=True), context=context)


def unseal_json(keys: KeyRing, value: str, context: str) -> Any:
    return json.loads(open_field(keys, value, context=context) or "null")


def mask_person(person: dict[str, Any], *, full: bool) -> dict[str, Any]:
    """A person's name, identity number and phone as the caller may see them."""
    if full:
        return person
    out = dict(person)
    if out.get("name"):
        out["name"] = mask_name(out["name"])
    if out.get("id_number"):
        out["id_number"] = mask_id_number(out["id_number"])
    if out.get("phone"):
        out["phone"] = mask_phone(out["phone"])
    return out


def mask_value(field: str, value: str | None, *, full: bool) -> str | None:
    """A history value of ``field`` as the caller may see it."""
    if full or not value:
        return value
    if field == "name":
        return mask_name(value)
    if field == "id_number":
        return mask_id_number(value)
    if field == "phone":
        return mask_phone(value)
    if field == "people_in_charge":
        return "; ".join(_mask_in_charge(part) for part in value.split("; "))
    return value


def _mask_in_charge(text: str) -> str:
    role, name, phone, number = [*text.split(":"), "", "", ""][:4]
    return ":".join(
        (role, mask_name(name), mask_phone(phone) if phone else "", mask_id_number(number) if number else "")
    )


__all__ = [
    "HISTORY",
    "ID_NUMBER",
    "NAME",
    "PAYLOAD",
    "PEOPLE_IN_CHARGE",
    "PHONE",
    "id_index",
    "mask_person",
    "mask_value",
    "name_index",
    "phone_index",
    "seal",
    "seal_json",
    "unseal",
    "unseal_json",
]
