"""Slots, groups, quiet hours, programmes (with conflict checks before saving) and missed plays."""

from __future__ import annotations

from fastapi import APIRouter

from controller.api.errors import errors
from controller.db.status import PlayStatus
from controller.deps import ContextDep, ControllerDep, CurrentActor, IdPath, SessionDep
from controller.schemas import (
    GroupCreate,
    GroupPublic,
    PlayPublic,
    ProgrammeCheck,
    ProgrammeCreate,
    ProgrammePublic,
    QuietHours,
    SlotCreate,
    SlotPublic,
)
from controller.services import programmes, schedule_actions
from controller.services.access import require_commune, visible_commune_ids
from controller.services.schedules import list_plays

router = APIRouter(prefix="/api", tags=["programmes"])


@router.post("/slots", status_code=201)
def create_slot(data: SlotCreate, ctx: ContextDep, actor: CurrentActor) -> SlotPublic:
    """A daily session, such as Sáng 05:30 for 30 minutes. Refused inside quiet hours."""
    return schedule_actions.create_slot(ctx, data, actor)


@router.get("/communes/{commune_id}/slots")
def list_slots(commune_id: IdPath, session: SessionDep, actor: CurrentActor) -> list[SlotPublic]:
    require_commune(session, actor, commune_id)
    return [SlotPublic.model_validate(s) for s in programmes.list_slots(session, commune_id)]


@router.put("/communes/{commune_id}/quiet-hours")
def set_quiet_hours(commune_id: IdPath, data: QuietHours, ctx: ContextDep, actor: CurrentActor) -> QuietHours:
    """Giờ yên tĩnh: no normal or priority broadcast between `start` and `end` (default 21:00-05:00)."""
    return schedule_actions.set_quiet_hours(ctx, commune_id, data, actor)


@router.post("/groups", status_code=201)
def create_group(data: GroupCreate, ctx: ContextDep, actor: CurrentActor) -> GroupPublic:
    return schedule_actions.create_group(ctx, data, actor)


@router.post("/programmes/check")
def check_programme(
    data: ProgrammeCreate, session: SessionDep, controller: ControllerDep, actor: CurrentActor
) -> ProgrammeCheck:
    """Conflicts, refusals and warnings, before saving. Nothing is written."""
    require_commune(session, actor, data.commune_id)
    return programmes.check_programme(session, data, controller.clock.now())


@router.post("/programmes", status_code=201, responses=errors(409, e409="unresolved conflicts, listed in `issues`"))
def create_programme(data: ProgrammeCreate, ctx: ContextDep, actor: CurrentActor) -> ProgrammePublic:
    """Save a programme. Each conflict must be listed in `acknowledged`; refusals cannot be."""
    return schedule_actions.save_programme(ctx, data, actor)


@router.put("/programmes/{programme_id}", responses=errors(409, e409="unresolved conflicts, listed in `issues`"))
def update_programme(
    programme_id: IdPath, data: ProgrammeCreate, ctx: ContextDep, actor: CurrentActor
) -> ProgrammePublic:
    """Edit a programme; the affected clusters get new manifests at once."""
    return schedule_actions.save_programme(ctx, data, actor, programme_id)


@router.delete("/programmes/{programme_id}", status_code=204)
def cancel_programme(programme_id: IdPath, ctx: ContextDep, actor: CurrentActor) -> None:
    """Stop a programme; its future plays leave the manifests."""
    schedule_actions.cancel_programme(ctx, programme_id, actor)


@router.get("/programmes")
def list_programmes(session: SessionDep, actor: CurrentActor) -> list[ProgrammePublic]:
    rows = programmes.list_programmes(session, visible_commune_ids(session, actor))
    return [programmes.programme_public(r) for r in rows]


@router.get("/plays/missed")
def missed_plays(session: SessionDep, actor: CurrentActor) -> list[PlayPublic]:
    """Plays with no confirmation by the end of their slot plus the grace period, with the reason."""
    return list_plays(session, status=PlayStatus.MISSED, commune_ids=visible_commune_ids(session, actor))
