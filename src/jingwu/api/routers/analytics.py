"""Situation analytics (大数据研判): CompStat, response times and hotspots over the bureau's own
incidents (dataset ``jingwu``, within the caller's jurisdiction) and over other forces' and years'
files imported as datasets. Aggregates only: no answer holds a person's data."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from jingwu.api.deps import AnalyticsImporter, AnalyticsReader, ServicesDep, client_address, guard
from jingwu.api.routers.attachments import _read_limited
from jingwu.api.schemas.responses import ErrorOut

router = APIRouter(prefix="/api/analytics", tags=["analytics"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "dataset_not_found"},
    422: {"model": ErrorOut, "description": "bad_period, period_outside_data, bad_breakdown …"},
}
Dataset = Annotated[
    str,
    Query(
        pattern=r"^[a-z0-9][a-z0-9-]{0,39}$",
        description="jingwu (the bureau's own incidents, the default) or an imported dataset",
    ),
]
PeriodText = Annotated[
    str,
    Query(
        min_length=4,
        max_length=20,
        description="2019-07 (month), 2019 (year), 2019-W27, 28d:2019-07-31, ytd:2019-07 or ytd:2019-07-15",
    ),
]
Month = Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")]


class DatasetOut(BaseModel):
    name: str
    own: bool = Field(description="the bureau's own incidents, kept up to date; else an import")
    files: int
    records: int
    first: str | None = Field(description="the earliest record's local time")
    last: str | None


class CompStatRowOut(BaseModel):
    key: str = Field(description="the value of the breakdown's column (the category, the station …)")
    current: int
    previous: int
    change_pct: float | None = Field(description="none where the period a year earlier had none")


class CompStatTotalOut(BaseModel):
    current: int
    previous: int
    change_pct: float | None


class CompStatTableOut(BaseModel):
    rows: list[CompStatRowOut]
    total: CompStatTotalOut


class CompStatOut(BaseModel):
    period: str
    previous_period: str
    by: str
    basis: Literal["records", "cases"]
    filed: CompStatTableOut
    solved: CompStatTableOut | None = Field(description="none where the records say nothing of solving")
    caveats: list[str]


class ImportOut(BaseModel):
    dataset: str
    file: str
    records: dict[str, Any] = Field(description="rows read, loaded, bad (by reason, with lines)")


class DroppedOut(BaseModel):
    dataset: str
    files: int


@router.get("/datasets", response_model=list[DatasetOut])
def datasets(principal: AnalyticsReader, services: ServicesDep) -> list[DatasetOut]:
    """The datasets the analyses can read: the bureau's own incidents first, then the imports."""
    return [
        DatasetOut(
            name=d.name,
            own=d.own,
            files=d.files,
            records=d.records,
            first=d.first.isoformat() if d.first else None,
            last=d.last.isoformat() if d.last else None,
        )
        for d in services.analytics.datasets()
    ]


@router.post(
    "/datasets/{dataset}/files",
    status_code=201,
    response_model=ImportOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
    responses={413: {"model": ErrorOut, "description": "upload_too_large"}, **_ERRORS},
)
async def import_file(
    dataset: str,
    request: Request,
    principal: AnalyticsImporter,
    services: ServicesDep,
    format: Annotated[str, Query(pattern=r"^[a-z0-9-]{1,40}$", description="police-uk, nopd, berkeley")],
    filename: Annotated[str, Query(min_length=1, max_length=200)] = "upload.csv",
) -> ImportOut:
    """Import one CSV export (the raw file as the body) into ``dataset`` through a built-in column
    mapping. A file that lacks a column the format needs is refused, naming it; bad rows are
    counted by reason and line and reported, the rest kept. Audited."""
    data = await _read_limited(request, services.settings.max_import_bytes)
    done = await run_in_threadpool(
        services.analytics.import_csv,
        dataset,
        data,
        format_name=format,
        filename=filename,
        actor=principal.username,
        source=client_address(request),
    )
    return ImportOut.model_validate(done)


@router.delete("/datasets/{dataset}", response_model=DroppedOut, responses=_ERRORS)
def drop_dataset(
    dataset: str, request: Request, principal: AnalyticsImporter, services: ServicesDep
) -> DroppedOut:
    """Remove an imported dataset and its files (audited). The bureau's own cannot be removed."""
    files = services.analytics.drop_dataset(dataset, actor=principal.username, source=client_address(request))
    return DroppedOut(dataset=dataset, files=files)


