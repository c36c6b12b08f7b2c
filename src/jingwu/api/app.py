"""The FastAPI app factory: the same app serves production, the demo and the tests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from jingwu import __version__
from jingwu.api.routers import auth, incidents, live, reference, units
from jingwu.api.schemas.responses import HealthOut
from jingwu.errors import JingwuError
from jingwu.services import Services

log = logging.getLogger(__name__)

# A background job started with the app and cancelled when it stops (the demo simulator is one).
BackgroundJob = Callable[[Services], Coroutine[Any, Any, None]]

TIMER_PERIOD_S = 1.0
BOARD_REFRESH_EVERY = 30  # timer ticks between reloads of the live unit board from the store


async def _timer_loop(services: Services) -> None:
    """Every second, escalate dispatches not acknowledged in time (deadlines live in the store);
    every half minute, reload the live unit board so that it heals from anything it missed."""
    tick = 0
    while True:
        try:
            await run_in_threadpool(services.dispatch.escalate_overdue)
            tick += 1
            if tick % BOARD_REFRESH_EVERY == 0:
                await run_in_threadpool(services.dispatch.refresh_board)
        except Exception:  # the timer must outlive a transient database error
            log.exception("timer sweep failed")
        await asyncio.sleep(TIMER_PERIOD_S)


def create_app(services: Services, *, background: Sequence[BackgroundJob] = ()) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(_timer_loop(services))]
        tasks += [asyncio.create_task(job(services)) for job in background]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    app = FastAPI(
        title="Jingwu 警务",
        version=__version__,
        description="Integrated intake, road-ETA dispatch and a live situation picture for a police bureau.",
        lifespan=lifespan,
    )
    app.state.services = services

    @app.exception_handler(JingwuError)
    async def jingwu_error(_request: Request, exc: JingwuError) -> JSONResponse:
        if exc.http_status >= 500:
            log.error("system fault: %s", exc.message)
        return JSONResponse(status_code=exc.http_status, content={"error": exc.to_dict()})

    @app.exception_handler(RequestValidationError)
    async def request_invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors: list[dict[str, Any]] = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"] if p != "body")
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
        return HealthOut(status="ok")

    for module in (auth, reference, units, incidents, live):
        app.include_router(module.router)
    return app


__all__ = ["BackgroundJob", "create_app"]
