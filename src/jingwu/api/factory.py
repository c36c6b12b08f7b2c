"""The FastAPI app factory: the same app serves production, the demo and the tests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute

from jingwu import __version__
from jingwu.api.deps import client_address, route_permission
from jingwu.api.idempotency import IdempotencyMiddleware
from jingwu.api.limits import BodyLimitMiddleware
from jingwu.api.ratelimit import LoginRateLimitMiddleware
from jingwu.api.refusals import error_response
from jingwu.api.routers import (
    analytics,
    attachments,
    auth,
    cameras,
    cases,
    checks,
    devices,
    disputes,
    exports,
    fleet,
    geocode,
    incident_records,
    incidents,
    live,
    maps,
    osmand,
    people,
    personnel,
    positions,
    records,
    reference,
    roster,
    self_service,
    stations,
    stats,
    throws,
    units,
    users,
    warning_models,
)
from jingwu.api.schemas.responses import ErrorOut, HealthOut
from jingwu.api.security_headers import SecurityHeadersMiddleware
from jingwu.api.websocket import LiveWebSocketProtocol
from jingwu.composition import Services
from jingwu.domain.access import Principal, roles_with
from jingwu.errors import Forbidden, JingwuError
from jingwu.service.audit import Outcome

log = logging.getLogger(__name__)

# A background job started with the app and cancelled when it stops (the demo simulator is one).
BackgroundJob = Callable[[Services], Coroutine[Any, Any, None]]

# The browser apps are plain files (ES modules, vendored libraries): no build step, no Node.js.
#: uvicorn's WebSocket implementation, the same in every server process (jingwu serve, the bench):
#: its sans-I/O one, deflating at the fastest level (api.websocket).
WEBSOCKETS = LiveWebSocketProtocol

_WEB = Path(str(resources.files("jingwu") / "web"))
# Pages are re-validated on every load so that a new release is picked up at once.
_NO_CACHE = {"Cache-Control": "no-cache"}
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated", 403: "forbidden"}

TIMER_PERIOD_S = 1.0
BOARD_REFRESH_EVERY = 30  # timer ticks between reloads of the live unit board from the store
TIMER_LOG_EVERY_S = 60.0  # a failing timer job is logged at most this often
DEVICE_SWEEP_EVERY = 5  # timer ticks between looks for community devices gone silent
ROSTER_SYNC_EVERY = 5  # timer ticks between syncs of the fleet with the roster (shift starts and ends)
POSITION_UPKEEP_EVERY = 60  # ticks between position-history upkeep (partitions, retention)
MODEL_RUNS_EVERY = 60  # ticks between looks for early-warning models due to run (each on its schedule)
ANALYTICS_REFRESH_EVERY = 300  # ticks between bringing the analytical store's incident files up to date
# Responses smaller than this are sent as they are: compressing them saves less than it costs.
GZIP_MINIMUM_BYTES = 1024
# What the document says of refusals: the one shape every handler below (and every middleware)
# answers in. It replaces FastAPI's default 422 entry, whose ``detail`` list we never send.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorOut, "description": "refused: error.code says why"}
}


async def _timer_loop(services: Services) -> None:
    """Every second, escalate dispatches not acknowledged in time (deadlines live in the store);
    every half minute, reload the live unit board so that it heals from anything it missed, and
    forget idempotency keys past their lifetime.

    With several server processes: every process sweeps for overdue dispatches, and each overdue
    row is claimed by exactly one of them (locked with SKIP LOCKED and marked escalated in the
    same transaction), so an escalation is raised once and survives the death of any process.
    The board is each process's own. Jobs that need doing once per cluster, such as the purge,
    run on the leader only (``services.leader``)."""
    failures: dict[str, tuple[float, int]] = {}  # job → (when last logged, failures since)

    async def job(name: str, work: Callable[[], object]) -> None:
        # Each job on its own: one failing (a database outage, a bug) must not starve the others,
        # and a failure is logged at most once a minute per job, with the count since.
        try:
            await run_in_threadpool(work)
        except Exception:
            logged_at, since = failures.get(name, (-math.inf, 0))
            now = time.monotonic()
            if now - logged_at >= TIMER_LOG_EVERY_S:
                log.exception("timer job %s failed (%d more failures since the last report)", name, since)
                failures[name] = (now, 0)
            else:
                failures[name] = (logged_at, since + 1)
        else:
            failures.pop(name, None)

    def roster_if_leader() -> None:
        if services.leader.is_leader():
            services.admin.roster.sync()

    def purge_if_leader() -> None:
        if services.leader.is_leader():
            services.idempotency.purge_expired()

    def models_if_leader() -> None:
        if services.leader.is_leader():
            services.warning_models.run_due()

    tick = 0
    while True:
        tick += 1
        await job("escalate_overdue", services.dispatch.escalate_overdue)
        if tick % DEVICE_SWEEP_EVERY == 0:
            await job("device_offline_sweep", services.community_devices.sweep_offline)
        if tick % POSITION_UPKEEP_EVERY == 0:
            # Partitions ahead and retention (safe in every process of a cluster: idempotent).
            await job("position_upkeep", services.positions.maintain)
        if tick % MODEL_RUNS_EVERY == 0:
            # The analysts' models due to run: once per cluster, so a warning is raised once.
            await job("model_runs", models_if_leader)
        if tick % ROSTER_SYNC_EVERY == 0:
            # Units on and off duty with their shifts: once per cluster, so no two processes
            # move the same unit at once.
            await job("roster_sync", roster_if_leader)
        if tick % BOARD_REFRESH_EVERY == 0:
            await job("board_refresh", services.dispatch.refresh_board)
            # Stations changed by a process that could not tell this one (an import run from the
            # command line next to a single server) are in force within this period.
            await job("stations_reload", services.dispatch.reload_stations)
            await job("idempotency_purge", purge_if_leader)
        if tick % ANALYTICS_REFRESH_EVERY == 0:
            await job("analytics_refresh", services.analytics.refresh)
        await asyncio.sleep(TIMER_PERIOD_S)


def create_app(services: Services, *, background: Sequence[BackgroundJob] = ()) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(_timer_loop(services))]
        settings = services.settings
        if settings.mqtt_url:
            # The MQTT client, imported only where it is used.
            from jingwu.service.community_devices.mqtt import run_subscriber

            subscriber = run_subscriber(
                services.community_devices,
                settings.mqtt_url,
                client_id=settings.mqtt_client_id,
                group=settings.mqtt_share_group,
            )
            tasks.append(asyncio.create_task(subscriber))
        tasks += [asyncio.create_task(job(services)) for job in background]
        # The video workers' supervisor: a thread; workers start when there are cameras to read.
        await run_in_threadpool(services.video.start_workers)
        services.video.watch_new_p1(services.bus, services.leader.is_leader)
        try:
            yield
        finally:
            await run_in_threadpool(services.video.stop_workers)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    app = FastAPI(
        docs_url=None,  # served below from vendored files: the docs must work with no internet
        redoc_url=None,
        title="Jingwu 警务",
        version=__version__,
        description="Integrated intake, road-ETA dispatch and a live situation picture for a police bureau.",
        lifespan=lifespan,
    )
    app.state.services = services
    # Added innermost first: the idempotency middleware must see (and store) the uncompressed body.
    app.add_middleware(IdempotencyMiddleware, services=services)
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES)
    app.add_middleware(BodyLimitMiddleware)  # an oversized body is refused before anything runs
    app.add_middleware(LoginRateLimitMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, tile_url=services.settings.tile_url)  # every answer

    @app.exception_handler(JingwuError)
    async def jingwu_error(request: Request, exc: JingwuError) -> JSONResponse:
        if exc.http_status >= 500:
            log.error("system fault: %s", exc.message)
        if isinstance(exc, Forbidden):
            await run_in_threadpool(_audit_refusal, services, request, exc)
        return error_response(exc)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        # A bug of ours still answers in the documented shape, without leaking internals.
        log.exception("unhandled error", exc_info=exc)
        return JSONResponse(
            status_code=500,
            content={
                "error": {"code": "internal", "message": "internal error; it has been logged", "params": {}}
            },
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Unknown routes and methods answer in the same shape as every other error.
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return JSONResponse(
            status_code=exc.status_code,
            content={"error": {"code": code, "message": str(exc.detail), "params": {}}},
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def request_invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors: list[dict[str, Any]] = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request", "type": ""}
        where = ".".join(str(p) for p in first["loc"] if p != "body" and not isinstance(p, int))
        if first["type"] == "json_invalid":
            where, first["msg"] = "", f"the request body is not valid JSON ({first['msg']})"
        return JSONResponse(
            status_code=422,
            content={
                "error": {
                    "code": "validation_failed",
                    "message": f"{where}: {first['msg']}" if where else str(first["msg"]),
                    "params": {"errors": errors},
                }
            },
        )

    @app.get("/healthz", response_model=HealthOut, tags=["health"])
    def healthz() -> HealthOut:
        return HealthOut(status="ok", demo=services.demo)

    app.mount("/static", StaticFiles(directory=_WEB), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Jingwu 警务 API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png",
        )

    @app.get("/", include_in_schema=False)
    def console() -> FileResponse:
        """The command-room console (log-in, map, queue, big screen)."""
        return FileResponse(_WEB / "console" / "index.html", headers=_NO_CACHE)

    @app.get("/admin", include_in_schema=False)
    def admin_redirect() -> RedirectResponse:
        return RedirectResponse("/admin/", status_code=308)

    @app.get("/admin/", include_in_schema=False)
    def admin_page() -> FileResponse:
        """Administration: stations and their jurisdictions, units, personnel, the roster."""
        return FileResponse(_WEB / "admin" / "index.html", headers=_NO_CACHE)

    @app.get("/station", include_in_schema=False)
    def station_redirect() -> RedirectResponse:
        return RedirectResponse("/station/", status_code=308)

    @app.get("/station/", include_in_schema=False)
    def station_desk() -> FileResponse:
        """The station desk (派出所工作台): registry review, disputes, applications, watch lists."""
        return FileResponse(_WEB / "station" / "index.html", headers=_NO_CACHE)

    @app.get("/analytics", include_in_schema=False)
    def analytics_redirect() -> RedirectResponse:
        return RedirectResponse("/analytics/", status_code=308)

    @app.get("/analytics/", include_in_schema=False)
    def analytics_page() -> FileResponse:
        """The analytics page (大数据研判): CompStat, response times, heat map, hotspot forecasts."""
        return FileResponse(_WEB / "analytics" / "index.html", headers=_NO_CACHE)

    @app.get("/terminal", include_in_schema=False)
    def terminal_redirect() -> RedirectResponse:
        # The service worker's scope is /terminal/: the page must live under it to work offline.
        return RedirectResponse("/terminal/", status_code=308)

    @app.get("/terminal/", include_in_schema=False)
    def terminal() -> FileResponse:
        """The officer's mobile terminal (an installable PWA)."""
        return FileResponse(_WEB / "terminal" / "index.html", headers=_NO_CACHE)

    @app.get("/terminal/sw.js", include_in_schema=False)
    def terminal_worker() -> FileResponse:
        return FileResponse(_WEB / "terminal" / "sw.js", media_type="text/javascript", headers=_NO_CACHE)

    @app.get("/terminal/manifest.webmanifest", include_in_schema=False)
    def terminal_manifest() -> FileResponse:
        return FileResponse(
            _WEB / "terminal" / "manifest.webmanifest", media_type="application/manifest+json"
        )

    routers = (auth, reference, maps, geocode, stats, units, positions, osmand, incidents, attachments, cases)
    administration = (stations, fleet, personnel, roster)
    community = (records, checks, disputes, self_service)
    for module in (
        *routers,
        incident_records,
        people,
        exports,
        users,
        devices,
        *administration,
        *community,
        warning_models,
        analytics,
        cameras,
        throws,
        live,
    ):
        _document_permissions(module.router.routes)
        app.include_router(module.router, responses=ERROR_RESPONSES)
    # The disputes at an incident's address or with its parties, beside the incident in the console.
    _document_permissions(disputes.incidents_router.routes)
    app.include_router(disputes.incidents_router, responses=ERROR_RESPONSES)
    return app


