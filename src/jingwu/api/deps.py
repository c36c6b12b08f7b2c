"""Who is calling, and may they: every route but /healthz and log-in asks for a bearer token and
declares the one permission it needs (``needs``); records are then checked against the caller's
jurisdiction (``Guard``). See :mod:`jingwu.domain.access` for the policy itself."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from jingwu.composition import Services
from jingwu.domain.access import (
    Level,
    Permission,
    Principal,
    Role,
    may_see_incident,
    may_see_unit,
    roles_with,
    station_ids_within,
)
from jingwu.domain.model import Incident, Unit
from jingwu.errors import Forbidden, NotFound, Unauthenticated

_bearer = HTTPBearer(auto_error=False)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def current_principal(
    request: Request,
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("log in first: send 'Authorization: Bearer <token>'", code="no_token")
    # A REST call is use of the session: it keeps it from ending as idle.
    principal = services.auth.sessions.authenticate(credentials.credentials, touch=True)
    # Kept for the refusal handler, which records who was refused (api.factory._audit_refusal).
    request.state.principal = principal
    return principal


def client_address(request: Request) -> str | None:
    """The peer's address as the server sees it (behind a reverse proxy, run uvicorn with
    ``--proxy-headers`` and ``--forwarded-allow-ips`` so that this is the client's, not the proxy's)."""
    return request.client.host if request.client else None


class Needs:
    """The dependency a route declares: the caller must hold ``permission``. Kept as an object
    (not a closure) so that the route walk in the tests and the OpenAPI document can read it."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def __call__(self, principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.may(self.permission):
            raise Forbidden(
                f"the role {principal.role} may not do this ({self.permission})",
                code="role_forbidden",
                role=str(principal.role),
                permission=str(self.permission),
                allowed=sorted(str(r) for r in roles_with(self.permission)),
            )
        return principal


def needs(permission: Permission) -> Needs:
    return Needs(permission)


P = Permission
Self = Annotated[Principal, Depends(needs(P.SELF))]
ReferenceReader = Annotated[Principal, Depends(needs(P.REFERENCE_READ))]
MapReader = Annotated[Principal, Depends(needs(P.MAP_READ))]
IncidentReader = Annotated[Principal, Depends(needs(P.INCIDENT_READ))]
CaseWriter = Annotated[Principal, Depends(needs(P.CASE_WRITE))]
IncidentCreator = Annotated[Principal, Depends(needs(P.INCIDENT_CREATE))]
IncidentCommander = Annotated[Principal, Depends(needs(P.INCIDENT_COMMAND))]
NoteWriter = Annotated[Principal, Depends(needs(P.INCIDENT_NOTE))]
BackupCaller = Annotated[Principal, Depends(needs(P.INCIDENT_BACKUP))]
AttachmentReader = Annotated[Principal, Depends(needs(P.ATTACHMENT_READ))]
AttachmentWriter = Annotated[Principal, Depends(needs(P.ATTACHMENT_WRITE))]
UnitReader = Annotated[Principal, Depends(needs(P.UNIT_READ))]
UnitStatusSetter = Annotated[Principal, Depends(needs(P.UNIT_STATUS))]
PositionReporter = Annotated[Principal, Depends(needs(P.POSITION_REPORT))]
StatsReader = Annotated[Principal, Depends(needs(P.STATS_READ))]
AnalyticsReader = Annotated[Principal, Depends(needs(P.ANALYTICS_READ))]
AnalyticsImporter = Annotated[Principal, Depends(needs(P.ANALYTICS_IMPORT))]
PersonalDataReader = Annotated[Principal, Depends(needs(P.PERSONAL_DATA_READ))]
PersonSearcher = Annotated[Principal, Depends(needs(P.PERSON_SEARCH))]
AuditReader = Annotated[Principal, Depends(needs(P.AUDIT_READ))]
Exporter = Annotated[Principal, Depends(needs(P.EXPORT))]
StationAdmin = Annotated[Principal, Depends(needs(P.STATION_ADMIN))]
FleetAdmin = Annotated[Principal, Depends(needs(P.FLEET_ADMIN))]
PersonnelAdmin = Annotated[Principal, Depends(needs(P.PERSONNEL_ADMIN))]
RosterAdmin = Annotated[Principal, Depends(needs(P.ROSTER_ADMIN))]
RecordsReader = Annotated[Principal, Depends(needs(P.RECORDS_READ))]
RecordsCollector = Annotated[Principal, Depends(needs(P.RECORDS_COLLECT))]
RecordsReviewer = Annotated[Principal, Depends(needs(P.RECORDS_REVIEW))]
Checker = Annotated[Principal, Depends(needs(P.CHECK_RUN))]
WatchlistAdmin = Annotated[Principal, Depends(needs(P.WATCHLIST_ADMIN))]
DisputeReader = Annotated[Principal, Depends(needs(P.DISPUTE_READ))]
DisputeWriter = Annotated[Principal, Depends(needs(P.DISPUTE_WRITE))]
ServiceApplicant = Annotated[Principal, Depends(needs(P.SERVICE_APPLY))]
ServiceHandler = Annotated[Principal, Depends(needs(P.SERVICE_HANDLE))]
ServiceApprover = Annotated[Principal, Depends(needs(P.SERVICE_APPROVE))]
ModelAdmin = Annotated[Principal, Depends(needs(P.MODEL_ADMIN))]
WarningReader = Annotated[Principal, Depends(needs(P.WARNING_READ))]


def route_permission(dependant: object) -> Permission | None:
    """The permission a route's dependency tree declares (for the OpenAPI document and the
    route walk); None for the open routes."""
    stack = [dependant]
    while stack:
        node = stack.pop()
        call = getattr(node, "call", None)
        if isinstance(call, Needs):
            return call.permission
        stack.extend(getattr(node, "dependencies", []))
    return None


