"""Who may do what, and where: roles, permissions and jurisdictions (pure; no I/O).

A route declares the one :class:`Permission` it needs; a role is a fixed set of permissions
(:data:`ROLE_PERMISSIONS`). Whether a permitted user may touch a particular incident or unit is
a second, separate question, answered by their :class:`Jurisdiction`: the bureau (city) sees
everything, a district (分局) its stations, a station (派出所) itself, and residents and devices
only what they reported themselves. Keeping the two apart is what lets a test walk every route
and prove both refusals: 403 for the wrong role, 403 for the wrong place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # accounts, audit log; city-wide
    COMMANDER = "commander"  # 指挥长: a dispatcher's powers plus oversight of a district or the city
    DISPATCHER = "dispatcher"  # 接警/调度员
    OFFICER = "officer"  # 巡警: bound to one unit's terminal
    COMMUNITY_OFFICER = "community_officer"  # 社区民警: community records, no dispatching
    ANALYST = "analyst"  # 研判: statistics and incident history, never personal data
    RESIDENT = "resident"  # 群众: self-service reports, sees only their own
    DEVICE = "device"  # machine account: alarm column, camera analytics, AVL gateway


class Permission(StrEnum):
    SELF = "self"  # own session: who am I, log out, second factor
    REFERENCE_READ = "reference.read"  # incident types, stations
    MAP_READ = "map.read"  # base map, jurisdictions
    INCIDENT_READ = "incident.read"  # queue, incident, timeline, duplicates
    INCIDENT_CREATE = "incident.create"
    INCIDENT_COMMAND = "incident.command"  # recommendations, dispatch, close, merge
    INCIDENT_NOTE = "incident.note"
    INCIDENT_BACKUP = "incident.backup"
    ATTACHMENT_READ = "attachment.read"
    ATTACHMENT_WRITE = "attachment.write"
    UNIT_READ = "unit.read"
    UNIT_STATUS = "unit.status"
    POSITION_REPORT = "position.report"
    LIVE_READ = "live.read"
    STATS_READ = "stats.read"
    PERSONAL_DATA_READ = "personal_data.read"  # a reporter, masked (audited, with a reason)
    PERSONAL_DATA_FULL = "personal_data.full"  # the same, unmasked
    PERSON_SEARCH = "person.search"  # find incidents by a reporter's phone number
    EXPORT = "export"  # files of incidents that leave the system (no personal data; audited)
    AUDIT_READ = "audit.read"
    USER_ADMIN = "user.admin"  # accounts: role, jurisdiction, password, disabling, ending sessions
    DEVICE_READ = "device.read"  # community devices: where, online or not, the subscriber's health
    DEVICE_ADMIN = "device.admin"  # register a community device, issue its secret
    ACCESS_EVENT_READ = "access_event.read"  # who passed a community's doors and gates (audited)
    STATION_ADMIN = "station.admin"  # create, edit, retire stations and their jurisdictions
    FLEET_ADMIN = "fleet.admin"  # create, edit, retire units (of the stations in reach)
    PERSONNEL_ADMIN = "personnel.admin"  # the force's people and their accounts
    ROSTER_ADMIN = "roster.admin"  # shifts and crews
    # Community policing (issue 15): the registry of who lives where, patrol checks, disputes and
    # the residents' self-service. Personal data in them is masked unless PERSONAL_DATA_FULL.
    RECORDS_READ = "records.read"  # houses, households, residents, businesses (audited, with a reason)
    RECORDS_COLLECT = "records.collect"  # submit a collection or correction from the field
    RECORDS_REVIEW = "records.review"  # approve or return a collection, settle a conflict
    CHECK_RUN = "check.run"  # 盘查: a person or vehicle against the watch lists
    WATCHLIST_ADMIN = "watchlist.admin"  # add and remove watch-list entries
    DISPUTE_READ = "dispute.read"  # 矛盾纠纷: cases, their risk and follow-ups
    DISPUTE_WRITE = "dispute.write"  # open a case, record a visit, an agreement, a follow-up
    SERVICE_APPLY = "service.apply"  # a resident's own applications and reports (self-service)
    SERVICE_HANDLE = "service.handle"  # verify an application on site; see the station's queue
    SERVICE_APPROVE = "service.approve"  # approve or refuse an application; issue the certificate
    # Situation analytics (issue 16): aggregates only, never a person; imports and models audited.
    ANALYTICS_READ = "analytics.read"  # CompStat, response times, hotspots, the printable report
    ANALYTICS_IMPORT = "analytics.import"  # other forces' and years' files into the analytical store
    MODEL_ADMIN = "model.admin"  # analysts' early-warning models: write, back-test, switch on or off
    WARNING_READ = "warning.read"  # the early warnings the models raise for a station
    CASE_WRITE = "case.write"  # file a case for an incident (立案) and mark it solved (破案)
    CAMERA_READ = "camera.read"  # cameras, their state, live pictures and snapshots (viewing audited)
    CAMERA_ADMIN = "camera.admin"  # register, change, import and retire cameras


P = Permission

_HUMAN = frozenset({P.SELF, P.REFERENCE_READ, P.MAP_READ})
_DISPATCH = _HUMAN | {
    P.INCIDENT_READ,
    P.INCIDENT_CREATE,
    P.INCIDENT_COMMAND,
    P.INCIDENT_NOTE,
    P.INCIDENT_BACKUP,
    P.ATTACHMENT_READ,
    P.ATTACHMENT_WRITE,
    P.UNIT_READ,
    P.UNIT_STATUS,
    P.POSITION_REPORT,  # placing a unit by hand from a radio report
    P.LIVE_READ,
    P.STATS_READ,
    P.PERSONAL_DATA_READ,
    P.PERSONAL_DATA_FULL,
    P.PERSON_SEARCH,
    P.DEVICE_READ,  # an alarm column gone silent is the command room's business
    P.CHECK_RUN,  # a check asked over the radio is run at the desk
    P.DISPUTE_READ,  # "this address has an open family dispute" beside a new call
    P.WARNING_READ,  # an early warning for the station lands in its command room
    P.CAMERA_READ,  # the cameras that see the scene, before the patrol gets there
}
# The community's work: the registry, disputes and the residents' applications.
_COMMUNITY = frozenset(
    {P.RECORDS_READ, P.RECORDS_COLLECT, P.DISPUTE_READ, P.DISPUTE_WRITE, P.SERVICE_HANDLE, P.CHECK_RUN}
)

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    # A commander runs their stations: the fleet, the people and the roster, not the map of stations.
    Role.COMMANDER: _DISPATCH
    | _COMMUNITY
    | {P.EXPORT, P.DEVICE_ADMIN, P.ACCESS_EVENT_READ, P.FLEET_ADMIN, P.PERSONNEL_ADMIN, P.ROSTER_ADMIN}
    | {P.RECORDS_REVIEW, P.WATCHLIST_ADMIN, P.SERVICE_APPROVE}
    | {P.ANALYTICS_READ, P.CASE_WRITE, P.CAMERA_ADMIN},
    Role.DISPATCHER: _DISPATCH,
    # Officers act on their own unit and incident; the routes narrow it further (see deps).
    Role.OFFICER: _HUMAN
    | {
        P.INCIDENT_READ,
        P.INCIDENT_CREATE,
        P.INCIDENT_NOTE,
        P.INCIDENT_BACKUP,
        P.ATTACHMENT_READ,
        P.ATTACHMENT_WRITE,
        P.UNIT_READ,
        P.UNIT_STATUS,
        P.POSITION_REPORT,
        P.LIVE_READ,
        P.PERSONAL_DATA_READ,
        P.PERSONAL_DATA_FULL,
        P.CHECK_RUN,  # 巡逻盘查
        P.RECORDS_READ,
        P.RECORDS_COLLECT,  # a patrol may note a changed household too; the station reviews it
        P.DISPUTE_READ,
    },
    Role.COMMUNITY_OFFICER: _HUMAN
    | _COMMUNITY
    | {
        P.INCIDENT_READ,
        P.INCIDENT_CREATE,
        P.INCIDENT_NOTE,
        P.UNIT_READ,
        P.LIVE_READ,
        P.STATS_READ,
        P.PERSONAL_DATA_READ,
        P.DEVICE_READ,  # the community's alarm columns, doors and gates
        P.ACCESS_EVENT_READ,
        P.WARNING_READ,  # "three domestic calls from this address": the community officer's to visit
        # The community's cameras, their blind spots (安全死角) and the snapshot and clip of a
        # thrown object (高空抛物) from its towers (/api/throws/{id}/…, not the calls' photos).
        P.CAMERA_READ,
    },
    # The live picture carries no personal data; an analyst may watch it, never act on it. The
    # analyst builds the tables, the hotspots and the early-warning models (大数据研判).
    Role.ANALYST: _HUMAN
    | {P.INCIDENT_READ, P.UNIT_READ, P.STATS_READ, P.LIVE_READ, P.EXPORT}
    | {P.ANALYTICS_READ, P.ANALYTICS_IMPORT, P.MODEL_ADMIN, P.WARNING_READ},
    Role.RESIDENT: frozenset({P.SELF, P.REFERENCE_READ, P.INCIDENT_CREATE, P.INCIDENT_READ, P.SERVICE_APPLY}),
    Role.DEVICE: frozenset({P.INCIDENT_CREATE, P.POSITION_REPORT}),
}

# Roles that need a second factor when it is enforced (CJIS 5.6.2.2: privileged access).
TOTP_ROLES = frozenset({Role.ADMIN, Role.COMMANDER, Role.DISPATCHER})
# Roles whose sessions are people at a screen: they end after the idle timeout. A device's key
# is used by a machine that may legitimately stay quiet for hours.
IDLE_ROLES = frozenset(Role) - {Role.DEVICE}


def may(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


def roles_with(permission: Permission) -> frozenset[Role]:
    return frozenset(r for r, granted in ROLE_PERMISSIONS.items() if permission in granted)


class Level(StrEnum):
    CITY = "city"
    DISTRICT = "district"
    STATION = "station"
    OWN = "own"  # only records the user created (residents, devices)


_NAME = re.compile(r"[^\s:]{1,64}")


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    """Where a user may see and act. Stored as one text: ``city``, ``district:南岗区``,
    ``station:nangang-baojianlu`` or ``own``."""

    level: Level
    name: str | None = None  # the district's name or the station's id

    @classmethod
    def parse(cls, text: str) -> Jurisdiction:
        level_text, _, name = text.partition(":")
        try:
            level = Level(level_text)
        except ValueError:
            raise ValueError(
                f"unknown jurisdiction {text!r}: use city, own, district:NAME or station:ID"
            ) from None
        needs_name = level in (Level.DISTRICT, Level.STATION)
        if needs_name != bool(name) or (name and not _NAME.fullmatch(name)):
            raise ValueError(
                f"jurisdiction {text!r}: "
                + ("name the district or station after a colon" if needs_name else "takes no name")
            )
        return cls(level, name or None)

    def __str__(self) -> str:
        return str(self.level) if self.name is None else f"{self.level}:{self.name}"

    def covers_station(self, station_id: str | None, district_of: Mapping[str, str]) -> bool:
        """Whether a record of ``station_id`` lies inside. A record outside every station (an
        incident beyond all drawn jurisdictions) belongs to the city alone, so that no one below
        can lose it from view by accident: the city's dispatchers always see it."""
        if self.level is Level.CITY:
            return True
        if station_id is None or self.level is Level.OWN:
            return False
        if self.level is Level.STATION:
            return station_id == self.name
        return district_of.get(station_id) == self.name


