"""Jinja2 rendering for the officer's pages: filters in Vietnamese formats, navigation by role, error pages."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from sqlalchemy.exc import DataError

from controller.errors import ControllerError
from controller.reports.labels import agent_status_vi, play_status_vi
from controller.services.access import Actor
from controller.services.users import Role
from controller.topics import topic_name
from controller.web.security import FormExpired, LoginRequired, csrf_token

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
FLASH = "flash"
LIVE_HEADER = "x-loa-live"
"""Sent by static/live.js when it fetches a page again to refresh its live parts."""
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    roles: frozenset[Role]


_ALL = frozenset(Role)
_COMMUNE = frozenset({Role.ADMIN, Role.OFFICER, Role.LEADER})

# The first four are the phone's bottom bar; the rest sit behind "Thêm".
NAV: tuple[NavItem, ...] = (
    NavItem("/", "Tổng quan", _ALL),
    NavItem("/bulletins", "Bản tin", _COMMUNE),
    NavItem("/schedule", "Lịch phát", _COMMUNE),
    NavItem("/emergency", "Khẩn cấp", _COMMUNE),
    NavItem("/clusters", "Cụm loa", _ALL),
    NavItem("/log", "Nhật ký phát", _ALL),
    NavItem("/reports", "Báo cáo", _ALL),
    NavItem("/questions", "Hỏi đáp", _COMMUNE),
    NavItem("/public-page", "Trang công khai", _COMMUNE),
    NavItem("/forms", "Biểu mẫu", _ALL),
    NavItem("/admin/sessions", "Phiên đăng nhập", frozenset({Role.ADMIN})),
)


def nav_for(actor: Actor | None) -> list[NavItem]:
    if actor is None:
        return []
    return [item for item in NAV if actor.role in item.roles]


def _tz(ctx: Context) -> ZoneInfo:
    tz = ctx.get("tz")
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo("Asia/Ho_Chi_Minh")


@pass_context
def _local_time(ctx: Context, value: datetime | None, fmt: str = "%H:%M %d/%m/%Y") -> str:
    """An instant in the controller's local time, Vietnamese day-first order."""
    if value is None:
        return "—"
    return value.astimezone(_tz(ctx)).strftime(fmt)


def _vn_date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "—"


def _number(value: float | int | None, digits: int = 0) -> str:
    """Vietnamese number format: dot for thousands, comma for decimals (1.234,5)."""
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    total = int(seconds)  # whole seconds elapsed, as audio players count, so page and player agree
    return f"{total // 60}:{total % 60:02d}"


def _query(ctx_args: dict[str, Any], **changes: Any) -> str:
    """A query string from the current arguments with some changed; None drops a key."""
    merged = {**ctx_args, **changes}
    return urlencode({k: v for k, v in merged.items() if v is not None and v != ""})


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "svg"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        local_time=_local_time,
        vn_date=_vn_date,
        number=_number,
        duration=_duration,
        play_status=play_status_vi,
        agent_status=agent_status_vi,
        topic_name=topic_name,
    )
    env.globals.update(query=_query, one_day=timedelta(days=1))
    return env


def render(
    request: Request,
    template: str,
    *,
    actor: Actor | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A full page: the layout with role-aware navigation, this session's CSRF token and the local time zone."""
    controller = request.app.state.controller
    if "flash" not in context and LIVE_HEADER not in request.headers:  # a live refresh leaves the flash alone
        flash = request.session.pop(FLASH, None)
        if isinstance(flash, list) and len(flash) == 2:
            context["flash"], context["flash_kind"] = flash
    html = (
        environment()
        .get_template(template)
        .render(
            request=request,
            actor=actor,
            nav=nav_for(actor),
            path=request.url.path,
            csrf=csrf_token(request),
            tz=ZoneInfo(controller.settings.timezone),
            role_label=actor.role.label_vi if actor else "",
            **context,
        )
    )
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


def redirect(request: Request, url: str, message: str | None = None, kind: str = "ok") -> RedirectResponse:
    """After a POST: go to `url` (303) and show `message` once on the next page."""
    if message:
        request.session[FLASH] = [message, kind]
    return RedirectResponse(url, status_code=303)


ERROR_TITLES = {
    401: "Cần đăng nhập",
    403: "Không có quyền truy cập",
    404: "Không tìm thấy",
    409: "Dữ liệu bị trùng hoặc xung đột",
    422: "Dữ liệu chưa hợp lệ",
}


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(
        request,
        "error.html",
        actor=None,
        status_code=status,
        title=ERROR_TITLES.get(status, "Có lỗi xảy ra"),
        message=message,
    )


FORM_INVALID_VI = "Còn trường bắt buộc chưa điền hoặc chưa hợp lệ. Nội dung bạn vừa nhập đã được điền lại."
FORM_EXPIRED_VI = "Biểu mẫu đã hết hạn. Nội dung bạn vừa nhập đã được điền lại; hãy kiểm tra rồi bấm gửi lại."


def _same_site_referer(request: Request) -> str | None:
    """The page the form was on, if it is on this site (path and query only), else None."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc or not referer.path.startswith("/"):
        return None
    return referer.path + (f"?{referer.query}" if referer.query else "")


class WebRoute(APIRoute):
    """A page route: no login redirects to /login, and errors become an HTML page in Vietnamese."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except FormExpired as exc:
                back = _same_site_referer(request)
                if back is None:
                    return error_page(request, exc.status_code, exc.message_vi)
                request.session[FLASH] = [FORM_EXPIRED_VI, "error restore"]
                return RedirectResponse(back, status_code=303)
            except LoginRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
            except ControllerError as exc:
                if exc.status_code >= 500:
                    log.error("%s", exc)
                return error_page(request, exc.status_code, exc.message_vi)
            except RequestValidationError as exc:
                log.info("invalid form on %s: %s", request.url.path, exc.errors())
                back = _same_site_referer(request) if request.method == "POST" else None
                if back is not None:  # back to the form, filled in again by static/forms.js
                    request.session[FLASH] = [FORM_INVALID_VI, "error restore"]
                    return RedirectResponse(back, status_code=303)
                return error_page(request, 422, "Dữ liệu nhập chưa hợp lệ. Hãy kiểm tra lại các trường.")
            except HTTPException as exc:
                return error_page(request, exc.status_code, str(exc.detail))
            except (OverflowError, DataError) as exc:
                # An id or number larger than the database holds, typed into a URL: nothing can match it.
                log.info("out-of-range value on %s: %s", request.url.path, exc)
                return error_page(request, 404, "Không tìm thấy.")
            except Exception:
                log.exception("page %s failed", request.url.path)
                return error_page(request, 500, "Có lỗi hệ thống. Hãy thử lại sau hoặc báo cho quản trị viên.")

        return handler