class Guard:
    """The jurisdiction checks of one request: may this caller see, or act on, that record?"""

    def __init__(self, principal: Principal, services: Services) -> None:
        self.principal = principal
        self.services = services
        self.district_of: Mapping[str, str] = services.dispatch.district_of

    def _own_incident_id(self) -> str | None:
        if self.principal.unit_id is None:
            return None
        try:
            return self.services.dispatch.get_unit(self.principal.unit_id).incident_id
        except NotFound:
            return None

    def sees_incident(self, incident: Incident) -> bool:
        return may_see_incident(
            self.principal,
            station_id=incident.station_id,
            created_by=incident.created_by,
            own_incident_id=self._own_incident_id(),
            incident_id=incident.id,
            district_of=self.district_of,
        )

    def incident(self, incident_id: str) -> Incident:
        """The incident, if the caller's jurisdiction holds it (403 ``out_of_jurisdiction``)."""
        incident = self.services.dispatch.get_incident(incident_id)
        if not self.sees_incident(incident):
            raise Forbidden(
                "this incident lies outside your jurisdiction",
                code="out_of_jurisdiction",
                incident_id=incident_id,
                jurisdiction=str(self.principal.jurisdiction),
            )
        return incident

    def station(self, station_id: str | None) -> None:
        """Refuse (403 ``out_of_jurisdiction``) a station the caller does not hold: a commander
        runs the units, people and shifts of their own stations only."""
        if station_id is None or not self.principal.jurisdiction.covers_station(station_id, self.district_of):
            raise Forbidden(
                "this station lies outside your jurisdiction",
                code="out_of_jurisdiction",
                station_id=station_id,
                jurisdiction=str(self.principal.jurisdiction),
            )

    def sees_unit(self, unit: Unit) -> bool:
        return may_see_unit(
            self.principal, unit_id=unit.id, station_id=unit.station_id, district_of=self.district_of
        )

    def unit(self, unit_id: str) -> Unit:
        unit = self.services.dispatch.get_unit(unit_id)
        if not self.sees_unit(unit):
            raise self._out_of_reach(unit_id)
        return unit

    def _out_of_reach(self, unit_id: str) -> Forbidden:
        return Forbidden(
            "this unit belongs to a station outside your jurisdiction",
            code="out_of_jurisdiction",
            unit_id=unit_id,
            jurisdiction=str(self.principal.jurisdiction),
        )

    def _not_own(self, unit_id: str) -> Forbidden | None:
        if self.principal.role in (Role.OFFICER, Role.DEVICE) and self.principal.unit_id != unit_id:
            return Forbidden("you may act only for your own unit", code="not_own_unit", unit_id=unit_id)
        return None

    def own_incident(self, incident_id: str, *, doing: str) -> Incident:
        """For officers: the incident only while their unit is assigned to it (an officer reads
        their station's queue, but acts only on the call they were sent to)."""
        incident = self.incident(incident_id)
        if self.principal.role is Role.OFFICER and self._own_incident_id() != incident_id:
            raise Forbidden(
                f"an officer may {doing} only on their own incident",
                code="not_own_incident",
                incident_id=incident_id,
            )
        return incident

    def own_unit(self, unit_id: str) -> Unit:
        """Officers and devices act only for the unit they are bound to; others within reach."""
        if refusal := self._not_own(unit_id):
            raise refusal
        return self.unit(unit_id)

    def own_units(self, unit_ids: Collection[str]) -> None:
        """``own_unit`` for a batch (a gateway reports hundreds of units at once) in one read;
        the first offending unit in id order decides the refusal, as one by one would. A
        city-wide caller may act for every unit: nothing to read (the ingest itself refuses an
        unknown unit with the same 404)."""
        bound = self.principal.role in (Role.OFFICER, Role.DEVICE)
        if not bound and self.principal.jurisdiction.level is Level.CITY:
            return
        stations = self.services.dispatch.unit_stations(unit_ids)
        for unit_id in sorted(unit_ids):
            if bound and (refusal := self._not_own(unit_id)):
                raise refusal
            if unit_id not in stations:
                raise NotFound(f"no unit {unit_id!r}", code="unit_not_found", unit_id=unit_id)
            if not may_see_unit(
                self.principal, unit_id=unit_id, station_id=stations[unit_id], district_of=self.district_of
            ):
                raise self._out_of_reach(unit_id)

    @property
    def station_ids(self) -> frozenset[str] | None:
        """For filtering lists: the stations in reach (None: all, the city)."""
        return station_ids_within(self.principal.jurisdiction, self.district_of)

    @property
    def own_only(self) -> bool:
        return self.principal.jurisdiction.level is Level.OWN


def guard(principal: Principal, services: Services) -> Guard:
    return Guard(principal, services)


__all__ = [
    "AnalyticsImporter",
    "AnalyticsReader",
    "AttachmentReader",
    "AttachmentWriter",
    "AuditReader",
    "BackupCaller",
    "CaseWriter",
    "Exporter",
    "Guard",
    "IncidentCommander",
    "IncidentCreator",
    "IncidentReader",
    "MapReader",
    "ModelAdmin",
    "Needs",
    "NoteWriter",
    "PersonSearcher",
    "PersonalDataReader",
    "PositionReporter",
    "ReferenceReader",
    "Self",
    "ServicesDep",
    "StatsReader",
    "UnitReader",
    "UnitStatusSetter",
    "WarningReader",
    "client_address",
    "current_principal",
    "get_services",
    "guard",
    "needs",
    "route_permission",
]
