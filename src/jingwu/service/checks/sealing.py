"""How watch-list subjects and checked subjects are kept: sealed with the field keys, each bound
to its column, and found by a keyed blind index (an HMAC), never stored or searched in the clear.

An identity number is indexed with the same kind as the reporters' (service.personal_data), and
a plate with the same kind as the community gates' plates (service.community_devices), so the
same person or car has the same index everywhere in the database (and nowhere outside it)."""

from __future__ import annotations

from jingwu.domain.watchlists import SubjectKind
from jingwu.service.personal_data import ID_INDEX_KIND, id_number_index, open_field
from jingwu.store.fieldcrypt import KeyRing

ENTRY_SUBJECT = "watchlist_entries.subject"
ENTRY_LABEL = "watchlist_entries.label"
CHECK_SUBJECT = "patrol_checks.subject"
# The kind of service.community_devices.sealing (a test holds them equal): not imported, so that
# a check does not load the MQTT side of the server.
PLATE_INDEX_KIND = "plate"


def plate_index(keys: KeyRing, plate: str) -> str:
    """The blind index of a plate (checked and normalised by domain.identity.parse_plate)."""
    return keys.blind_index(plate, kind=PLATE_INDEX_KIND)


def subject_index(keys: KeyRing, kind: SubjectKind, subject: str) -> str:
    if kind is SubjectKind.PERSON:
        return id_number_index(keys, subject)
    return plate_index(keys, subject)


def seal(keys: KeyRing, value: str, *, context: str) -> str:
    return keys.encrypt(value, context=context)


def unseal(keys: KeyRing, value: str | None, *, context: str) -> str | None:
    return open_field(keys, value, context=context)


__all__ = [
    "CHECK_SUBJECT",
    "ENTRY_LABEL",
    "ENTRY_SUBJECT",
    "ID_INDEX_KIND",
    "PLATE_INDEX_KIND",
    "plate_index",
    "seal",
    "subject_index",
    "unseal",
]
