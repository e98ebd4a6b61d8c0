"""Planned against confirmed broadcasts for any period, grouped per commune, per topic or per cluster.

Confirmed means the agent sent a `finished` confirmation; minutes are what the agents say they played.
The plan (non-cancelled plays) is shown only beside them, as the denominator of the completion rate.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from controller.db.models import Agent, Bulletin, Commune, Play, PlayEvent, Topic, Village
from controller.db.status import PlayStatus
from controller.reports.periods import Period, PeriodKind
from controller.topics import topic_name
from protocol.messages import PlayEvent as Event


class Dimension(StrEnum):
    """What one report row stands for."""

    COMMUNE = "commune"
    TOPIC = "topic"
    CLUSTER = "cluster"

    @property
    def label_vi(self) -> str:
        return {Dimension.COMMUNE: "Xã/phường", Dimension.TOPIC: "Chuyên đề", Dimension.CLUSTER: "Cụm loa"}[self]


class SummaryRow(BaseModel):
    """Figures for one commune, topic or cluster (or the total, with key `total`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    label: str
    commune_id: int | None = None
    commune_name: str | None = None
    village_name: str | None = None
    planned_plays: int
    confirmed_plays: int
    confirmed_minutes: float
    bulletins_broadcast: int
    completion_rate: float
    """Confirmed plays as a percentage of planned plays, one decimal; 0 when nothing was planned."""


class ReportSummary(BaseModel):
    """One report table: a period, a scope (all visible communes, one commune or one cluster), rows and total."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    period_kind: PeriodKind
    year: int
    index: int
    period_label: str
    timezone: str
    period_start: datetime
    period_end: datetime
    group_by: Dimension
    commune_id: int | None
    agent_id: str | None
    scope_label: str
    rows: list[SummaryRow]
    total: SummaryRow


def completion_rate(planned: int, confirmed: int) -> float:
    return round(100.0 * confirmed / planned, 1) if planned else 0.0


def summarize(
    session: Session,
    period: Period,
    timezone: str,
    group_by: Dimension,
    *,
    visible_communes: Collection[int] | None = None,
    commune_id: int | None = None,
    agent_id: str | None = None,
) -> ReportSummary:
    """The report for `period`, limited to `visible_communes` (None: all) and optionally one commune or cluster.

    Communes (and, within a commune, clusters) with nothing planned still appear, with zeros: the province
    needs to see who broadcast nothing.
    """
    start, end = period.bounds(ZoneInfo(timezone))
    finished = and_(PlayEvent.play_id == Play.id, PlayEvent.event == Event.FINISHED)
    scope: list[ColumnElement[bool]] = [
        Play.starts_at >= start,
        Play.starts_at < end,
        Play.status != PlayStatus.CANCELLED,
    ]
    if visible_communes is not None:
        scope.append(Agent.commune_id.in_(list(visible_communes)))
    if commune_id is not None:
        scope.append(Agent.commune_id == commune_id)
    if agent_id is not None:
        scope.append(Agent.id == agent_id)
    figures = (
        func.count(Play.id),
        func.count(PlayEvent.id),
        func.coalesce(func.sum(PlayEvent.duration_played_s), 0.0),
        func.count(func.distinct(case((PlayEvent.id.is_not(None), Play.bulletin_id)))),
    )

    def query(*columns: Any) -> Select[Any]:
        return (
            select(*columns, *figures)
            .select_from(Play)
            .join(Agent, Agent.id == Play.agent_id)
            .join(Commune, Commune.id == Agent.commune_id)
            .join(Bulletin, Bulletin.id == Play.bulletin_id)
            .outerjoin(PlayEvent, finished)
            .where(*scope)
        )

    rows = _rows(session, query, group_by, visible_communes, commune_id, agent_id)
    (total_figures,) = session.execute(query()).all()
    total = _row("total", "Tổng cộng", *total_figures)
    return ReportSummary(
        period_kind=period.kind,
        year=period.year,
        index=period.index,
        period_label=period.label_vi,
        timezone=timezone,
        period_start=start,
        period_end=end,
        group_by=group_by,
        commune_id=commune_id,
        agent_id=agent_id,
        scope_label=_scope_label(session, commune_id, agent_id),
        rows=rows,
        total=total,
    )


def _rows(
    session: Session,
    query: Any,
    group_by: Dimension,
    visible: Collection[int] | None,
    commune_id: int | None,
    agent_id: str | None,
) -> list[SummaryRow]:
    if group_by is Dimension.TOPIC:
        names = _topic_names(session, commune_id)
        stmt = query(Bulletin.topic).group_by(Bulletin.topic).order_by(Bulletin.topic)
        return [_row(topic, names.get(topic, topic_name(topic)), *figs) for topic, *figs in session.execute(stmt)]

    if group_by is Dimension.COMMUNE:
        stmt = query(Agent.commune_id).group_by(Agent.commune_id)
        counted = {cid: figs for cid, *figs in session.execute(stmt)}
        communes = select(Commune).order_by(Commune.code)
        if visible is not None:
            communes = communes.where(Commune.id.in_(list(visible)))
        if commune_id is not None:
            communes = communes.where(Commune.id == commune_id)
        return [
            _row(str(c.id), c.name, *counted.get(c.id, (0, 0, 0.0, 0)), commune_id=c.id, commune_name=c.name)
            for c in session.scalars(communes)
        ]

    stmt = query(Agent.id).group_by(Agent.id)
    counted_agents = {aid: figs for aid, *figs in session.execute(stmt)}
    agents = (
        select(Agent, Commune.name, Village.name)
        .join(Commune, Commune.id == Agent.commune_id)
        .outerjoin(Village, Village.id == Agent.village_id)
        .order_by(Commune.code, Village.name, Agent.id)
    )
    if visible is not None:
        agents = agents.where(Agent.commune_id.in_(list(visible)))
    if commune_id is not None:
        agents = agents.where(Agent.commune_id == commune_id)
    if agent_id is not None:
        agents = agents.where(Agent.id == agent_id)
    return [
        _row(
            a.id,
            a.name or a.id,
            *counted_agents.get(a.id, (0, 0, 0.0, 0)),
            commune_id=a.commune_id,
            commune_name=commune_name,
            village_name=village_name,
        )
        for a, commune_name, village_name in session.execute(agents)
    ]


def _row(
    key: str,
    label: str,
    planned: int,
    confirmed: int,
    seconds: float | None,
    bulletins: int,
    *,
    commune_id: int | None = None,
    commune_name: str | None = None,
    village_name: str | None = None,
) -> SummaryRow:
    return SummaryRow(
        key=key,
        label=label,
        commune_id=commune_id,
        commune_name=commune_name,
        village_name=village_name,
        planned_plays=planned,
        confirmed_plays=confirmed,
        confirmed_minutes=round(float(seconds or 0.0) / 60.0, 2),
        bulletins_broadcast=bulletins,
        completion_rate=completion_rate(planned, confirmed),
    )


def _topic_names(session: Session, commune_id: int | None) -> dict[str, str]:
    """Names of the topics communes added themselves (the default list is in controller.topics)."""
    stmt = select(Topic.code, Topic.name)
    if commune_id is not None:
        stmt = stmt.where(or_(Topic.commune_id == commune_id, Topic.commune_id.is_(None)))
    return {code: name for code, name in session.execute(stmt)}


def _scope_label(session: Session, commune_id: int | None, agent_id: str | None) -> str:
    if agent_id is not None:
        agent = session.get(Agent, agent_id)
        return f"Cụm loa {agent.name or agent.id}" if agent else f"Cụm loa {agent_id}"
    if commune_id is not None:
        commune = session.get(Commune, commune_id)
        return commune.name if commune else ""
    return "Toàn tỉnh"


def periods_of_year(kind: PeriodKind, year: int) -> Sequence[Period]:
    return [Period(kind, year, i) for i in range(1, kind.per_year + 1)]
