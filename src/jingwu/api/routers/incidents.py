"""Incidents: intake, recommendations, dispatch, backup, close, merge, notes, timeline (the queue,
search, corrections and reopening: routers.incident_records)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Request, Response

from jingwu.api.deps import (
    BackupCaller,
    IncidentCommander,
    IncidentCreator,
    IncidentReader,
    NoteWriter,
    PersonalDataReader,
    ServicesDep,
    client_address,
    guard,
)
from jingwu.api.idempotency import answer_with
from jingwu.api.lookups import LookupReason, limit_lookups, reason_text
from jingwu.api.schemas.requests import (
    BackupRequest,
    CloseIncidentRequest,
    DispatchRequest,
    IncidentCreate,
    MergeIncidentRequest,
    NoteRequest,
)
from jingwu.api.schemas.responses import (
    DispatchOut,
    EventOut,
    IncidentOut,
    NearbyUnitOut,
    RecommendationOut,
    ReporterOut,
    UnitOut,
)
from jingwu.dispatch import Recommendation
from jingwu.domain.access import Permission, Role
from jingwu.domain.gcj02 import gcj02_point_to_wgs84
from jingwu.domain.geo import GeoPoint
from jingwu.domain.identity import parse_id_number, parse_phone
from jingwu.domain.incident_types import get_incident_type
from jingwu.domain.model import Incident, Reporter
from jingwu.domain.rules import Decision
from jingwu.domain.status import SourceChannel
from jingwu.errors import Forbidden, ValidationFailed
from jingwu.service.dispatching import NewIncident
from jingwu.service.views import incident_view, unit_view

router = APIRouter(prefix="/api/incidents", tags=["incidents"])

# The channels a machine account may report through: an alarm column's button, a camera's analytics.
REPORTER_FIELDS = frozenset({"name", "phone", "id_number"})
DEVICE_CHANNELS = frozenset({SourceChannel.ALARM_DEVICE, SourceChannel.SENSOR})


def _out(incident: Incident) -> IncidentOut:
    return IncidentOut.model_validate(incident_view(incident))


def _recommendations_out(recs: list[Recommendation]) -> list[RecommendationOut]:
    return [
        RecommendationOut(
            unit_id=r.unit.id,
            callsign=r.unit.callsign,
            kind=str(r.unit.kind),
            status=str(r.unit.status),
            eta_s=round(r.eta_s, 1),
            distance_m=round(r.distance_m, 1),
            straight_line_m=round(r.straight_line_m, 1),
            route=r.route,
            conditional=r.conditional,
        )
        for r in recs
    ]


@router.post("", status_code=201, response_model=IncidentOut)
def create_incident(body: IncidentCreate, principal: IncidentCreator, services: ServicesDep) -> IncidentOut:
    source = body.source
    if principal.role is Role.RESIDENT:
        # A resident reports through the app, whatever the body says: the channel is a fact about
        # how the report came in, which the queue and the statistics rely on.
        source = SourceChannel.APP
    elif principal.role is Role.DEVICE and source not in DEVICE_CHANNELS:
        raise Forbidden(
            f"a device reports through {' or '.join(sorted(DEVICE_CHANNELS))}, not {source}",
            code="device_channel_forbidden",
            source=str(source),
        )
    # GCJ-02 is converted here, at the edge, before anything else sees the place: the store, the
    # routing and the duplicate search only ever hold WGS-84.
    if body.location.crs == "gcj02":
        location = gcj02_point_to_wgs84(body.location.lat, body.location.lon)
    else:
        location = GeoPoint(body.location.lat, body.location.lon)
    reporter = None
    if body.reporter is not None:
        name = body.reporter.name
        raw_phone = (body.reporter.phone or "").strip()
        raw_id = (body.reporter.id_number or "").strip()
        # A bad number refuses the whole intake (422 bad_phone, bad_id_*) before anything is stored.
        phone = parse_phone(raw_phone).normalised if raw_phone else None
        today = datetime.now(services.settings.zone).date()
        id_number = parse_id_number(raw_id, today=today).number if raw_id else None
        if name or phone or id_number:
            reporter = Reporter(name=name, phone=phone, id_number=id_number)
    answer_with(201, lambda d: _out(d.incidents[0]))
    incident = services.dispatch.create_incident(
        NewIncident(
            type_code=body.type_code,
            priority=body.priority,
            location=location,
            source=source,
            address=body.address,
            description=body.description,
            reporter=reporter,
        ),
        actor=principal.username,
    )
    return _out(incident)


@router.get("/{incident_id}", response_model=IncidentOut)
def get_incident(incident_id: str, principal: IncidentReader, services: ServicesDep) -> IncidentOut:
    return _out(guard(principal, services).incident(incident_id))


@router.get("/{incident_id}/recommendations", response_model=list[RecommendationOut])
def recommendations(
    incident_id: str,
    principal: IncidentCommander,
    services: ServicesDep,
    limit: int | None = Query(default=None, ge=1, le=50, description="default: JINGWU_RECOMMENDATION_LIMIT"),
) -> list[RecommendationOut]:
    """The nearest units by road time among those the caller may send (a station's dispatcher:
    the station's own units; the city's: every unit)."""
    g = guard(principal, services)
    g.incident(incident_id)
    k = limit or services.settings.recommendation_limit
    return _recommendations_out(services.dispatch.recommend(incident_id, limit=k, station_ids=g.station_ids))


@router.get("/{incident_id}/nearby-units", response_model=list[NearbyUnitOut])
def nearby_units(
    incident_id: str,
    principal: IncidentCommander,
    services: ServicesDep,
    radius_m: float = Query(default=2000.0, gt=0, le=20_000, description="straight-line radius"),
    limit: int | None = Query(default=None, ge=1, le=50, description="default: JINGWU_RECOMMENDATION_LIMIT"),
) -> list[NearbyUnitOut]:
    """Every unit within ``radius_m`` of the incident that the caller may send, nearest first, and
    why each one is not recommended ("why not this unit?"): its status, its kind, a missing
    capability, off every road, no road route, or outranked by the units listed."""
    g = guard(principal, services)
    incident = g.incident(incident_id)
    k = limit or services.settings.recommendation_limit
    board = services.dispatch.board
    verdicts = board.explain(incident, limit=k, radius_m=radius_m, station_ids=g.station_ids)
    incident_type = get_incident_type(incident.type_code)
    return [
        NearbyUnitOut(
            unit_id=v.unit.id,
            callsign=v.unit.callsign,
            kind=str(v.unit.kind),
            status=str(v.unit.status),
            straight_line_m=round(v.straight_line_m, 1),
            recommended=v.reason is None,
            rank=v.rank,
            eta_s=None if v.eta_s is None else round(v.eta_s, 1),
            reason=None if v.reason is None else str(v.reason),
            allowed_kinds=sorted(incident_type.allowed_unit_kinds),
            missing_capabilities=sorted(incident_type.required_capabilities - v.unit.capabilities),
        )
        for v in verdicts
    ]


@router.post("/{incident_id}/dispatch", response_model=DispatchOut)
def dispatch(
    incident_id: str, body: DispatchRequest, principal: IncidentCommander, services: ServicesDep
) -> DispatchOut:
    g = guard(principal, services)
    g.incident(incident_id)
    for unit_id in body.unit_ids:
        g.unit(unit_id)
    # Every event of a dispatch carries the incident's after-state (see DispatchService).
    answer_with(200, lambda d: _dispatch_out(IncidentOut.model_validate(d.events[0].data["incident"]), d))
    decision = services.dispatch.dispatch(incident_id, body.unit_ids, actor=principal.username)
    return _dispatch_out(_out(services.dispatch.get_incident(incident_id)), decision)


def _dispatch_out(incident: IncidentOut, decision: Decision) -> DispatchOut:
    return DispatchOut(
        incident=incident,
        units=[UnitOut.model_validate(unit_view(u)) for u in decision.units],
        ack_deadline=decision.assignments[0].ack_deadline.isoformat(),
    )


@router.post("/{incident_id}/backup", response_model=list[RecommendationOut])
def request_backup(
    incident_id: str, body: BackupRequest, principal: BackupCaller, services: ServicesDep
) -> list[RecommendationOut]:
    g = guard(principal, services)
    g.own_incident(incident_id, doing="ask for backup")
    unit_id = principal.unit_id if principal.role is Role.OFFICER else None
    # Replayed after a lost answer, a backup request shows no recommendations: they are advice
    # of the moment, and the dispatcher's console asks for fresh ones.
    answer_with(200, lambda _d: [])
    services.dispatch.request_backup(
        incident_id, reason=body.reason, actor=principal.username, unit_id=unit_id
    )
    # The dispatcher chooses the backup; an officer's terminal only raises the request.
    if principal.role is Role.OFFICER:
        return []
    limit = services.settings.recommendation_limit
    return _recommendations_out(
        services.dispatch.recommend(incident_id, limit=limit, station_ids=g.station_ids)
    )


@router.post("/{incident_id}/close", response_model=IncidentOut)
def close_incident(
    incident_id: str, body: CloseIncidentRequest, principal: IncidentCommander, services: ServicesDep
) -> IncidentOut:
    guard(principal, services).incident(incident_id)
    answer_with(200, lambda d: _out(d.incidents[0]))
    return _out(
        services.dispatch.close_incident(incident_id, disposition=body.disposition, actor=principal.username)
    )


@router.post("/{incident_id}/merge", response_model=IncidentOut)
def merge_incident(
    incident_id: str, body: MergeIncidentRequest, principal: IncidentCommander, services: ServicesDep
) -> IncidentOut:
    g = guard(principal, services)
    g.incident(incident_id)
    g.incident(body.into)
    answer_with(200, lambda d: _out(d.incidents[1]))
    return _out(services.dispatch.merge_incident(incident_id, body.into, actor=principal.username))


@router.post("/{incident_id}/notes", status_code=204)
def add_note(incident_id: str, body: NoteRequest, principal: NoteWriter, services: ServicesDep) -> None:
    guard(principal, services).own_incident(incident_id, doing="add notes")
    answer_with(204, lambda _d: None)
    services.dispatch.add_note(incident_id, body.text, actor=principal.username)


@router.get("/{incident_id}/duplicates", response_model=list[IncidentOut])
def duplicates(incident_id: str, principal: IncidentReader, services: ServicesDep) -> list[IncidentOut]:
    """Open incidents of the same type within 500 m and 30 minutes of this one, nearest first:
    likely repeat reports, for the dispatcher to merge (those the caller may see)."""
    g = guard(principal, services)
    g.incident(incident_id)
    return [
        _out(c.incident) for c in services.dispatch.duplicates(incident_id) if g.sees_incident(c.incident)
    ]


@router.get("/{incident_id}/timeline", response_model=list[EventOut])
def timeline(incident_id: str, principal: IncidentReader, services: ServicesDep) -> list[EventOut]:
    guard(principal, services).incident(incident_id)
    return [EventOut.model_validate(m.payload) for m in services.dispatch.incident_timeline(incident_id)]


@router.get("/{incident_id}/reporter", response_model=ReporterOut)
def reporter(
    incident_id: str,
    principal: PersonalDataReader,
    request: Request,
    response: Response,
    services: ServicesDep,
    reason: LookupReason = "",
    full: bool = Query(default=False, description="unmasked (roles with personal_data.full only)"),
    fields: str = Query(
        default="name,phone,id_number",
        max_length=40,
        description="which of name, phone, id_number to return (comma-separated); the others come "
        "back null. Ask only for what the task needs: a crew calling back needs the phone.",
    ),
) -> ReporterOut:
    """The caller who reported the incident: masked (``138****5678``, ``张*``) unless ``full``.
    Every read is written to the audit log first, with ``reason`` and the fields read; officers
    may read only the reporter of the incident they were sent to. Rate-limited per user (429)."""
    wanted = frozenset(f.strip() for f in fields.split(",") if f.strip())
    if not wanted or not wanted <= REPORTER_FIELDS:
        raise ValidationFailed(
            f"fields are some of {', '.join(sorted(REPORTER_FIELDS))}", code="bad_fields", fields=fields
        )
    guard(principal, services).own_incident(incident_id, doing="see the reporter")
    if full and not principal.may(Permission.PERSONAL_DATA_FULL):
        raise Forbidden(
            f"the role {principal.role} sees reporters masked only",
            code="role_forbidden",
            role=str(principal.role),
            permission=str(Permission.PERSONAL_DATA_FULL),
        )
    text = reason_text(reason)  # a refused request does not use up the rate limit
    limit_lookups(request, principal)
    view = services.personal.read_reporter(
        incident_id,
        actor=principal.username,
        reason=text,
        full=full,
        fields=wanted,
        source=client_address(request),
    )
    # Personal data: no cache on the way (a proxy, the browser's disk) may keep it.
    response.headers["Cache-Control"] = "no-store"
    return ReporterOut(
        incident_id=view.incident_id,
        name=view.name,
        phone=view.phone,
        id_number=view.id_number,
        masked=view.masked,
    )
