"""Emergencies (khẩn cấp): play now on chosen clusters, preempting anything, and the stop-all kill switch."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from controller.db.models import Agent, Bulletin, Emergency, Play
from controller.db.status import PlayStatus
from controller.errors import InvalidInput, NotFound
from controller.schemas import EmergencyPreview, EmergencyPublic, EmergencyRequest, StopAllRequest, StopAllResult
from controller.services import audit, commands
from controller.services.access import Actor, require_commune
from controller.services.approval import require_approved
from controller.services.bulletins import get_bulletin
from controller.services.context import Context
from controller.services.geo import get_commune
from controller.services.programmes import target_agent_ids
from protocol import SignedMessage
from protocol.messages import Priority

log = logging.getLogger(__name__)

COMMAND_VALIDITY = timedelta(minutes=10)
"""An emergency command older than this is refused by the agent: a delayed siren is a wrong siren."""

CONFIRM_MAX_AGE_S = 120
"""A confirmation token is valid this long after the preview that issued it."""


def _serializer(ctx: Context) -> URLSafeTimedSerializer:
    """Signs and checks confirmation tokens; their age is measured on the controller's clock."""

    class ClockSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(ctx.now().timestamp())

    return URLSafeTimedSerializer(ctx.confirm_secret, salt="loa-xa emergency confirm", signer=ClockSigner)


def preview(ctx: Context, data: EmergencyRequest, actor: Actor) -> EmergencyPreview:
    """Step 1: what would play where, and a signed token bound to this user that step 2 must bring back."""
    with ctx.transaction() as session:
        bulletin, agents = emergency_targets(session, data, actor)
        title = bulletin.title
    token = _serializer(ctx).dumps({"request": data.model_dump(mode="json"), "user": actor.username})
    return EmergencyPreview(bulletin_title=title, clusters=agents, confirm_token=str(token))


def confirmed_request(ctx: Context, token: str, actor: Actor) -> EmergencyRequest:
    """The request a confirmation token carries; refused if forged, expired or issued to someone else."""
    try:
        payload = _serializer(ctx).loads(token, max_age=CONFIRM_MAX_AGE_S)
    except SignatureExpired:
        raise InvalidInput(
            "confirmation expired", "Xác nhận đã hết hạn (quá 2 phút). Hãy xem trước và xác nhận lại."
        ) from None
    except BadSignature:
        raise InvalidInput("bad confirmation token", "Mã xác nhận không hợp lệ.") from None
    if not isinstance(payload, dict) or payload.get("user") != actor.username:
        raise InvalidInput("confirmation issued to another user", "Mã xác nhận thuộc về người dùng khác.")
    return EmergencyRequest.model_validate(payload["request"])


def start(ctx: Context, token: str, actor: Actor) -> tuple[EmergencyPublic, str]:
    """Step 2: confirmed. Records the emergency, then sends every targeted cluster a signed PlayNow
    that preempts what it plays. Returns the emergency and the bulletin's title."""
    data = confirmed_request(ctx, token, actor)
    now = ctx.now()
    with ctx.transaction() as session:
        row, plays = start_emergency(session, data, actor, now)
        messages = commands.play_now(plays, ctx.base_url, now, row.interrupted)
        title = get_bulletin(session, data.bulletin_id).title
        result = EmergencyPublic(
            id=row.id,
            commune_id=row.commune_id,
            bulletin_id=row.bulletin_id,
            clusters=[p.agent_id for p in plays],
            interrupted=row.interrupted,
            created_by=row.created_by,
            created_at=row.created_at,
            stopped_at=None,
        )
    log.warning("emergency %s started by %s on %d clusters", result.id, actor.username, len(result.clusters))
    ctx.dispatcher.send(messages)
    ctx.dispatcher.refresh(result.clusters)
    return result, title


def stop_everything(ctx: Context, data: StopAllRequest, actor: Actor) -> StopAllResult:
    """The kill switch: the clusters stop now, and nothing due in the next minutes plays."""
    now = ctx.now()
    with ctx.transaction() as session:
        agents = stop_all(session, data, actor, now)
    log.warning("stop-all by %s on %d clusters of commune %s", actor.username, len(agents), data.commune_id)
    ctx.dispatcher.send(commands.stop(agents, now))
    ctx.dispatcher.refresh(agents)
    return StopAllResult(clusters=agents, stopped_at=now)


def set_volume(ctx: Context, actor: Actor, agent_id: str, volume: int) -> int:
    """Send a cluster its new volume. Returns the cluster's commune."""
    return _command(ctx, agent_id, lambda session: commands.set_volume(session, actor, agent_id, volume, ctx.now()))


def test_tone(ctx: Context, actor: Actor, agent_id: str, seconds: float) -> int:
    """Ask a cluster to play its test tone. Returns the cluster's commune."""
    return _command(ctx, agent_id, lambda session: commands.test_tone(session, actor, agent_id, seconds, ctx.now()))


def _command(ctx: Context, agent_id: str, build: Callable[[Session], SignedMessage]) -> int:
    """Build (check and audit) one command in a transaction, send it after the commit."""
    with ctx.transaction() as session:
        message = build(session)
        commune_id = session.get_one(Agent, agent_id).commune_id
    ctx.dispatcher.send([message])
    return commune_id


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
                Play.status.in_((PlayStatus.PLANNED, PlayStatus.HELD)),
                Play.starts_at <= now + timedelta(minutes=5),
                Play.starts_at >= now - timedelta(hours=1),
            )
            .values(status=PlayStatus.CANCELLED, reason="stop-all")
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
