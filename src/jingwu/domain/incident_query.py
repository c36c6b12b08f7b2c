"""What an incident search asks for, and the cursor that pages through its answer (pure).

Pages are read newest first by (created_at, id): a keyset walk, so that a page costs the same
however deep it lies, and a page is stable while incidents keep arriving (a new incident is newer
than every cursor handed out, so it never shifts a later page). The cursor is opaque to clients:
base64url of the last row's creation instant and id.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from jingwu.domain.status import IncidentStatus
from jingwu.errors import ValidationFailed

# Words of a free-text search: enough for any real query, few enough to keep it one cheap scan.
MAX_WORDS = 8
_SEPARATOR = "|"


@dataclass(frozen=True, slots=True)
class IncidentFilter:
    """Every field narrows the search; an empty one does not filter. ``words`` must each appear
    in the address or the description (case-insensitive); ``unit_ids`` are incidents any of these
    units was ever sent to; ``created_from``/``created_to`` bound the creation time [from, to)."""

    words: tuple[str, ...] = ()
    created_from: datetime | None = None
    created_to: datetime | None = None
    type_codes: frozenset[str] = frozenset()
    priorities: frozenset[int] = frozenset()
    station_ids: frozenset[str] = frozenset()
    statuses: frozenset[IncidentStatus] = frozenset()
    unit_ids: frozenset[str] = frozenset()


def words_of(text: str | None) -> tuple[str, ...]:
    """The words of a free-text query (split on white space), at most :data:`MAX_WORDS`."""
    words = tuple(dict.fromkeys((text or "").split()))
    if len(words) > MAX_WORDS:
        raise ValidationFailed(
            f"search for at most {MAX_WORDS} words at once", code="too_many_words", words=len(words)
        )
    return words


def check_time_range(created_from: datetime | None, created_to: datetime | None) -> None:
    for name, value in (("from", created_from), ("to", created_to)):
        if value is not None and value.tzinfo is None:
            raise ValidationFailed(
                f"{name} needs a time zone (e.g. +08:00 or Z)", code="naive_time", field=name
            )
    if created_from is not None and created_to is not None and created_to <= created_from:
        raise ValidationFailed(
            "to must be later than from",
            code="bad_time_range",
            created_from=created_from.isoformat(),
            created_to=created_to.isoformat(),
        )


def encode_cursor(created_at: datetime, incident_id: str) -> str:
    raw = f"{created_at.isoformat()}{_SEPARATOR}{incident_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> tuple[datetime, str]:
    """The (created_at, id) a page continues after; a token not made by :func:`encode_cursor`
    is refused (422 ``bad_cursor``) rather than read as the start."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        created_text, separator, incident_id = raw.partition(_SEPARATOR)
        created_at = datetime.fromisoformat(created_text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValidationFailed("this cursor was not handed out by this server", code="bad_cursor") from None
    if not separator or not incident_id or created_at.tzinfo is None:
        raise ValidationFailed("this cursor was not handed out by this server", code="bad_cursor")
    return created_at, incident_id


__all__ = [
    "MAX_WORDS",
    "IncidentFilter",
    "check_time_range",
    "decode_cursor",
    "encode_cursor",
    "words_of",
]
