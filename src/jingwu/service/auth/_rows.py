"""Finding a user's row and reading it, the same way in every part of the auth service."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func

from jingwu.domain.access import Jurisdiction, Principal, Role
from jingwu.errors import NotFound
from jingwu.store import tables as t


def principal_of(row: Any) -> Principal:
    """The principal of a row of ``users``."""
    return Principal(
        row.id,
        row.username,
        Role(row.role),
        row.station_id,
        row.unit_id,
        Jurisdiction.parse(row.jurisdiction),
    )


def same_name(username: str) -> ColumnElement[bool]:
    """User names match case-insensitively: officers type call signs as BJ01 or bj01."""
    return func.lower(t.users.c.username) == username.lower()


def user_not_found(username: str) -> NotFound:
    return NotFound(f"no user {username!r}", code="user_not_found", username=username)
