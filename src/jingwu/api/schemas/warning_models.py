"""Request and answer bodies of the early-warning models and their warnings
(api.routers.warning_models). Requests refuse unknown keys; a rule's parameters are checked by the
domain (domain.warning_models), which answers each fault with its own stable code."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from jingwu.api.schemas.requests import Body, StrictInt

_KIND_DOC = (
    "repeat_address (params: incident_types, min_count 2-100 = 3, window_days 1-365 = 30, radius_m "
    "0-500 = 50, require_open_dispute = false), plate_far_apart (min_km 0.5-500 = 5, max_minutes "
    "1-240 = 30) or type_spike (incident_types, window_days 1-90 = 7, history_windows 2-52 = 8, "
    "cell_m 100-5000 = 500, method poisson | zscore, max_p = 0.01, min_z = 3, min_count 1-1000 = 3); "
    "422 bad_model_kind"
)


class ModelIn(Body):
    name: str = Field(min_length=1, max_length=100)
    purpose: str = Field(
        min_length=1,
        max_length=1000,
        description="what the model is for, 10 to 1000 characters (422 purpose_required): its data "
        "may be read for this purpose only",
    )
    kind: str = Field(min_length=1, max_length=32, description=_KIND_DOC)
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="the kind's parameters (see kind); left out: the default. 422 "
        "unknown_model_parameter, missing_model_parameter, bad_model_parameter (params.parameter)",
    )
    sources: list[str] = Field(
        max_length=8,
        description="what the model may read: incidents, disputes, checks, access_events. A kind "
        "that needs one not listed: 422 source_not_listed; a run reads only those listed",
    )
    every_minutes: StrictInt = Field(
        default=60, description="runs every 5 to 10080 minutes (422 bad_schedule)"
    )
    owner: str | None = Field(
        default=None, max_length=64, description="the analyst answerable for it (default: you; 422 bad_owner)"
    )


class ModelPut(ModelIn):
    version: StrictInt = Field(ge=1, description="the version you saw (409 stale_model when it moved on)")


class BacktestIn(Body):
    days: StrictInt | None = Field(
        default=None,
        ge=1,
        le=366,
        description="the period: the last N days (default 90 when no start is given)",
    )
    start: datetime | None = Field(
        default=None, description="or from this time (without a zone: the bureau's local time)"
    )
    end: datetime | None = Field(default=None, description="to this time (default and at most: now)")


class WarningActIn(Body):
    note: str | None = Field(default=None, max_length=500)


class BacktestSummaryOut(BaseModel):
    id: str
    model_id: str
    model_version: int
    period_start: datetime
    period_end: datetime
    follow_up_days: float
    steps: int
    warnings: int
    judged: int = Field(description="warnings whose follow-up window had ended by the end of the data")
    followed: int
    pending: int
    precision: float | None = Field(description="followed / judged; null when nothing could be judged")
    records_read: dict[str, int]
    created_at: datetime
    created_by: str
    duration_ms: int


class BacktestOut(BacktestSummaryOut):
    details: dict[str, Any]


class ModelOut(BaseModel):
    id: str
    name: str
    owner: str
    purpose: str
    kind: str
    params: dict[str, Any]
    sources: list[str]
    every_minutes: int
    enabled: bool
    version: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    last_run_at: datetime | None
    backtest: BacktestSummaryOut | None = Field(description="the newest back-test of the current version")


class RunOut(BaseModel):
    id: str
    model_id: str
    model_version: int
    trigger: str = Field(description="schedule or manual")
    actor: str | None
    started_at: datetime
    duration_ms: int
    records_read: dict[str, int]
    warnings_found: int
    warnings_raised: int
    warning_ids: list[str] | None = None


class PlaceOut(BaseModel):
    lat: float
    lon: float
    address: str | None


class TitleOut(BaseModel):
    zh: str
    en: str


class WarningOut(BaseModel):
    id: str
    model_id: str
    model_name: str
    model_version: int
    kind: str
    station_id: str | None
    place: PlaceOut
    title: TitleOut
    evidence: dict[str, Any] = Field(description="counts and record ids; a plate only masked")
    window_start: datetime
    window_end: datetime
    status: str = Field(description="new, acknowledged or dismissed")
    raised_at: datetime
    acted_by: str | None
    acted_at: datetime | None
    note: str | None


__all__ = [
    "BacktestIn",
    "BacktestOut",
    "BacktestSummaryOut",
    "ModelIn",
    "ModelOut",
    "ModelPut",
    "PlaceOut",
    "RunOut",
    "TitleOut",
    "WarningActIn",
    "WarningOut",
]