@router.get("/compstat", response_model=CompStatOut, responses=_ERRORS)
def compstat(
    principal: AnalyticsReader,
    services: ServicesDep,
    period: PeriodText,
    by: Literal["category", "group", "district", "station", "area", "priority"] = "category",
    dataset: Dataset = "jingwu",
    basis: Annotated[
        Literal["records", "cases"],
        Query(description="records: every incident by its call (警情); cases: cases by filing (立案)"),
    ] = "records",
) -> CompStatOut:
    """Each row's count in ``period`` beside the same period a year earlier, with the change in
    per cent, solved counts where the records say, and the caveats to read them with."""
    found = services.analytics.compstat(
        period, by=by, dataset=dataset, station_ids=guard(principal, services).station_ids, basis=basis
    )

    def table(part: dict[str, Any]) -> CompStatTableOut:
        rows = [
            CompStatRowOut(key=r[by], **{k: r[k] for k in ("current", "previous", "change_pct")})
            for r in part["rows"]
        ]
        return CompStatTableOut(rows=rows, total=CompStatTotalOut(**part["total"]))

    return CompStatOut(
        period=found["period"],
        previous_period=found["previous_period"],
        by=by,
        basis=basis,
        filed=table(found),
        solved=table(found["solved"]) if found["solved"] else None,
        caveats=found["caveats"],
    )


@router.get("/response-times", responses=_ERRORS)
def response_times(
    principal: AnalyticsReader,
    services: ServicesDep,
    period: Annotated[str | None, Query(min_length=4, max_length=20)] = None,
    dataset: Dataset = "jingwu",
    trend: Literal["auto", "day", "week", "month"] = "auto",
) -> dict[str, Any]:
    """Call→dispatch, dispatch→arrival and call→arrival percentiles (50, 75, 90), overall and by
    priority, district, station and hour; the share of arrivals within 5 minutes; the trend.
    Officer-initiated incidents are left out; stages that end before they start are counted."""
    return services.analytics.response_times(
        period, dataset=dataset, station_ids=guard(principal, services).station_ids, trend=trend
    )


@router.get("/heat", responses=_ERRORS)
def heat(
    principal: AnalyticsReader,
    services: ServicesDep,
    period: PeriodText,
    dataset: Dataset = "jingwu",
    cell_m: Annotated[float, Query(ge=50, le=5000, description="the cells' side in metres")] = 250.0,
) -> dict[str, Any]:
    """The period's located records counted in square cells (the hotspot grid's, centred on the
    dataset, so that cells keep their place from period to period): each occupied cell as
    [south, west, north, east, count] in WGS-84, busiest first, and the records left off the map
    for want of coordinates. For the heat layer of the analytics page's map."""
    return services.analytics.heat(
        period, dataset=dataset, station_ids=guard(principal, services).station_ids, cell_m=cell_m
    )


@router.get("/hotspots", responses=_ERRORS)
def hotspots(
    principal: AnalyticsReader,
    services: ServicesDep,
    month: Month,
    area_share: Annotated[float, Query(gt=0, le=1)] = 0.05,
    method: Literal["auto", "counts", "kde", "recency-kde", "near-repeat"] = "auto",
    dataset: Dataset = "jingwu",
) -> dict[str, Any]:
    """The forecast hotspots of ``month`` (learnt from the records before it only) as GeoJSON
    cells covering ``area_share`` of the study area, the method and how it was chosen, and its
    score (hit rate, PAI, PEI*) where the month is already in the data."""
    return services.analytics.hotspots(
        month,
        area_share=area_share,
        method=method,
        dataset=dataset,
        station_ids=guard(principal, services).station_ids,
    )


@router.get(
    "/report.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "the report"}, **_ERRORS},
)
def report(
    request: Request,
    principal: AnalyticsReader,
    services: ServicesDep,
    period: PeriodText,
    dataset: Dataset = "jingwu",
    lang: Literal["zh", "en"] = "zh",
) -> Response:
    """The printable report of ``period``: CompStat by class and by type, response times, the
    hotspot forecast of its last month with the methods' scores. Audited (analytics.report)."""
    reach = guard(principal, services)
    scope = principal.jurisdiction
    document = services.analytics.report(
        period,
        dataset=dataset,
        station_ids=reach.station_ids,
        language=lang,
        bureau=services.settings.bureau_name,
        scope=("全市" if lang == "zh" else "the city") if scope.name is None else scope.name,
        actor=principal.username,
        source=client_address(request),
    )
    name = f"jingwu-analytics-{dataset}-{period.replace(':', '-')}.pdf"
    return Response(
        document,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@router.get("/hotspot-scores", responses=_ERRORS)
def hotspot_scores(
    principal: AnalyticsReader,
    services: ServicesDep,
    months: Annotated[list[str], Query(min_length=1, max_length=12, description="YYYY-MM, each back-tested")],
    dataset: Dataset = "jingwu",
) -> dict[str, Any]:
    """Every method back-tested on each month (trained on all before it): hit rate, PAI and PEI*
    at 1, 3 and 5 % of the area, against the naive count grid and the KDE baselines."""
    return services.analytics.hotspot_scores(
        months, dataset=dataset, station_ids=guard(principal, services).station_ids
    )
