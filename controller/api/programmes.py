"""Slots, groups, quiet hours, programmes (with conflict checks before saving) and missed plays."""

from __future__ import annotations

from fastapi import APIRouter

from controller.api.deps import ControllerDep, CurrentActor, IdPath, SessionDep
from controller.api.errors import errors
from controller.db.session import transaction
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
from controller.services import programmes
from controller.services.access import require_commune, visible_commune_ids
from controller.services.schedules import list_plays

router = APIRouter(prefix="/api", tags=["programmes"])


@router.post("/slots", status_code=201)
def create_slot(data: SlotCreate, session: SessionDep, actor: CurrentActor) -> SlotPublic:
    """A daily session, such as Sáng 05:30 for 30 minutes. Refused inside quiet hours."""
    return SlotPublic.model_validate(programmes.create_slot(session, data, actor))


@router.get("/communes/{commune_id}/slots")
def list_slots(commune_id: IdPath, session: SessionDep, actor: CurrentActor) -> list[SlotPublic]:
    require_commune(session, actor, commune_id)
    return [SlotPublic.model_validate(s) for s in programmes.list_slots(session, commune_id)]


@router.put("/communes/{commune_id}/quiet-hours")
def set_quiet_hours(commune_id: IdPath, data: QuietHours, session: SessionDep, actor: CurrentActor) -> QuietHours:
    """Giờ yên tĩnh: no normal or priority broadcast between `start` and `end` (default 21:00-05:00)."""
    commune = programmes.set_quiet_hours(session, commune_id, data, actor)
    return QuietHours(start=commune.quiet_start, end=commune.quiet_end)


@router.post("/groups", status_code=201)
def create_group(data: GroupCreate, session: SessionDep, actor: CurrentActor) -> GroupPublic:
    row = programmes.create_group(session, data, actor)
    return GroupPublic(id=row.id, commune_id=row.commune_id, name=row.name, agent_ids=data.agent_ids)


@router.post("/programmes/check")
def check_programme(
    data: ProgrammeCreate, session: SessionDep, controller: ControllerDep, actor: CurrentActor
) -> ProgrammeCheck:
    """Conflicts, refusals and warnings, before saving. Nothing is written."""
    require_commune(session, actor, data.commune_id)
    return programmes.check_programme(session, data, controller.clock.now())


@router.post("/programmes", status_code=201, responses=errors(409, e409="unresolved conflicts, listed in `issues`"))
def create_programme(data: ProgrammeCreate, controller: ControllerDep, actor: CurrentActor) -> ProgrammePublic:
    """Save a programme. Each conflict must be listed in `acknowledged`; refusals cannot be."""
    horizon = controller.jobs.horizon
    with transaction(controller.session_factory) as session:
        row, changed = programmes.create_programme(session, data, actor, controller.clock.now(), horizon)
        result = programmes.programme_public(row)
    controller.publisher.refresh(changed)
    return result


@router.put("/programmes/{programme_id}", responses=errors(409, e409="unresolved conflicts, listed in `issues`"))
def update_programme(
    programme_id: IdPath, data: ProgrammeCreate, controller: ControllerDep, actor: CurrentActor
) -> ProgrammePublic:
    """Edit a programme; the affected clusters get new manifests at once."""
    horizon = controller.jobs.horizon
    with transaction(controller.session_factory) as session:
        row, changed = programmes.update_programme(session, programme_id, data, actor, controller.clock.now(), horizon)
        result = programmes.programme_public(row)
    controller.publisher.refresh(changed)
    return result


@router.delete("/programmes/{programme_id}", status_code=204)
def cancel_programme(programme_id: IdPath, controller: ControllerDep, actor: CurrentActor) -> None:
    """Stop a programme; its future plays leave the manifests."""
    with transaction(controller.session_factory) as session:
        changed = programmes.cancel_programme(session, programme_id, actor, controller.clock.now())
    controller.publisher.refresh(changed)


@router.get("/programmes")
def list_programmes(session: SessionDep, actor: CurrentActor) -> list[ProgrammePublic]:
    rows = programmes.list_programmes(session, visible_commune_ids(session, actor))
    return [programmes.programme_public(r) for r in rows]


@router.get("/plays/missed")
def missed_plays(session: SessionDep, actor: CurrentActor) -> list[PlayPublic]:
    """Plays with no confirmation by the end of their slot plus the grace period, with the reason."""
    return list_plays(session, status="missed", commune_ids=visible_commune_ids(session, actor))
