"""The broadcast log (nhật ký phát): what played where, when and for how long, searchable and exportable."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from controller.db.status import PlayStatus
from controller.deps import ControllerDep, SessionDep
from controller.errors import InvalidInput
from controller.reports.export import CSV_MEDIA_TYPE, log_csv
from controller.reports.labels import PLAY_STATUS_VI
from controller.reports.log_filter import LogFilter, search_log
from controller.schemas import BroadcastLogEntry
from controller.services.access import Actor
from controller.topics import DEFAULT_TOPICS
from controller.web.render import WebRoute, render
from controller.web.security import Scope, WebActor, page_scope

router = APIRouter(route_class=WebRoute, include_in_schema=False)

DEFAULT_DAYS = 7
MAX_DAYS = 400
PAGE_LIMIT = 1000
EXPORT_LIMIT = 200_000


@dataclass(frozen=True)
class LogQuery:
    """The log page's filters, as the officer typed them (local dates, inclusive)."""

    start: date
    end: date
    filters: LogFilter

    @property
    def agent_id(self) -> str:
        return self.filters.agent_id or ""

    @property
    def topic(self) -> str:
        return self.filters.topic or ""

    @property
    def status(self) -> str:
        return self.filters.status or ""

    @property
    def q(self) -> str:
        return self.filters.text or ""

    def args(self) -> dict[str, str | int | None]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "commune_id": self.filters.commune_id,
            "agent_id": self.agent_id,
            "topic": self.topic,
            "status": self.status,
            "q": self.q,
        }


def parse_query(today: date, start: str | None, end: str | None, filters: LogFilter) -> LogQuery:
    try:
        end_day = date.fromisoformat(end) if end else today
        start_day = date.fromisoformat(start) if start else end_day - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        raise InvalidInput("bad date in log query", "Ngày không hợp lệ (định dạng năm-tháng-ngày).") from None
    if start_day > end_day:
        start_day, end_day = end_day, start_day
    if (end_day - start_day).days > MAX_DAYS:
        raise InvalidInput("log range too long", f"Chỉ xem được tối đa {MAX_DAYS} ngày một lần.")
    return LogQuery(start_day, end_day, filters)


def search(
    session: Session, actor: Actor, query: LogQuery, timezone: str, limit: int = PAGE_LIMIT
) -> tuple[Scope, list[BroadcastLogEntry]]:
    scope = page_scope(session, actor, query.filters.commune_id)
    tz = ZoneInfo(timezone)
    start = datetime.combine(query.start, time(0), tz)
    end = datetime.combine(query.end + timedelta(days=1), time(0), tz)
    filters = replace(query.filters, commune_id=scope.commune_id)
    return scope, search_log(session, start, end, filters, visible_communes=scope.visible, limit=limit)


def _log_query(
    controller: ControllerDep,
    start: str | None = None,
    end: str | None = None,
    commune_id: int | None = None,
    agent_id: str = "",
    topic: str = "",
    status: str = "",
    q: str = "",
) -> LogQuery:
    """The log page's query string: local dates (the last week by default) and the shared filters."""
    today = controller.clock.now().astimezone(ZoneInfo(controller.settings.timezone)).date()
    return parse_query(today, start, end, LogFilter.parse(commune_id, agent_id, topic, status, q))


LogQueryDep = Annotated[LogQuery, Depends(_log_query)]


@router.get("/log")
def log_page(
    request: Request, actor: WebActor, session: SessionDep, controller: ControllerDep, query: LogQueryDep
) -> Response:
    scope, entries = search(session, actor, query, controller.settings.timezone)
    return render(
        request,
        "log.html",
        actor=actor,
        scope=scope,
        entries=entries,
        filters=query,
        args=query.args(),
        limit=PAGE_LIMIT,
        topics=DEFAULT_TOPICS,
        statuses=PLAY_STATUS_VI,
        total_minutes=sum(e.duration_played_s or 0.0 for e in entries if e.status == PlayStatus.FINISHED) / 60,
        finished=sum(1 for e in entries if e.status == PlayStatus.FINISHED),
    )


@router.get("/log.csv")
def log_export(actor: WebActor, session: SessionDep, controller: ControllerDep, query: LogQueryDep) -> Response:
    tz = controller.settings.timezone
    _, entries = search(session, actor, query, tz, EXPORT_LIMIT)
    name = f"nhat-ky-phat-{query.start.isoformat()}-{query.end.isoformat()}.csv"
    return Response(
        log_csv(entries, tz),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
