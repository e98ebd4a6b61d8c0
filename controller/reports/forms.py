"""The provincial guidance's tracking forms for one commune and one period, from the data the system holds.

- Biểu 02: the topic plan per month: programmes day by day, and the plays booked and confirmed.
- Biểu 03: the products log (bulletins with topic, duration, confirmed broadcasts), reach and questions.
- Biểu 04: the 6-month or annual report: figures, room for the officer's assessment, and evidence links.

Broadcast figures come from `controller.reports.summary`, so they equal the reports API's. The caller checks
that the login may see the commune.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from controller.db.models import Agent, AudioAsset, Bulletin, Commune, Play, PlayEvent, Programme
from controller.errors import NotFound
from controller.reports.periods import Period
from controller.reports.public import list_public, question_counts, reach_totals
from controller.reports.summary import Dimension, ReportSummary, summarize
from controller.scheduling.recurrence import Recurrence
from controller.topics import topic_name


class FormName(StrEnum):
    """The guidance's tracking forms that loa-xa fills in."""

    BIEU_02 = "bieu-02"
    BIEU_03 = "bieu-03"
    BIEU_04 = "bieu-04"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlanRow(_Model):
    month: str
    """YYYY-MM, local time."""
    topic: str
    topic_name: str
    bulletins_planned: int
    scheduled_sessions: int
    """Times the topic's bulletins are in a programme on a day of this month (one per slot, not per cluster)."""
    planned_plays: int
    """Plays booked on clusters (programmes are expanded 72 h ahead, so later months show none yet)."""
    confirmed_plays: int
    programmes: list[str]
    titles: list[str]


class ProductRow(_Model):
    bulletin_id: str
    title: str
    topic: str
    topic_name: str
    duration_s: float
    confirmed_plays: int
    broadcast_days: int
    views: int
    listens: int
    public: bool


class QuestionFigures(_Model):
    received: int
    answered: int
    answered_at_session: int
    published: int


class FormHeader(_Model):
    commune_id: int
    commune_code: str
    commune_name: str
    period_label: str
    period_start: datetime
    period_end: datetime


class Form02(_Model):
    """Biểu 02: kế hoạch chuyên đề theo tháng."""

    header: FormHeader
    rows: list[PlanRow]


class Form03(_Model):
    """Biểu 03: sản phẩm, lượt tiếp cận, câu hỏi, buổi đối thoại."""

    header: FormHeader
    products: list[ProductRow]
    total_confirmed_plays: int
    total_views: int
    total_listens: int
    questions: QuestionFigures
    live_sessions: int | None
    """None: live broadcasts are not recorded by this version."""


class Form04(_Model):
    """Biểu 04: báo cáo 6 tháng / năm."""

    header: FormHeader
    broadcasts: ReportSummary
    bulletins_public: int
    total_views: int
    total_listens: int
    questions: QuestionFigures
    evidence: list[tuple[str, str]]
    """(label, absolute URL): the public page, its feed and QR code."""


def _header(session: Session, commune_id: int, period: Period, tz: ZoneInfo) -> FormHeader:
    commune = session.get(Commune, commune_id)
    if commune is None:
        raise NotFound(f"commune {commune_id} not found", "Không tìm thấy xã.")
    start, end = period.bounds(tz)
    return FormHeader(
        commune_id=commune.id,
        commune_code=commune.code,
        commune_name=commune.name,
        period_label=period.label_vi,
        period_start=start,
        period_end=end,
    )


@dataclass
class _PlanCell:
    bulletins: dict[str, str] = field(default_factory=dict)
    programmes: set[str] = field(default_factory=set)
    scheduled: int = 0
    planned: int = 0
    confirmed: int = 0


def _programme_plan(
    session: Session, commune_id: int, header: FormHeader, tz: ZoneInfo, cells: dict[tuple[str, str], _PlanCell]
) -> None:
    """Add the commune's active programmes, day by day over the period, to the plan's cells."""
    first = header.period_start.astimezone(tz).date()
    last = header.period_end.astimezone(tz).date() - timedelta(days=1)
    for programme in session.scalars(
        select(Programme).where(Programme.commune_id == commune_id, Programme.active.is_(True))
    ):
        ids = [str(i) for i in json.loads(programme.bulletin_ids)]
        bulletins = {b.id: b for b in session.scalars(select(Bulletin).where(Bulletin.id.in_(ids)))}
        for day in Recurrence.model_validate_json(programme.recurrence).dates_between(first, last):
            for bid in ids:
                bulletin = bulletins.get(bid)
                if bulletin is None:
                    continue
                cell = cells.setdefault((day.strftime("%Y-%m"), bulletin.topic), _PlanCell())
                cell.bulletins[bid] = bulletin.title
                cell.programmes.add(programme.name)
                cell.scheduled += 1


