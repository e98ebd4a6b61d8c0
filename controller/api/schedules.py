"""Bookings and the plays they expand into."""

from __future__ import annotations

from fastapi import APIRouter

from controller.api.deps import ControllerDep, SessionDep
from controller.db.session import transaction
from controller.schemas import PlayPublic, ScheduleCreate, SchedulePublic
from controller.services import schedules

router = APIRouter(prefix="/api", tags=["schedules"])


@router.post("/schedules", status_code=201)
def create_schedule(data: ScheduleCreate, controller: ControllerDep) -> SchedulePublic:
    """Book a bulletin; the targeted clusters get fresh signed manifests at once."""
    with transaction(controller.session_factory) as session:
        schedule, plays = schedules.create_schedule(session, data, controller.clock.now())
        result = schedules.schedule_public(session, schedule)
    controller.publisher.refresh({p.agent_id for p in plays})
    return result


@router.get("/schedules")
def list_schedules(session: SessionDep, commune_id: int | None = None) -> list[SchedulePublic]:
    return [schedules.schedule_public(session, s) for s in schedules.list_schedules(session, commune_id)]


@router.get("/plays")
def list_plays(
    session: SessionDep,
    schedule_id: int | None = None,
    agent_id: str | None = None,
    status: str | None = None,
) -> list[PlayPublic]:
    return schedules.list_plays(session, schedule_id=schedule_id, agent_id=agent_id, status=status)
