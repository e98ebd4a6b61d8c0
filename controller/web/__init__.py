"""The officer's web app: server-rendered Vietnamese pages, sharing the API's login and services."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

STATIC = Path(__file__).parent / "static"


def mount_web(app: FastAPI) -> None:
    """Add the pages and their static files (CSS, a little JS; nothing from a CDN) to the app."""
    from controller.web.admin import router as admin
    from controller.web.auth import router as auth
    from controller.web.bulletins import router as bulletins
    from controller.web.citizens import router as citizens
    from controller.web.clusters import router as clusters
    from controller.web.dashboard import router as dashboard
    from controller.web.docs import router as docs
    from controller.web.emergency import router as emergency
    from controller.web.forms import router as forms
    from controller.web.log import router as log
    from controller.web.reports import router as reports
    from controller.web.schedule import router as schedule

    for router in (
        auth,
        dashboard,
        bulletins,
        schedule,
        clusters,
        emergency,
        log,
        reports,
        citizens,
        forms,
        admin,
        docs,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _server_error)


def wants_html(request: Request) -> bool:
    """A browser asking for a page (not the API, the media files or a script)."""
    path = request.url.path
    if path.startswith(("/api/", "/media/", "/static/", "/openapi.json")):
        return False
    return "text/html" in request.headers.get("accept", "")


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown URLs and other HTTP errors outside the pages: a Vietnamese page for a browser, JSON otherwise."""
    assert isinstance(exc, StarletteHTTPException)
    if wants_html(request):
        from controller.web.render import error_page

        messages = {404: "Không có trang này. Hãy kiểm tra lại địa chỉ, hoặc về trang tổng quan."}
        return error_page(request, exc.status_code, messages.get(exc.status_code, str(exc.detail)))
    return await http_exception_handler(request, exc)


async def _server_error(request: Request, exc: Exception) -> Response:
    """An unexpected error: logged by Starlette with its traceback; the browser gets a page in Vietnamese."""
    from fastapi.responses import PlainTextResponse

    from controller.web.render import error_page

    if wants_html(request):
        return error_page(request, 500, "Có lỗi hệ thống. Hãy thử lại sau hoặc báo cho quản trị viên.")
    return PlainTextResponse("Internal Server Error", status_code=500)
