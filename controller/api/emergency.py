"""Emergency play-now with a confirmation step, the stop-all kill switch, and per-cluster commands.

Every operation is one function in `controller.services.emergency`; these routes parse and format.
"""

from __future__ import annotations

from fastapi import APIRouter, Body

from controller.deps import ContextDep, CurrentActor, SessionDep
from controller.schemas import (
    EmergencyConfirm,
    EmergencyPreview,
    EmergencyPublic,
    EmergencyRequest,
    StopAllRequest,
    StopAllResult,
)
from controller.services import emergency
from controller.services.access import visible_commune_ids

router = APIRouter(prefix="/api", tags=["emergency"])


@router.post("/emergencies/preview")
def preview(data: EmergencyRequest, ctx: ContextDep, actor: CurrentActor) -> EmergencyPreview:
    """Step 1: what would play where. Returns a token that step 2 must send back within two minutes."""
    return emergency.preview(ctx, data, actor)


@router.post("/emergencies", status_code=201)
def start(data: EmergencyConfirm, ctx: ContextDep, actor: CurrentActor) -> EmergencyPublic:
    """Step 2: confirmed. Every targeted cluster gets a signed PlayNow that preempts what it plays."""
    result, _ = emergency.start(ctx, data.confirm_token, actor)
    return result


@router.post("/stop-all")
def stop_all(data: StopAllRequest, ctx: ContextDep, actor: CurrentActor) -> StopAllResult:
    """The kill switch: every cluster of the commune (or those listed) stops now, and nothing due soon plays."""
    return emergency.stop_everything(ctx, data, actor)


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
    agent_id: str, ctx: ContextDep, actor: CurrentActor, volume: int = Body(embed=True, ge=0, le=100)
) -> dict[str, str]:
    emergency.set_volume(ctx, actor, agent_id, volume)
    return {"status": "sent"}


@router.post("/agents/{agent_id}/test-tone", status_code=202)
def test_tone(
    agent_id: str, ctx: ContextDep, actor: CurrentActor, seconds: float = Body(3.0, embed=True, gt=0, le=30)
) -> dict[str, str]:
    emergency.test_tone(ctx, actor, agent_id, seconds)
    return {"status": "sent"}
