"""An incident's case: filed (立案) and solved (破案) by the station, for CompStat's counts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from jingwu.api.deps import CaseWriter, IncidentReader, ServicesDep, guard
from jingwu.api.schemas.responses import ErrorOut
from jingwu.domain.cases import CaseKind
from jingwu.service.cases import case_json

router = APIRouter(prefix="/api/incidents", tags=["cases"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "incident_not_found"},
    409: {
        "model": ErrorOut,
        "description": "case_exists, case_number_taken, no_case, case_solved, incident_merged",
    },
    422: {"model": ErrorOut, "description": "bad_case_number"},
}


class CaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case_number: str = Field(min_length=1, max_length=40, description="letters, digits and dashes")
    kind: CaseKind = Field(description="criminal (刑事) or administrative (行政)")


class CaseOut(BaseModel):
    incident_id: str
    case_number: str
    kind: CaseKind
    filed_at: str
    filed_by: str | None
    solved_at: str | None
    solved_by: str | None


@router.get(
    "/{incident_id}/case", response_model=CaseOut, responses={204: {"description": "no case"}, **_ERRORS}
)
def get_case(incident_id: str, principal: IncidentReader, services: ServicesDep) -> Any:
    """The incident's case, or 204 when none was filed."""
    guard(principal, services).incident(incident_id)
    case = services.cases.get(incident_id)
    if case is None:
        return Response(status_code=204)
    return CaseOut.model_validate(case_json(case))


@router.post("/{incident_id}/case", status_code=201, response_model=CaseOut, responses=_ERRORS)
def file_case(incident_id: str, body: CaseIn, principal: CaseWriter, services: ServicesDep) -> CaseOut:
    """File a case for the incident (立案): one case per incident, its number unique."""
    guard(principal, services).incident(incident_id)
    case = services.cases.file(incident_id, number=body.case_number, kind=body.kind, actor=principal.username)
    return CaseOut.model_validate(case_json(case))


@router.post("/{incident_id}/case/solve", response_model=CaseOut, responses=_ERRORS)
def solve_case(incident_id: str, principal: CaseWriter, services: ServicesDep) -> CaseOut:
    """Mark the incident's case solved (破案)."""
    guard(principal, services).incident(incident_id)
    case = services.cases.solve(incident_id, actor=principal.username)
    return CaseOut.model_validate(case_json(case))
