"""Bookings and the plays they expand into."""

from __future__ import annotations

from fastapi import APIRouter

from controller.deps import ContextDep, CurrentActor, IdQuery, SessionDep
from controller.schemas import PlayPublic, ScheduleCreate, SchedulePublic
from controller.services import schedule_actions, schedules
from controller.services.access import require_commune, visible_commune_ids

router = APIRouter(prefix="/api", tags=["schedules"])


@router.post("/schedules", status_code=201)
def create_schedule(data: ScheduleCreate, ctx: ContextDep, actor: CurrentActor) -> SchedulePublic:
    """Book a bulletin; the targeted clusters get fresh signed manifests at once."""
    return schedule_actions.book(ctx, data, actor)


@router.get("/schedules")
def list_schedules(session: SessionDep, actor: CurrentActor, commune_id: IdQuery = None) -> list[SchedulePublic]:
    if commune_id is not None:
        require_commune(session, actor, commune_id)
    rows = schedules.list_schedules(session, commune_id, commune_ids=visible_commune_ids(session, actor))
    return [schedules.schedule_public(session, s) for s in rows]


@router.get("/plays")
def list_plays(
    session: SessionDep,
    actor: CurrentActor,
    schedule_id: IdQuery = None,
    agent_id: str | None = None,
    status: str | None = None,
) -> list[PlayPublic]:
    return schedules.list_plays(
        session,
        schedule_id=schedule_id,
        agent_id=agent_id,
        status=status,
        commune_ids=visible_commune_ids(session, actor),
    )
