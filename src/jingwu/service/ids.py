"""Identifiers, made at the edge: dated, readable over the radio, unique across processes."""

from __future__ import annotations

import secrets
from datetime import datetime, tzinfo

from jingwu.errors import Conflict

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U to misread

#: Draws of an incident id before giving up: with 30 random bits a day holding 5,000 incidents
#: is hit with a chance of 5e-6 per draw, so a second draw is already rare and a fifth never.
INCIDENT_ID_ATTEMPTS = 5


def new_incident_id(now: datetime, zone: tzinfo) -> str:
    """``J20261125-7KQ2MX``: the bureau's local date for people (a call at 07:30 in Harbin is
    that day's, though it is still the day before in UTC), then 30 random bits. Random bits
    alone collide now and then (about 1 % of days at 5,000 incidents a day), so the creator
    draws again when the id is taken (:class:`IncidentIdTaken`)."""
    suffix = "".join(secrets.choice(_ALPHABET) for _ in range(6))
    return f"J{now.astimezone(zone):%Y%m%d}-{suffix}"


class IncidentIdTaken(Conflict):
    """A new incident's id is held already: its creator draws another; nothing was written."""

    code = "incident_id_taken"

    def __init__(self, incident_id: str) -> None:
        super().__init__(f"incident id {incident_id} is taken", incident_id=incident_id)


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


__all__ = ["INCIDENT_ID_ATTEMPTS", "IncidentIdTaken", "new_id", "new_incident_id"]
