"""create_app(): the FastAPI application. Its lifespan starts and stops the Controller."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from controller.api import bulletins, geo, media, reports, schedules, system
from controller.config import Settings, get_settings
from controller.errors import ControllerError
from controller.runtime import Controller
from loa.clock import Clock

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()
    controller = Controller(settings, clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(controller.start)
        try:
            yield
        finally:
            await run_in_threadpool(controller.stop)

    app = FastAPI(
        title="loa-xa",
        summary="Đài truyền thanh xã: bản tin, lịch phát, cụm loa, báo cáo",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.controller = controller

    @app.exception_handler(ControllerError)
    async def controller_error(_request: Request, exc: ControllerError) -> JSONResponse:
        if exc.status_code >= 500:
            log.error("%s", exc)
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.message_vi, "error": str(exc)})

    for module in (geo, bulletins, schedules, reports, media, system):
        app.include_router(module.router)
    return app
