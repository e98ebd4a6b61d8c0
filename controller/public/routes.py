"""Public routes under /p/{commune code}: pages, feeds, QR codes, posters, the listen counter and questions.

They parse, call a service and format; errors become a Vietnamese page (never a 500 body with a trace).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup

from controller.db.models import Commune
from controller.deps import ContextDep, ControllerDep, SessionDep
from controller.errors import ControllerError
from controller.public.feed import RSS_MEDIA_TYPE, rss
from controller.public.qr import SVG_MEDIA_TYPE, qr_svg, qr_svg_inline
from controller.reports import public as listing
from controller.services import public_actions, questions
from controller.topics import DEFAULT_TOPICS, topic_name

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
HEADERS = {
    "Cache-Control": "no-cache",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # no referrer to other sites; a real Origin on the question form
}
ERROR_TITLES = {404: "Không tìm thấy", 422: "Dữ liệu chưa hợp lệ", 429: "Bạn gửi quá nhiều lần"}


@pass_context
def _local_time(ctx: Context, value: datetime | None, fmt: str = "%H:%M %d/%m/%Y") -> str:
    """An instant in the controller's local time, Vietnamese day-first order."""
    return value.astimezone(ctx["tz"]).strftime(fmt) if value is not None else "—"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    total = round(seconds)
    return f"{total // 60}:{total % 60:02d}"


@functools.cache
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "svg"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(local_time=_local_time, duration=_duration, topic_name=topic_name)
    return env


def _page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    tz = ZoneInfo(request.app.state.controller.settings.timezone)
    html = _env().get_template(template).render(request=request, tz=tz, **context)
    return HTMLResponse(html, status_code=status_code, headers=HEADERS)


def _error(request: Request, status: int, message: str) -> HTMLResponse:
    title = ERROR_TITLES.get(status, "Có lỗi xảy ra")
    return _page(request, "public_error.html", status_code=status, title=title, message=message)


class PublicRoute(APIRoute):
    """A public route: errors become a short Vietnamese page; nothing here needs or sets a login."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except ControllerError as exc:
                if exc.status_code >= 500:
                    log.error("%s", exc)
                return _error(request, exc.status_code, exc.message_vi)
            except RequestValidationError as exc:
                log.info("invalid public request on %s: %s", request.url.path, exc.errors())
                return _error(request, 422, "Dữ liệu gửi lên chưa hợp lệ (có thể quá dài). Hãy kiểm tra lại.")
            except HTTPException as exc:
                return _error(request, exc.status_code, str(exc.detail))
            except Exception:
                log.exception("public page %s failed", request.url.path)
                return _error(request, 500, "Có lỗi hệ thống. Mời bạn thử lại sau.")

        return handler


router = APIRouter(prefix="/p", route_class=PublicRoute, include_in_schema=False)


def site_url(request: Request) -> str:
    """The address citizens reach: LOA_PUBLIC_BASE_URL when set, else the one this request came to."""
    configured = request.app.state.controller.settings.public_base_url
    return (configured or str(request.base_url)).rstrip("/")


def _visitor(request: Request) -> str:
    """What tells one browser from another for a day: only ever hashed with today's salt, never stored."""
    host = request.client.host if request.client else ""
    return f"{host}\0{request.headers.get('user-agent', '')[:300]}"


def _tz(controller: Any) -> ZoneInfo:
    return ZoneInfo(controller.settings.timezone)


def _commune_url(request: Request, commune: Commune) -> str:
    return f"{site_url(request)}/p/{quote(commune.code, safe='')}"


@router.get("/{code}")
def commune_page(
    request: Request,
    session: SessionDep,
    controller: ControllerDep,
    code: str,
    chuyen_de: str = "",
    thang: str = "",
    da_gui: int = 0,
) -> Response:
    commune = listing.get_commune_by_code(session, code)
    return _commune(request, session, controller, commune, topic=chuyen_de, month=thang, sent=bool(da_gui))


