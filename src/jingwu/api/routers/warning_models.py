"""Analysts' early-warning models (大数据建模预警) and the warnings they raise.

The models are the analysts' (``model.admin``): saved, edited (each edit a new version, switched
off), back-tested for precision on history, switched on only with a back-test of their current
version, run by hand or on their schedule. Every change, back-test and run is audited. The
warnings are the stations' (``warning.read``): listed within the caller's jurisdiction,
acknowledged or dismissed there. docs/warning-models.md describes the rules."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request

from jingwu.api.deps import Guard, ModelAdmin, ServicesDep, WarningReader, client_address, guard
from jingwu.api.schemas.warning_models import (
    BacktestIn,
    BacktestOut,
    BacktestSummaryOut,
    ModelIn,
    ModelOut,
    ModelPut,
    RunOut,
    WarningActIn,
    WarningOut,
)
from jingwu.errors import Forbidden
from jingwu.service.warning_models import ModelDefinition, Reach

router = APIRouter(tags=["models"])


def _definition(body: ModelIn) -> ModelDefinition:
    return ModelDefinition(
        name=body.name,
        purpose=body.purpose,
        kind=body.kind,
        params=body.params,
        sources=body.sources,
        every_minutes=body.every_minutes,
        owner=body.owner,
    )


def _reach(g: Guard) -> Reach:
    def check(station_id: str | None) -> None:
        if not g.principal.jurisdiction.covers_station(station_id, g.district_of):
            raise Forbidden(
                "this warning is for a station outside your jurisdiction",
                code="out_of_jurisdiction",
                station_id=station_id,
                jurisdiction=str(g.principal.jurisdiction),
            )

    return check


# ------------------------------------------------------------------ models


@router.get("/api/models", response_model=list[ModelOut])
def list_models(principal: ModelAdmin, services: ServicesDep) -> list[ModelOut]:
    """Every model, the newest change first, each with the newest back-test of its current version."""
    return [ModelOut.model_validate(m) for m in services.warning_models.catalogue.list()]


@router.post("/api/models", status_code=201, response_model=ModelOut)
def create_model(body: ModelIn, principal: ModelAdmin, request: Request, services: ServicesDep) -> ModelOut:
    """Save a model, switched off: back-test it, then switch it on. Audited (``model.created``)."""
    created = services.warning_models.catalogue.create(
        _definition(body), actor=principal.username, source=client_address(request)
    )
    return ModelOut.model_validate(created)


@router.get("/api/models/{model_id}", response_model=ModelOut)
def get_model(model_id: str, principal: ModelAdmin, services: ServicesDep) -> ModelOut:
    return ModelOut.model_validate(services.warning_models.catalogue.get(model_id))


@router.put("/api/models/{model_id}", response_model=ModelOut)
def edit_model(
    model_id: str, body: ModelPut, principal: ModelAdmin, request: Request, services: ServicesDep
) -> ModelOut:
    """Replace the definition (``version``: the one you saw). A change makes a new version and
    switches the model off until that version is back-tested and switched on again."""
    edited = services.warning_models.catalogue.edit(
        model_id,
        _definition(body),
        version=body.version,
        actor=principal.username,
        source=client_address(request),
    )
    return ModelOut.model_validate(edited)


@router.post("/api/models/{model_id}/backtest", status_code=201, response_model=BacktestOut)
def backtest_model(
    model_id: str, body: BacktestIn, principal: ModelAdmin, request: Request, services: ServicesDep
) -> BacktestOut:
    """Run the current version over a past period at daily steps and measure its precision: the
    share of its warnings that were followed, within the follow-up window, by what they foretold
    (docs/warning-models.md). Audited (``model.backtest``)."""
    result = services.warning_models.backtests.run(
        model_id,
        days=body.days,
        start=body.start,
        end=body.end,
        actor=principal.username,
        source=client_address(request),
    )
    return BacktestOut.model_validate(result)


@router.get("/api/models/{model_id}/backtests", response_model=list[BacktestSummaryOut])
def list_backtests(
    model_id: str, principal: ModelAdmin, services: ServicesDep, limit: int = Query(default=20, ge=1, le=200)
) -> list[BacktestSummaryOut]:
    """The model's back-tests, newest first, every version's."""
    found = services.warning_models.backtests.list(model_id, limit=limit)
    return [BacktestSummaryOut.model_validate(b) for b in found]


@router.post("/api/models/{model_id}/enable", response_model=ModelOut)
def enable_model(model_id: str, principal: ModelAdmin, request: Request, services: ServicesDep) -> ModelOut:
    """Switch on: 409 ``not_backtested`` unless the current version has a back-test."""
    switched = services.warning_models.catalogue.switch(
        model_id, on=True, actor=principal.username, source=client_address(request)
    )
    return ModelOut.model_validate(switched)


@router.post("/api/models/{model_id}/disable", response_model=ModelOut)
def disable_model(model_id: str, principal: ModelAdmin, request: Request, services: ServicesDep) -> ModelOut:
    switched = services.warning_models.catalogue.switch(
        model_id, on=False, actor=principal.username, source=client_address(request)
    )
    return ModelOut.model_validate(switched)


@router.post("/api/models/{model_id}/run", status_code=201, response_model=RunOut)
def run_model(model_id: str, principal: ModelAdmin, request: Request, services: ServicesDep) -> RunOut:
    """Run a model that is switched on now (409 ``model_not_enabled`` otherwise). Its new warnings
    go to the stations concerned as ``model.warning`` events. Audited (``model.run``)."""
    run = services.warning_models.runs.run(model_id, actor=principal.username, source=client_address(request))
    return RunOut.model_validate(run)


@router.get("/api/models/{model_id}/runs", response_model=list[RunOut])
def list_runs(
    model_id: str, principal: ModelAdmin, services: ServicesDep, limit: int = Query(default=50, ge=1, le=500)
) -> list[RunOut]:
    """The model's runs, newest first: when, by the schedule or by whom, records read per source,
    warnings found and raised, how long it took."""
    return [RunOut.model_validate(r) for r in services.warning_models.runs.runs(model_id, limit=limit)]


# ------------------------------------------------------------------ warnings


@router.get("/api/warnings", response_model=list[WarningOut])
def list_warnings(
    principal: WarningReader,
    services: ServicesDep,
    status: Literal["new", "acknowledged", "dismissed"] | None = None,
    station_id: str | None = Query(default=None, max_length=64),
    model_id: str | None = Query(default=None, max_length=40),
    limit: int = Query(default=200, ge=1, le=1000),
) -> list[WarningOut]:
    """The warnings for the stations in your jurisdiction, newest first."""
    g = guard(principal, services)
    station_ids = g.station_ids
    if station_id is not None:
        _reach(g)(station_id)
        station_ids = frozenset({station_id})
    found = services.warning_models.alerts.list(
        station_ids=station_ids, status=status, model_id=model_id, limit=limit
    )
    return [WarningOut.model_validate(v) for v in found]


def _act(
    warning_id: str,
    to: str,
    body: WarningActIn | None,
    principal: WarningReader,
    request: Request,
    services: ServicesDep,
) -> WarningOut:
    acted = services.warning_models.alerts.act(
        warning_id,
        to=to,
        actor=principal.username,
        note=((body.note or "").strip() or None) if body is not None else None,
        reach=_reach(guard(principal, services)),
        source=client_address(request),
    )
    return WarningOut.model_validate(acted)


@router.post("/api/warnings/{warning_id}/acknowledge", response_model=WarningOut)
def acknowledge_warning(
    warning_id: str,
    principal: WarningReader,
    request: Request,
    services: ServicesDep,
    body: WarningActIn | None = None,
) -> WarningOut:
    """Someone is on it (409 ``warning_closed`` once dismissed). Audited (``warning.acknowledged``)."""
    return _act(warning_id, "acknowledged", body, principal, request, services)


@router.post("/api/warnings/{warning_id}/dismiss", response_model=WarningOut)
def dismiss_warning(
    warning_id: str,
    principal: WarningReader,
    request: Request,
    services: ServicesDep,
    body: WarningActIn | None = None,
) -> WarningOut:
    """Nothing to do (409 ``warning_closed`` once dismissed). Audited (``warning.dismissed``)."""
    return _act(warning_id, "dismissed", body, principal, request, services)


__all__ = ["router"]
