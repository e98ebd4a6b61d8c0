"""The province's quarterly figures and the broadcast log, counted from play confirmations."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from controller.db.models import Agent, Bulletin, Commune, Play, PlayEvent, Village
from controller.db.status import PlayStatus
from controller.errors import InvalidInput
from controller.schemas import BroadcastLogEntry, QuarterlyReport, ReportRow
from controller.topics import topic_name
from protocol.messages import PlayEvent as Event


def quarter_bounds(year: int, quarter: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The quarter as [start, end) instants in UTC, with boundaries at local midnight."""
    if not 1 <= quarter <= 4:
        raise InvalidInput(f"quarter must be 1-4, got {quarter}", "Quý phải từ 1 đến 4.")
    if not 2000 <= year <= 2100:
        raise InvalidInput(f"year out of range: {year}", "Năm không hợp lệ.")
    first_month = 3 * (quarter - 1) + 1
    start = datetime.combine(date(year, first_month, 1), time(0), tz)
    end_year, end_month = (year + 1, 1) if quarter == 4 else (year, first_month + 3)
    end = datetime.combine(date(end_year, end_month, 1), time(0), tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def quarterly_report(
    session: Session, year: int, quarter: int, timezone: str, *, visible_communes: Collection[int] | None = None
) -> QuarterlyReport:
    """Planned against confirmed plays per commune and topic. Confirmed means a `finished` confirmation.

    `visible_communes` limits the report to those communes (None: every commune).
    """
    start, end = quarter_bounds(year, quarter, ZoneInfo(timezone))
    in_period = and_(Play.starts_at >= start, Play.starts_at < end, Play.status != PlayStatus.CANCELLED)
    if visible_communes is not None:
        in_period = and_(in_period, Agent.commune_id.in_(list(visible_communes)))
    finished = and_(PlayEvent.play_id == Play.id, PlayEvent.event == Event.FINISHED)
    stmt = (
        select(
            Commune.id,
            Commune.code,
            Commune.name,
            Bulletin.topic,
            func.count(Play.id),
            func.count(PlayEvent.id),
            func.coalesce(func.sum(PlayEvent.duration_played_s), 0.0),
        )
        .select_from(Play)
        .join(Agent, Agent.id == Play.agent_id)
        .join(Commune, Commune.id == Agent.commune_id)
        .join(Bulletin, Bulletin.id == Play.bulletin_id)
        .outerjoin(PlayEvent, finished)
        .where(in_period)
        .group_by(Commune.id, Commune.code, Commune.name, Bulletin.topic)
        .order_by(Commune.code, Bulletin.topic)
    )
    broadcast = _bulletins_broadcast(session, start, end)  # keyed by commune: visibility already applied
    rows = [
        ReportRow(
            commune_id=cid,
            commune_code=code,
            commune_name=name,
            topic=topic,
            topic_name=topic_name(topic),
            planned_plays=planned,
            confirmed_plays=confirmed,
            confirmed_minutes=round(float(seconds or 0.0) / 60.0, 2),
            bulletins_broadcast=broadcast.get((cid, topic), 0),
        )
        for cid, code, name, topic, planned, confirmed, seconds in session.execute(stmt)
    ]
    return QuarterlyReport(
        year=year,
        quarter=quarter,
        timezone=timezone,
        period_start=start,
        period_end=end,
        rows=rows,
        total_planned_plays=sum(r.planned_plays for r in rows),
        total_confirmed_plays=sum(r.confirmed_plays for r in rows),
        total_confirmed_minutes=round(sum(r.confirmed_minutes for r in rows), 2),
    )


def _bulletins_broadcast(session: Session, start: datetime, end: datetime) -> dict[tuple[int, str], int]:
    """Distinct bulletins with at least one confirmed play, per commune and topic."""
    stmt = (
        select(Agent.commune_id, Bulletin.topic, func.count(func.distinct(Play.bulletin_id)))
        .select_from(PlayEvent)
        .join(Play, Play.id == PlayEvent.play_id)
        .join(Agent, Agent.id == Play.agent_id)
        .join(Bulletin, Bulletin.id == Play.bulletin_id)
        .where(PlayEvent.event == Event.FINISHED, Play.starts_at >= start, Play.starts_at < end)
        .group_by(Agent.commune_id, Bulletin.topic)
    )
    return {(cid, topic): n for cid, topic, n in session.execute(stmt)}


def broadcast_log(
    session: Session,
    start: datetime,
    end: datetime,
    *,
    commune_id: int | None = None,
    visible_communes: Collection[int] | None = None,
    agent_id: str | None = None,
    topic: str | None = None,
    status: str | None = None,
    text: str | None = None,
    limit: int = 5000,
) -> list[BroadcastLogEntry]:
    """Nhật ký phát: every play that started in [start, end), with what the agent confirmed.

    Optional filters: one commune, the communes a login may see, one cluster, a topic, a play status,
    and `text` found in the bulletin title, the cluster id or the village name.
    """
    stmt = (
        select(Play, Agent, Commune.name, Village.name, Bulletin)
        .join(Agent, Agent.id == Play.agent_id)
        .join(Commune, Commune.id == Agent.commune_id)
        .outerjoin(Village, Village.id == Agent.village_id)
        .join(Bulletin, Bulletin.id == Play.bulletin_id)
        .where(Play.starts_at >= start, Play.starts_at < end)
        .order_by(Play.starts_at, Agent.id)
        .limit(limit)
    )
    if commune_id is not None:
        stmt = stmt.where(Agent.commune_id == commune_id)
    if visible_communes is not None:
        stmt = stmt.where(Agent.commune_id.in_(list(visible_communes)))
    if agent_id:
        stmt = stmt.where(Agent.id == agent_id)
    if topic:
        stmt = stmt.where(Bulletin.topic == topic)
    if status:
        stmt = stmt.where(Play.status == status)
    needle = text.strip().casefold() if text else ""
    if needle:
        # SQLite lowercases only ASCII, so Vietnamese text is matched here, not in SQL.
        stmt = stmt.limit(None)
    entries: list[BroadcastLogEntry] = []
    for play, agent, commune_name, village_name, bulletin in session.execute(stmt):
        if needle and not any(
            needle in (v or "").casefold() for v in (bulletin.title, agent.id, agent.name, village_name)
        ):
            continue
        entries.append(
            BroadcastLogEntry(
                play_id=play.id,
                agent_id=agent.id,
                commune_name=commune_name,
                village_name=village_name,
                bulletin_id=bulletin.id,
                title=bulletin.title,
                topic=bulletin.topic,
                scheduled_at=play.starts_at,
                started_at=play.started_at,
                ended_at=play.ended_at,
                duration_played_s=play.duration_played_s,
                status=play.status,
            )
        )
        if len(entries) >= limit:
            break
    return entries