def _audit_refusal(services: Services, request: Request, exc: Forbidden) -> None:
    """A refused attempt by an authenticated user — a role or a place they lack — goes to the
    audit log (CJIS 5.4.1.1: unsuccessful access attempts), with what was tried where."""
    principal: Principal | None = getattr(request.state, "principal", None)
    try:
        services.audit.record(
            "access.refused",
            outcome=Outcome.REFUSED,
            actor=principal.username if principal else None,
            target=f"{request.method} {request.url.path}"[:200],
            source=client_address(request),
            details={"code": exc.code, **{k: v for k, v in exc.params.items() if isinstance(v, str | int)}},
        )
    except JingwuError:
        # The refusal stands whether or not it could be recorded; the log says why it was not.
        log.exception("could not audit a refused request")


def _document_permissions(routes: Sequence[BaseRoute]) -> None:
    """Write each route's permission, and the roles that hold it, into the OpenAPI document
    (``x-permission``, ``x-roles``), so that what a route needs is read from the route itself.
    Done on the routers' own routes, before they are included (FastAPI keeps an included router
    as one entry of ``app.routes``), and once only (an app may be created many times)."""
    for route in routes:
        if not isinstance(route, APIRoute) or "x-permission" in (route.openapi_extra or {}):
            continue
        permission = route_permission(route.dependant)
        if permission is None:
            continue
        roles = sorted(str(r) for r in roles_with(permission))
        route.openapi_extra = {
            **(route.openapi_extra or {}),
            "x-permission": str(permission),
            "x-roles": roles,
        }
        route.description = (route.description or "").rstrip() + (
            f"\n\nNeeds **{permission}** (roles: {', '.join(roles)}); records outside the caller's "
            "jurisdiction are refused with 403 out_of_jurisdiction or left out of lists."
        )


__all__ = ["WEBSOCKETS", "BackgroundJob", "create_app"]
