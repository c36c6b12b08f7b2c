"""The force's people (admins; commanders for their own stations). Each logs in by police number."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from jingwu.api.deps import PersonnelAdmin, ServicesDep, guard
from jingwu.api.idempotency import withhold_from_replay
from jingwu.api.schemas.admin import NewPersonOut, PersonIn, PersonOut, PersonPatch
from jingwu.domain.access import station_ids_within
from jingwu.service.administration.personnel import PersonDraft, check_grant, person_view

router = APIRouter(prefix="/api/personnel", tags=["administration"])


@router.get("", response_model=list[PersonOut])
def list_personnel(
    principal: PersonnelAdmin,
    services: ServicesDep,
    station: str | None = Query(default=None, max_length=64),
    include_retired: bool = False,
) -> list[PersonOut]:
    """The people of the stations in the caller's reach, by police number."""
    within = station_ids_within(principal.jurisdiction, services.dispatch.district_of)
    if station is not None:
        guard(principal, services).station(station)
        within = frozenset({station})
    found = services.admin.personnel.list(station_ids=within, include_retired=include_retired)
    return [PersonOut.model_validate(person_view(p, role=r, unit_id=u)) for p, r, u in found]


@router.post("", response_model=NewPersonOut, status_code=201)
def create_person(body: PersonIn, principal: PersonnelAdmin, services: ServicesDep) -> NewPersonOut:
    """A person and their account (user name: the police number). Without a password one is made
    and answered this once (``initial_password``)."""
    guard(principal, services).station(body.station_id)
    check_grant(principal.role, body.role)  # 403 role_not_grantable: no commander makes an admin
    withhold_from_replay("initial_password")
    draft = PersonDraft(**body.model_dump())
    made = services.admin.personnel.create(draft, actor=principal.username)
    view: dict[str, Any] = person_view(made.person, role=str(made.role))
    return NewPersonOut.model_validate({**view, "initial_password": made.password})


@router.get("/{person_id}", response_model=PersonOut)
def get_person(person_id: str, principal: PersonnelAdmin, services: ServicesDep) -> PersonOut:
    person, role, unit_id = services.admin.personnel.get(person_id)
    guard(principal, services).station(person.station_id)
    return PersonOut.model_validate(person_view(person, role=role, unit_id=unit_id))


@router.patch("/{person_id}", response_model=PersonOut)
def edit_person(
    person_id: str, body: PersonPatch, principal: PersonnelAdmin, services: ServicesDep
) -> PersonOut:
    checks = guard(principal, services)
    person, role, _ = services.admin.personnel.get(person_id)
    checks.station(person.station_id)
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    # Whom they may change: people of a role they could give, and only to such a role.
    check_grant(principal.role, role, *([changes["role"]] if changes.get("role") else []))
    if "station_id" in changes:
        checks.station(changes["station_id"])
    person = services.admin.personnel.update(
        person.id, changes, version=body.version, actor=principal.username
    )
    _, role, unit_id = services.admin.personnel.get(person.id)
    return PersonOut.model_validate(person_view(person, role=role, unit_id=unit_id))


@router.post("/{person_id}/retire", response_model=PersonOut)
def retire_person(person_id: str, principal: PersonnelAdmin, services: ServicesDep) -> PersonOut:
    """Leaving the force: the account is disabled, sessions end, future shifts lose them."""
    person, role, _ = services.admin.personnel.get(person_id)
    guard(principal, services).station(person.station_id)
    check_grant(principal.role, role)
    person = services.admin.personnel.retire(person.id, actor=principal.username)
    return PersonOut.model_validate(person_view(person, role=role))
