"""Bodies of the incident record's routes: a correction, a reopening, a page of a search."""

from __future__ import annotations

from pydantic import BaseModel, Field

from jingwu.api.schemas.requests import Body, LocationIn, StrictInt
from jingwu.api.schemas.responses import IncidentOut


class IncidentPatch(Body):
    """A correction: only the fields sent change. ``address`` or ``description`` sent as null
    (or blank) clears it; ``type_code``, ``priority`` and ``location`` cannot be cleared."""

    version: StrictInt = Field(
        ge=0,
        description="the version of the incident you edited (from its last GET or live event): if "
        "someone changed it since, nothing changes and the answer is 409 stale_incident",
    )
    type_code: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="reclassify: a code from GET /api/incident-types",
    )
    priority: StrictInt | None = Field(default=None, ge=1, le=4, description="1 (most urgent) … 4")
    location: LocationIn | None = Field(
        default=None,
        description="the corrected place: checked against the roads as at intake (422 off_road), and "
        "the incident moves to the station whose jurisdiction holds it",
    )
    address: str | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, max_length=4000)
    reason: str | None = Field(
        default=None, max_length=500, description="why (kept in the history and the audit log)"
    )


class ReopenRequest(Body):
    reason: str = Field(
        min_length=1, max_length=500, description="why the incident is reopened (at least 2 characters)"
    )
    version: StrictInt | None = Field(
        default=None, ge=0, description="the version you saw closed; 409 stale_incident if it moved on"
    )


class IncidentPage(BaseModel):
    items: list[IncidentOut]
    next_cursor: str | None = Field(
        description="pass as cursor (with the same filters) for the next page; null after the last"
    )


__all__ = ["IncidentPage", "IncidentPatch", "ReopenRequest"]
