"""The API's interactive documentation, served offline from the vendored Swagger UI, and the favicon.

Swagger UI 5 (npm `swagger-ui-dist`, Apache-2.0) lives in static/swagger/; static/swagger-init.js starts it,
so the page has no inline script and nothing loads from a CDN.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from controller.web import STATIC

router = APIRouter(include_in_schema=False)

SWAGGER_VERSION = "5.36.0"


@router.get("/docs")
def api_docs(request: Request) -> HTMLResponse:
    openapi_url = request.app.openapi_url or "/openapi.json"
    title = escape(f"{request.app.title} · Tài liệu API")
    html = f"""<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/swagger/swagger-ui.css?v={SWAGGER_VERSION}">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{escape(openapi_url)}"></div>
<script src="/static/swagger/swagger-ui-bundle.js?v={SWAGGER_VERSION}"></script>
<script src="/static/swagger-init.js"></script>
</body>
</html>"""
    return HTMLResponse(html)


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    """Browsers ask for /favicon.ico whatever the page says; answer with the SVG icon."""
    return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")
