"""Web-side defences applied to every response and request: security headers and the Origin check."""

from __future__ import annotations

import json
import logging
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
"""No inline script or style and nothing from another host: the pages ship their CSS and JS in /static."""

DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
"""/docs serves the vendored Swagger UI (no remote source, no inline script); it sets inline styles itself."""

DOCS_PATHS = ("/docs", "/redoc")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HSTS = "max-age=31536000; includeSubDomains"
FOREIGN_ORIGIN_VI = "Yêu cầu đến từ một trang web khác nên bị từ chối. Hãy mở lại trang từ hệ thống rồi thử lại."


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


class SecurityMiddleware:
    """Adds the security headers to every response, and refuses a state-changing request from another site.

    A POST/PUT/PATCH/DELETE that carries an Origin (or, lacking one, a Referer) naming another host than
    this one or the public URL is answered 403. API clients that send neither (curl, scripts) are let
    through: they authenticate on every call, and a browser always sends Origin on a cross-site POST.
    """

    def __init__(self, app: ASGIApp, *, public_base_url: str, https: bool) -> None:
        self.app = app
        self.public_origin = origin_of(public_base_url)
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["method"] in UNSAFE_METHODS and not self._same_site(headers):
            log.warning(
                "refused %s %s from foreign origin %r",
                scope["method"],
                scope["path"],
                headers.get("origin") or headers.get("referer"),
            )
            await self._refuse(scope, send)
            return
        path: str = scope["path"]
        csp = DOCS_CSP if path.startswith(DOCS_PATHS) else CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out.setdefault("Content-Security-Policy", csp)
                out.setdefault("X-Content-Type-Options", "nosniff")
                out.setdefault("X-Frame-Options", "DENY")
                out.setdefault("Referrer-Policy", "same-origin")
                if self.https:
                    out.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _same_site(self, headers: Headers) -> bool:
        claimed = headers.get("origin") or headers.get("referer")
        if claimed is None:
            return True
        origin = origin_of(claimed)
        if origin is None:
            return False  # "null" (a sandboxed or file page) or garbage
        if origin == self.public_origin:
            return True
        host = headers.get("host", "").lower()
        return bool(host) and urlsplit(origin).netloc == host

    async def _refuse(self, scope: Scope, send: Send) -> None:
        accept = Headers(scope=scope).get("accept", "")
        if "text/html" in accept:
            body = (
                '<!doctype html><html lang="vi"><meta charset="utf-8"><title>Bị từ chối</title>'
                f"<p>{FOREIGN_ORIGIN_VI}</p></html>"
            ).encode()
            content_type = b"text/html; charset=utf-8"
        else:
            body = json.dumps(
                {"detail": FOREIGN_ORIGIN_VI, "error": "cross-site request refused (Origin/Referer)"},
                ensure_ascii=False,
            ).encode()
            content_type = b"application/json"
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", content_type),
                    (b"content-length", str(len(body)).encode()),
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
