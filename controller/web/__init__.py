"""The officer's web app: server-rendered Vietnamese pages, sharing the API's login and services."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"


def mount_web(app: FastAPI) -> None:
    """Add the pages and their static files (CSS, a little JS; nothing from a CDN) to the app."""
    from controller.web.admin import router as admin
    from controller.web.auth import router as auth
    from controller.web.bulletins import router as bulletins
    from controller.web.clusters import router as clusters
    from controller.web.dashboard import router as dashboard
    from controller.web.emergency import router as emergency
    from controller.web.log import router as log
    from controller.web.reports import router as reports
    from controller.web.schedule import router as schedule

    for router in (auth, dashboard, bulletins, schedule, clusters, emergency, log, reports, admin):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
