"""Identifiers, made at the edge: time-ordered, readable over the radio, unique across processes."""

from __future__ import annotations

import secrets
from datetime import datetime

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U to misread


def new_incident_id(now: datetime) -> str:
    """``J20261125-7KQ2MX``: the date for people, 30 random bits so concurrent servers never collide."""
    suffix = "".join(secrets.choice(_ALPHABET) for _ in range(6))
    return f"J{now:%Y%m%d}-{suffix}"


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


__all__ = ["new_id", "new_incident_id"]
