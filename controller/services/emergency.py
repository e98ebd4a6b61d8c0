"""Emergencies (khẩn cấp): play now on chosen clusters, preempting anything, and the stop-all kill switch."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from controller.db.models import Agent, Bulletin, Emergency, Play
from controller.errors import InvalidInput, NotFound
from controller.schemas import EmergencyRequest, StopAllRequest
from controller.services import audit
from controller.services.access import Actor, require_commune
from controller.services.approval import require_approved
from controller.services.bulletins import HELD, PLANNED, get_bulletin
from controller.services.geo import get_commune
from controller.services.programmes import CANCELLED, target_agent_ids
from protocol.messages import Priority

COMMAND_VALIDITY = timedelta(minutes=10)
"""An emergency command older than this is refused by the agent: a delayed siren is a wrong siren."""


def emergency_targets(session: Session, data: EmergencyRequest, actor: Actor) -> tuple[Bulletin, list[str]]:
    """Validate an emergency request: the actor runs the commune, the bulletin is approved, clusters exist."""
    require_commune(session, actor, data.commune_id, write=True)
    bulletin = get_bulletin(session, data.bulletin_id)
    require_approved(bulletin)
    if bulletin.commune_id not in (None, data.commune_id):
        raise InvalidInput(f"bulletin {bulletin.id} belongs to another commune", "Bản tin thuộc xã khác.")
    if bulletin.audio_asset is None:
        raise InvalidInput(f"bulletin {bulletin.id} has no audio", "Bản tin chưa có âm thanh.")
    agents = sorted(target_agent_ids(session, data.commune_id, data.target))
    if not agents:
        raise InvalidInput("the emergency reaches no cluster", "Không có cụm loa nào trong phạm vi đã chọn.")
    return bulletin, agents


def start_emergency(
    session: Session, data: EmergencyRequest, actor: Actor, now: datetime
) -> tuple[Emergency, list[Play]]:
    """Record the emergency and make one play per cluster, starting now. The caller sends the PlayNow commands."""
    bulletin, agents = emergency_targets(session, data, actor)
    assert bulletin.audio_asset is not None
    row = Emergency(
        commune_id=data.commune_id,
        bulletin_id=bulletin.id,
        target=data.target.model_dump_json(),
        interrupted=data.interrupted.value,
        created_by=actor.username,
        created_at=now,
    )
    session.add(row)
    session.flush()
    plays = [
        Play(
            id=uuid.uuid4().hex,
            emergency_id=row.id,
            agent_id=agent,
            bulletin_id=bulletin.id,
            audio_asset_id=bulletin.audio_asset.id,
            starts_at=now,
            slot_end=now + timedelta(seconds=bulletin.audio_asset.duration_s),
            priority=Priority.EMERGENCY.value,
        )
        for agent in agents
    ]
    session.add_all(plays)
    session.flush()
    audit.record(
        session,
        actor,
        "emergency",
        "emergency",
        row.id,
        commune_id=data.commune_id,
        detail=json.dumps({"bulletin": bulletin.id, "clusters": agents, "interrupted": data.interrupted.value}),
    )
    return row, plays


def stop_all(session: Session, data: StopAllRequest, actor: Actor, now: datetime) -> list[str]:
    """The kill switch. Cancels every emergency play not yet finished and every play due in the next
    minutes on the clusters, so no manifest brings them back; the caller sends Stop to each cluster."""
    require_commune(session, actor, data.commune_id, write=True)
    get_commune(session, data.commune_id)  # 404 for an unknown commune, not a foreign-key error at commit
    stmt = select(Agent.id).where(Agent.commune_id == data.commune_id)
    if data.agent_ids:
        stmt = stmt.where(Agent.id.in_(data.agent_ids))
    agents = sorted(session.scalars(stmt))
    if data.agent_ids and len(agents) != len(set(data.agent_ids)):
        raise NotFound("some clusters are not in this commune", "Có cụm loa không thuộc xã này.")
    if agents:
        session.execute(
            update(Play)
            .where(
                Play.agent_id.in_(agents),
                Play.status.in_((PLANNED, HELD)),
                Play.starts_at <= now + timedelta(minutes=5),
                Play.starts_at >= now - timedelta(hours=1),
            )
            .values(status=CANCELLED, reason="stop-all")
        )
    session.execute(
        update(Emergency)
        .where(Emergency.commune_id == data.commune_id, Emergency.stopped_at.is_(None))
        .values(stopped_at=now, stopped_by=actor.username)
    )
    audit.record(
        session, actor, "stop-all", "commune", data.commune_id, commune_id=data.commune_id, detail=json.dumps(agents)
    )
    return agents


def list_emergencies(session: Session, commune_ids: list[int] | None) -> Sequence[Emergency]:
    stmt = select(Emergency).order_by(Emergency.created_at.desc()).limit(200)
    if commune_ids is not None:
        stmt = stmt.where(Emergency.commune_id.in_(commune_ids))
    return session.scalars(stmt).all()


def emergency_clusters(session: Session, emergency_id: int) -> list[str]:
    return sorted(session.scalars(select(Play.agent_id).where(Play.emergency_id == emergency_id)))
