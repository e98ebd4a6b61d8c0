"""Emergency play-now with a confirmation step, the stop-all kill switch, and per-cluster commands."""

from __future__ import annotations

from fastapi import APIRouter, Body
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from controller.api.deps import ControllerDep, CurrentActor, SessionDep
from controller.db.session import transaction
from controller.errors import InvalidInput
from controller.runtime import Controller
from controller.schemas import (
    EmergencyConfirm,
    EmergencyPreview,
    EmergencyPublic,
    EmergencyRequest,
    StopAllRequest,
    StopAllResult,
)
from controller.services import commands, emergency
from controller.services.access import Actor, visible_commune_ids

router = APIRouter(prefix="/api", tags=["emergency"])

CONFIRM_MAX_AGE_S = 120


def _serializer(controller: Controller) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(controller.confirm_secret, salt="loa-xa emergency confirm")


@router.post("/emergencies/preview")
def preview(
    data: EmergencyRequest, session: SessionDep, controller: ControllerDep, actor: CurrentActor
) -> EmergencyPreview:
    """Step 1: what would play where. Returns a token that step 2 must send back within two minutes."""
    bulletin, agents = emergency.emergency_targets(session, data, actor)
    token = _serializer(controller).dumps({"request": data.model_dump(mode="json"), "user": actor.username})
    return EmergencyPreview(bulletin_title=bulletin.title, clusters=agents, confirm_token=str(token))


@router.post("/emergencies", status_code=201)
def start(data: EmergencyConfirm, controller: ControllerDep, actor: CurrentActor) -> EmergencyPublic:
    """Step 2: confirmed. Every targeted cluster gets a signed PlayNow that preempts what it plays."""
    request = _confirmed(controller, data.confirm_token, actor)
    now = controller.clock.now()
    with transaction(controller.session_factory) as session:
        row, plays = emergency.start_emergency(session, request, actor, now)
        messages = commands.play_now(plays, controller.settings.resolved_public_base_url, now, row.interrupted)
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
    controller.publisher.send(messages)
    controller.publisher.refresh(result.clusters)
    return result


def _confirmed(controller: Controller, token: str, actor: Actor) -> EmergencyRequest:
    try:
        payload = _serializer(controller).loads(token, max_age=CONFIRM_MAX_AGE_S)
    except SignatureExpired:
        raise InvalidInput(
            "confirmation expired", "Xác nhận đã hết hạn (quá 2 phút). Hãy xem trước và xác nhận lại."
        ) from None
    except BadSignature:
        raise InvalidInput("bad confirmation token", "Mã xác nhận không hợp lệ.") from None
    if payload.get("user") != actor.username:
        raise InvalidInput("confirmation issued to another user", "Mã xác nhận thuộc về người dùng khác.")
    return EmergencyRequest.model_validate(payload["request"])


@router.post("/stop-all")
def stop_all(data: StopAllRequest, controller: ControllerDep, actor: CurrentActor) -> StopAllResult:
    """The kill switch: every cluster of the commune (or those listed) stops now, and nothing due soon plays."""
    now = controller.clock.now()
    with transaction(controller.session_factory) as session:
        agents = emergency.stop_all(session, data, actor, now)
    controller.publisher.send(commands.stop(agents, now))
    controller.publisher.refresh(agents)
    return StopAllResult(clusters=agents, stopped_at=now)


@router.get("/emergencies")
def list_emergencies(session: SessionDep, actor: CurrentActor) -> list[EmergencyPublic]:
    return [
        EmergencyPublic(
            id=e.id,
            commune_id=e.commune_id,
            bulletin_id=e.bulletin_id,
            clusters=emergency.emergency_clusters(session, e.id),
            interrupted=e.interrupted,
            created_by=e.created_by,
            created_at=e.created_at,
            stopped_at=e.stopped_at,
        )
        for e in emergency.list_emergencies(session, visible_commune_ids(session, actor))
    ]


@router.post("/agents/{agent_id}/volume", status_code=202)
def set_volume(
    agent_id: str, controller: ControllerDep, actor: CurrentActor, volume: int = Body(embed=True, ge=0, le=100)
) -> dict[str, str]:
    with transaction(controller.session_factory) as session:
        message = commands.set_volume(session, actor, agent_id, volume, controller.clock.now())
    controller.publisher.send([message])
    return {"status": "sent"}


@router.post("/agents/{agent_id}/test-tone", status_code=202)
def test_tone(
    agent_id: str, controller: ControllerDep, actor: CurrentActor, seconds: float = Body(3.0, embed=True, gt=0, le=30)
) -> dict[str, str]:
    with transaction(controller.session_factory) as session:
        message = commands.test_tone(session, actor, agent_id, seconds, controller.clock.now())
    controller.publisher.send([message])
    return {"status": "sent"}
