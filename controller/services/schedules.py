"""Booking bulletins into broadcasts and expanding them into plays, one per targeted cluster."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, load_only

from controller.db.models import Agent, Play, Schedule
from controller.errors import InvalidInput
from controller.scheduling.recurrence import span_touches_quiet_hours
from controller.schemas import PlayPublic, ScheduleCreate, SchedulePublic
from controller.services import audit
from controller.services.access import Actor, require_commune
from controller.services.approval import require_approved
from controller.services.bulletins import get_bulletin
from controller.services.geo import get_commune
from protocol.messages import Priority

MAX_PAST = timedelta(minutes=1)


def target_agents(session: Session, data: ScheduleCreate) -> list[Agent]:
    """The clusters a booking reaches: chosen clusters, else chosen villages, else the whole commune."""
    stmt = select(Agent).options(load_only(Agent.id)).where(Agent.commune_id == data.commune_id).order_by(Agent.id)
    if data.agent_ids:
        stmt = stmt.where(Agent.id.in_(data.agent_ids))
    elif data.village_ids:
        stmt = stmt.where(Agent.village_id.in_(data.village_ids))
    agents = list(session.scalars(stmt))
    if data.agent_ids and len(agents) != len(set(data.agent_ids)):
        missing = sorted(set(data.agent_ids) - {a.id for a in agents})
        raise InvalidInput(
            f"agents not in commune {data.commune_id}: {missing}",
            f"Các cụm loa sau không thuộc xã: {', '.join(missing)}.",
        )
    return agents


def create_schedule(
    session: Session, data: ScheduleCreate, now: datetime, actor: Actor | None = None
) -> tuple[Schedule, list[Play]]:
    """Validate a booking and create its plays. Returns the schedule and the new plays.

    Only an approved bulletin can be booked, and only into a commune the actor runs.
    """
    actor = actor or Actor.system()
    get_commune(session, data.commune_id)
    require_commune(session, actor, data.commune_id, write=True)
    bulletin = get_bulletin(session, data.bulletin_id)
    require_approved(bulletin)
    if bulletin.audio_asset is None:
        raise InvalidInput(
            f"bulletin {bulletin.id} has no rendered audio",
            "Bản tin chưa có âm thanh. Hãy tạo âm thanh trước khi xếp lịch phát.",
        )
    if data.starts_at < now - MAX_PAST:
        raise InvalidInput(
            f"start {data.starts_at.isoformat()} is in the past",
            "Thời điểm phát đã qua. Hãy chọn một thời điểm trong tương lai.",
        )
    commune = get_commune(session, data.commune_id)
    if bulletin.priority != Priority.EMERGENCY.value and span_touches_quiet_hours(
        data.starts_at, bulletin.audio_asset.duration_s, commune.quiet_start, commune.quiet_end, commune.timezone
    ):
        local = data.starts_at.astimezone(ZoneInfo(commune.timezone))
        raise InvalidInput(
            f"start {data.starts_at.isoformat()} falls in quiet hours {commune.quiet_start}-{commune.quiet_end}",
            f"Không được phát lúc {local:%H:%M} ngày {local:%d/%m/%Y}: đây là giờ yên tĩnh "
            f"({commune.quiet_start}–{commune.quiet_end}). Chỉ tin khẩn cấp được phát trong giờ này.",
        )
    agents = target_agents(session, data)
    if not agents:
        raise InvalidInput("the booking reaches no cluster", "Không có cụm loa nào trong phạm vi đã chọn.")
    target = {"agent_ids": data.agent_ids} if data.agent_ids else {"village_ids": data.village_ids}
    schedule = Schedule(
        commune_id=data.commune_id,
        bulletin_id=bulletin.id,
        slot_name=data.slot_name,
        starts_at=data.starts_at,
        target=json.dumps(target) if (data.agent_ids or data.village_ids) else "commune",
    )
    session.add(schedule)
    session.flush()
    plays = [
        Play(
            id=uuid.uuid4().hex,
            schedule_id=schedule.id,
            agent_id=agent.id,
            bulletin_id=bulletin.id,
            audio_asset_id=bulletin.audio_asset.id,
            starts_at=data.starts_at,
            priority=bulletin.priority,
        )
        for agent in agents
    ]
    session.add_all(plays)
    session.flush()
    audit.record(
        session,
        actor,
        "book",
        "schedule",
        schedule.id,
        commune_id=data.commune_id,
        detail=f"{bulletin.id} at {data.starts_at.isoformat()} on {len(plays)} clusters",
    )
    return schedule, plays


def schedule_public(session: Session, row: Schedule) -> SchedulePublic:
    count = session.scalar(select(func.count()).select_from(Play).where(Play.schedule_id == row.id)) or 0
    return SchedulePublic(
        id=row.id,
        bulletin_id=row.bulletin_id,
        commune_id=row.commune_id,
        slot_name=row.slot_name,
        starts_at=row.starts_at,
        target=row.target,
        play_count=count,
    )


def list_schedules(
    session: Session, commune_id: int | None = None, *, commune_ids: list[int] | None = None
) -> Sequence[Schedule]:
    stmt = select(Schedule).order_by(Schedule.starts_at.desc())
    if commune_id is not None:
        stmt = stmt.where(Schedule.commune_id == commune_id)
    if commune_ids is not None:
        stmt = stmt.where(Schedule.commune_id.in_(commune_ids))
    return session.scalars(stmt).all()


def list_plays(
    session: Session,
    *,
    schedule_id: int | None = None,
    agent_id: str | None = None,
    status: str | None = None,
    limit: int = 1000,
    commune_ids: list[int] | None = None,
) -> list[PlayPublic]:
    stmt = select(Play).order_by(Play.starts_at, Play.agent_id).limit(limit)
    if commune_ids is not None:
        stmt = stmt.join(Agent, Agent.id == Play.agent_id).where(Agent.commune_id.in_(commune_ids))
    if schedule_id is not None:
        stmt = stmt.where(Play.schedule_id == schedule_id)
    if agent_id is not None:
        stmt = stmt.where(Play.agent_id == agent_id)
    if status is not None:
        stmt = stmt.where(Play.status == status)
    return [PlayPublic.model_validate(p) for p in session.scalars(stmt)]