def form02(session: Session, commune_id: int, period: Period, timezone: str) -> Form02:
    tz = ZoneInfo(timezone)
    header = _header(session, commune_id, period, tz)
    stmt = (
        select(Play.starts_at, Bulletin.id, Bulletin.title, Bulletin.topic, PlayEvent.id)
        .join(Agent, Agent.id == Play.agent_id)
        .join(Bulletin, Bulletin.id == Play.bulletin_id)
        .outerjoin(PlayEvent, and_(PlayEvent.play_id == Play.id, PlayEvent.event == "finished"))
        .where(
            Agent.commune_id == commune_id,
            Play.starts_at >= header.period_start,
            Play.starts_at < header.period_end,
            Play.status != "cancelled",
        )
    )
    cells: dict[tuple[str, str], _PlanCell] = {}
    for at, bid, title, topic, event_id in session.execute(stmt):
        cell = cells.setdefault((at.astimezone(tz).strftime("%Y-%m"), topic), _PlanCell())
        cell.bulletins[bid] = title
        cell.planned += 1
        cell.confirmed += event_id is not None
    _programme_plan(session, commune_id, header, tz, cells)
    rows = [
        PlanRow(
            month=month,
            topic=topic,
            topic_name=topic_name(topic),
            bulletins_planned=len(cell.bulletins),
            scheduled_sessions=cell.scheduled,
            planned_plays=cell.planned,
            confirmed_plays=cell.confirmed,
            programmes=sorted(cell.programmes),
            titles=sorted(cell.bulletins.values()),
        )
        for (month, topic), cell in sorted(cells.items())
    ]
    return Form02(header=header, rows=rows)


def _days(header: FormHeader, tz: ZoneInfo) -> tuple[str, str]:
    return header.period_start.astimezone(tz).date().isoformat(), header.period_end.astimezone(tz).date().isoformat()


def form03(session: Session, commune_id: int, period: Period, timezone: str) -> Form03:
    tz = ZoneInfo(timezone)
    header = _header(session, commune_id, period, tz)
    stmt = (
        select(Play.starts_at, Bulletin, AudioAsset.duration_s)
        .join(Agent, Agent.id == Play.agent_id)
        .join(Bulletin, Bulletin.id == Play.bulletin_id)
        .join(AudioAsset, AudioAsset.id == Play.audio_asset_id)
        .join(PlayEvent, and_(PlayEvent.play_id == Play.id, PlayEvent.event == "finished"))
        .where(
            Agent.commune_id == commune_id, Play.starts_at >= header.period_start, Play.starts_at < header.period_end
        )
    )
    plays: dict[str, int] = {}
    days: dict[str, set[str]] = {}
    bulletins: dict[str, tuple[Bulletin, float]] = {}
    for at, bulletin, duration in session.execute(stmt):
        plays[bulletin.id] = plays.get(bulletin.id, 0) + 1
        days.setdefault(bulletin.id, set()).add(at.astimezone(tz).date().isoformat())
        bulletins.setdefault(bulletin.id, (bulletin, duration))
    start_day, end_day = _days(header, tz)
    reach = reach_totals(session, start_day, end_day, bulletin_ids=list(bulletins))
    commune = session.get(Commune, commune_id)
    assert commune is not None
    public_ids = {b.id for b in list_public(session, commune, tz, limit=10_000)}
    products = [
        ProductRow(
            bulletin_id=bid,
            title=bulletin.title,
            topic=bulletin.topic,
            topic_name=topic_name(bulletin.topic),
            duration_s=round(duration, 1),
            confirmed_plays=plays[bid],
            broadcast_days=len(days[bid]),
            views=reach.get(bid, {}).get("view", 0),
            listens=reach.get(bid, {}).get("listen", 0),
            public=bid in public_ids,
        )
        for bid, (bulletin, duration) in sorted(bulletins.items(), key=lambda kv: (kv[1][0].topic, kv[1][0].title))
    ]
    return Form03(
        header=header,
        products=products,
        total_confirmed_plays=sum(p.confirmed_plays for p in products),
        total_views=sum(p.views for p in products),
        total_listens=sum(p.listens for p in products),
        questions=QuestionFigures(**question_counts(session, commune_id, header.period_start, header.period_end)),
        live_sessions=None,
    )


def form04(session: Session, commune_id: int, period: Period, timezone: str, *, base_url: str) -> Form04:
    tz = ZoneInfo(timezone)
    header = _header(session, commune_id, period, tz)
    broadcasts = summarize(session, period, timezone, Dimension.TOPIC, commune_id=commune_id)
    start_day, end_day = _days(header, tz)
    commune = session.get(Commune, commune_id)
    assert commune is not None
    # Reach of this commune's bulletins: those with a play on one of its clusters.
    ids = set(
        session.scalars(
            select(Play.bulletin_id).join(Agent, Agent.id == Play.agent_id).where(Agent.commune_id == commune_id)
        )
    )
    reach = reach_totals(session, start_day, end_day, bulletin_ids=ids)
    page = f"{base_url.rstrip('/')}/p/{commune.code}"
    return Form04(
        header=header,
        broadcasts=broadcasts,
        bulletins_public=len(list_public(session, commune, tz, limit=10_000)),
        total_views=sum(r["view"] for r in reach.values()),
        total_listens=sum(r["listen"] for r in reach.values()),
        questions=QuestionFigures(**question_counts(session, commune_id, header.period_start, header.period_end)),
        evidence=[
            ("Trang công khai của xã", page),
            ("Podcast (RSS)", f"{page}/feed.xml"),
            ("Mã QR trang công khai", f"{page}/qr.svg"),
        ],
    )