def station_ids_within(jurisdiction: Jurisdiction, district_of: Mapping[str, str]) -> frozenset[str] | None:
    """The stations a jurisdiction holds, for filtering lists in the database; None: all (the
    city, which also holds records outside every station)."""
    if jurisdiction.level is Level.CITY:
        return None
    return frozenset(s for s in district_of if jurisdiction.covers_station(s, district_of))


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller."""

    user_id: str
    username: str
    role: Role
    station_id: str | None
    unit_id: str | None  # the unit an officer's terminal or a device is bound to
    jurisdiction: Jurisdiction

    def may(self, permission: Permission) -> bool:
        return may(self.role, permission)


def may_see_incident(
    principal: Principal,
    *,
    station_id: str | None,
    created_by: str | None,
    own_incident_id: str | None,
    incident_id: str,
    district_of: Mapping[str, str],
) -> bool:
    """Whether the caller may see (and, with the permission, act on) an incident.

    ``own_incident_id`` is the incident the caller's unit is working: an officer sent across a
    boundary (the nearest car is often the neighbour's) must see the call they were sent to."""
    if principal.jurisdiction.level is Level.OWN:
        return created_by is not None and created_by == principal.username
    if own_incident_id is not None and own_incident_id == incident_id:
        return True
    return principal.jurisdiction.covers_station(station_id, district_of)


def may_see_unit(
    principal: Principal, *, unit_id: str, station_id: str, district_of: Mapping[str, str]
) -> bool:
    if principal.unit_id == unit_id:
        return True
    return principal.jurisdiction.covers_station(station_id, district_of)


CITY = Jurisdiction(Level.CITY)
OWN = Jurisdiction(Level.OWN)


def default_jurisdiction(role: Role, station_id: str | None) -> Jurisdiction:
    """What a new account covers unless it is given more: self-service and machine accounts
    only their own reports; a user of a station, that station; everyone else the city."""
    if role in (Role.RESIDENT, Role.DEVICE):
        return OWN
    if station_id is not None:
        return Jurisdiction(Level.STATION, station_id)
    return CITY


# Roles whose accounts see only what they reported themselves, and nothing else ever.
OWN_ROLES = frozenset({Role.RESIDENT, Role.DEVICE})


def jurisdiction_problem(role: Role, jurisdiction: Jurisdiction) -> str | None:
    """Why an account of ``role`` may not hold ``jurisdiction`` (a message), or None.

    Residents and devices see only their own reports, whatever they are given: a resident with
    the city would read every caller's incident. No other role is ``own`` (a dispatcher so
    narrowed would see nothing they are meant to work on). An officer's jurisdiction is their
    station or district, never the city: officers read callers' personal data in full, and the
    one call outside their area they need, the one their unit is sent to, they see anyway
    (:func:`may_see_incident`); a city-wide view is a dispatcher's or a commander's. That the
    stations and districts named exist is the store's to check (service.auth)."""
    if role in OWN_ROLES:
        if jurisdiction.level is not Level.OWN:
            return f"a {role} account sees only its own reports: its jurisdiction is own, not {jurisdiction}"
        return None
    if jurisdiction.level is Level.OWN:
        return (
            f"only residents and devices have the jurisdiction own; a {role} needs city, "
            "district:NAME or station:ID"
        )
    if role is Role.OFFICER and jurisdiction.level is Level.CITY:
        return (
            "an officer's jurisdiction is a station or a district, not the city: bind the officer "
            "to a unit or a station, or give district:NAME"
        )
    return None


__all__ = [
    "CITY",
    "IDLE_ROLES",
    "OWN",
    "OWN_ROLES",
    "ROLE_PERMISSIONS",
    "TOTP_ROLES",
    "Jurisdiction",
    "Level",
    "Permission",
    "Principal",
    "Role",
    "default_jurisdiction",
    "jurisdiction_problem",
    "may",
    "may_see_incident",
    "may_see_unit",
    "roles_with",
    "station_ids_within",
]