def _commune(
    request: Request,
    session: SessionDep,
    controller: ControllerDep,
    commune: Commune,
    *,
    topic: str = "",
    month: str = "",
    sent: bool = False,
    form: dict[str, Any] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    items = listing.list_public(
        session, commune, _tz(controller), topic=topic or None, month=listing.parse_month(month)
    )
    url = _commune_url(request, commune)
    return _page(
        request,
        "public_commune.html",
        status_code=status_code,
        commune=commune,
        items=items,
        topics=listing.public_topics(session, commune),
        all_topics=DEFAULT_TOPICS,
        topic=topic,
        month=month,
        answers=listing.published(session, commune.id),
        sent=sent,
        form=form,
        error=error,
        page_url=url,
        qr=Markup(qr_svg_inline(url, scale=4, title=f"Mã QR trang {commune.name}")),
    )


@router.get("/{code}/b/{bulletin_id}")
def bulletin_page(
    request: Request,
    session: SessionDep,
    controller: ControllerDep,
    ctx: ContextDep,
    code: str,
    bulletin_id: str,
    da_gui: int = 0,
) -> Response:
    commune = listing.get_commune_by_code(session, code)
    item = listing.get_public(session, commune, bulletin_id, now=controller.clock.now())
    public_actions.count_reach(ctx, item.id, "view", _visitor(request))
    return _bulletin(request, session, commune, item, sent=bool(da_gui))


def _bulletin(
    request: Request,
    session: SessionDep,
    commune: Commune,
    item: listing.PublicBulletin,
    *,
    sent: bool = False,
    form: dict[str, Any] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    url = f"{_commune_url(request, commune)}/b/{quote(item.id, safe='')}"
    return _page(
        request,
        "public_bulletin.html",
        status_code=status_code,
        commune=commune,
        item=item,
        page_url=url,
        all_topics=DEFAULT_TOPICS,
        answers=listing.published(session, commune.id, bulletin_id=item.id),
        sent=sent,
        form=form,
        error=error,
        qr=Markup(qr_svg_inline(url, scale=4, title=f"Mã QR bản tin {item.title}")),
    )


@router.post("/{code}/b/{bulletin_id}/nghe", status_code=204)
def listened(request: Request, session: SessionDep, ctx: ContextDep, code: str, bulletin_id: str) -> Response:
    """The player's first 'play' on a page: one listen per visitor per day."""
    commune = listing.get_commune_by_code(session, code)
    item = listing.get_public(session, commune, bulletin_id)
    public_actions.count_reach(ctx, item.id, "listen", _visitor(request))
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


@router.get("/{code}/b/{bulletin_id}/poster")
def poster(request: Request, session: SessionDep, controller: ControllerDep, code: str, bulletin_id: str) -> Response:
    """A printable A4 poster for the village notice board."""
    commune = listing.get_commune_by_code(session, code)
    item = listing.get_public(session, commune, bulletin_id, now=controller.clock.now())
    url = f"{_commune_url(request, commune)}/b/{quote(item.id, safe='')}"
    return _page(
        request,
        "public_poster.html",
        commune=commune,
        item=item,
        page_url=url,
        qr=Markup(qr_svg_inline(url, scale=7, title=f"Mã QR bản tin {item.title}")),
    )


@router.get("/{code}/qr.svg")
def commune_qr(request: Request, session: SessionDep, code: str) -> Response:
    commune = listing.get_commune_by_code(session, code)
    svg = qr_svg(_commune_url(request, commune), title=f"Mã QR trang {commune.name}")
    return Response(svg, media_type=SVG_MEDIA_TYPE, headers={"Cache-Control": "public, max-age=86400"})


@router.get("/{code}/b/{bulletin_id}/qr.svg")
def bulletin_qr(request: Request, session: SessionDep, code: str, bulletin_id: str) -> Response:
    commune = listing.get_commune_by_code(session, code)
    item = listing.get_public(session, commune, bulletin_id)
    url = f"{_commune_url(request, commune)}/b/{quote(item.id, safe='')}"
    svg = qr_svg(url, title=f"Mã QR bản tin {item.title}")
    return Response(svg, media_type=SVG_MEDIA_TYPE, headers={"Cache-Control": "public, max-age=86400"})


def _feed(request: Request, commune: Commune, items: list[listing.PublicBulletin], topic: str | None) -> Response:
    page = _commune_url(request, commune)
    title = f"Bản tin pháp luật – {commune.name}" + (f" – {topic_name(topic)}" if topic else "")
    feed_path = f"/chuyen-de/{quote(topic, safe='')}/feed.xml" if topic else "/feed.xml"
    body = rss(
        title=title,
        description=f"Các bản tin phổ biến, giáo dục pháp luật đã phát trên loa truyền thanh của {commune.name}.",
        page_url=page + (f"?chuyen_de={quote(topic, safe='')}" if topic else ""),
        feed_url=page + feed_path,
        media_base=site_url(request),
        author=f"Đài truyền thanh {commune.name}",
        items=items,
        bulletin_url=page + "/b/{id}",
    )
    return Response(body, media_type=RSS_MEDIA_TYPE, headers={"Cache-Control": "no-cache"})


@router.get("/{code}/feed.xml")
def commune_feed(request: Request, session: SessionDep, controller: ControllerDep, code: str) -> Response:
    commune = listing.get_commune_by_code(session, code)
    return _feed(request, commune, listing.list_public(session, commune, _tz(controller)), None)


@router.get("/{code}/chuyen-de/{topic}/feed.xml")
def topic_feed(request: Request, session: SessionDep, controller: ControllerDep, code: str, topic: str) -> Response:
    commune = listing.get_commune_by_code(session, code)
    return _feed(request, commune, listing.list_public(session, commune, _tz(controller), topic=topic), topic[:64])


@router.post("/{code}/hoi")
def ask(
    request: Request,
    session: SessionDep,
    controller: ControllerDep,
    ctx: ContextDep,
    code: str,
    noi_dung: Annotated[str, Form(max_length=4000)] = "",
    ho_ten: Annotated[str, Form(max_length=1000)] = "",
    lien_he: Annotated[str, Form(max_length=1000)] = "",
    chuyen_de: Annotated[str, Form(max_length=200)] = "",
    dong_y_cong_khai: Annotated[str, Form(max_length=10)] = "",
    ban_tin: Annotated[str, Form(max_length=200)] = "",
    website: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """A citizen's question. Throttled per address (in memory, hashed), capped per commune per day."""
    commune = listing.get_commune_by_code(session, code)
    now = controller.clock.now()
    item = None
    if ban_tin:
        try:
            item = listing.get_public(session, commune, ban_tin, now=now)
        except ControllerError:
            item = None
    back = f"/p/{quote(commune.code, safe='')}" + (f"/b/{quote(item.id, safe='')}" if item else "")
    form = {"noi_dung": noi_dung, "ho_ten": ho_ten, "lien_he": lien_he, "chuyen_de": chuyen_de}
    throttle: questions.QuestionThrottle = request.app.state.question_throttle
    host = request.client.host if request.client else ""
    data = questions.QuestionIn(
        body=noi_dung,
        name=ho_ten,
        contact=lien_he,
        topic=chuyen_de if chuyen_de in DEFAULT_TOPICS else "",
        consent_publish=bool(dong_y_cong_khai),
        bulletin_id=item.id if item else None,
        honeypot=website,
    )
    try:
        public_actions.ask(ctx, commune.id, data, address=host, throttle=throttle)
    except ControllerError as exc:
        log.info("public question refused for %s: %s", commune.code, exc)
        if item is not None:
            return _bulletin(
                request, session, commune, item, form=form, error=exc.message_vi, status_code=exc.status_code
            )
        return _commune(
            request, session, controller, commune, form=form, error=exc.message_vi, status_code=exc.status_code
        )
    return RedirectResponse(f"{back}?da_gui=1#hoi", status_code=303)
