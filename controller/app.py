"""create_app(): the FastAPI application. Its lifespan starts and stops the Controller."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware

from common.clock import Clock
from controller.api import (
    account,
    bulletins,
    emergency,
    enroll,
    geo,
    media,
    programmes,
    public,
    reports,
    schedule_files,
    schedules,
    system,
)
from controller.api.errors import AUTHENTICATED, errors, install_http_error_handler
from controller.config import Settings, get_settings
from controller.deps import current_actor
from controller.dispatch.broker_auth import load_or_create_secret
from controller.errors import ControllerError
from controller.file_modes import secure_data_dir
from controller.http_security import SecurityMiddleware
from controller.public import mount_public
from controller.runtime import Controller
from controller.web import mount_web

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
        docs_url=None,  # served by controller.web.docs from the vendored Swagger UI
        redoc_url=None,
    )
    app.state.controller = controller
    secure_data_dir(settings)
    app.add_middleware(
        SessionMiddleware,
        secret_key=load_or_create_secret(settings.data_dir / "session_secret").hex(),
        session_cookie="loa_session",
        max_age=settings.session_max_age_s,
        same_site="lax",
        https_only=settings.https,
    )
    # Outermost: headers on every response, the session middleware's included; foreign origins refused first.
    app.add_middleware(SecurityMiddleware, public_base_url=settings.resolved_public_base_url, https=settings.https)

    @app.exception_handler(ControllerError)
    async def controller_error(_request: Request, exc: ControllerError) -> JSONResponse:
        if exc.status_code >= 500:
            log.error("%s", exc)
        return JSONResponse(
            status_code=exc.status_code,
            content={"detail": exc.message_vi, "error": str(exc), **exc.details()},
            headers=exc.headers(),
        )

    install_http_error_handler(app)
    app.include_router(media.router, responses=errors(404, 422))
    app.include_router(system.router)
    app.include_router(enroll.router, responses=errors(400, 401, 409, 422))  # the one-time token is the credential
    # Everything else needs a login; each route then checks the actor's role and commune.
    conflicts = {geo, bulletins, schedules, programmes, schedule_files}  # unique names, approval, the lease
    for module in (geo, bulletins, schedules, programmes, schedule_files, emergency, reports, account, public):
        codes = (*AUTHENTICATED, 409) if module in conflicts else AUTHENTICATED
        app.include_router(module.router, dependencies=[Depends(current_actor)], responses=errors(*codes))
    mount_web(app)
    mount_public(app)  # citizens' pages: no login, no cookie
    return app
