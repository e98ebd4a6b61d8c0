"""The schedule operations both front-ends call: save and cancel programmes, book one-off plays,
import a schedule file, register a cluster.

Each opens its transaction (the services below write the audit entries) and re-sends the manifests
of the clusters whose plays changed, after the commit.
"""

from __future__ import annotations

import asyncio

from controller.schemas import (
    AgentCreate,
    AgentPublic,
    GroupCreate,
    GroupPublic,
    ProgrammeCreate,
    ProgrammePublic,
    QuietHours,
    ScheduleCreate,
    SchedulePublic,
    SlotCreate,
    SlotPublic,
)
from controller.services import geo, programmes, schedules
from controller.services.access import Actor, require_commune
from controller.services.context import Context
from controller.services.schedule_files import ScheduleImportReport, import_schedule


def create_slot(ctx: Context, data: SlotCreate, actor: Actor) -> SlotPublic:
    """A daily session, such as Sáng 05:30 for 30 minutes. Refused inside quiet hours."""
    with ctx.transaction() as session:
        return SlotPublic.model_validate(programmes.create_slot(session, data, actor))


def set_quiet_hours(ctx: Context, commune_id: int, data: QuietHours, actor: Actor) -> QuietHours:
    """Giờ yên tĩnh: no normal or priority broadcast between `start` and `end`."""
    with ctx.transaction() as session:
        commune = programmes.set_quiet_hours(session, commune_id, data, actor)
        return QuietHours(start=commune.quiet_start, end=commune.quiet_end)


def create_group(ctx: Context, data: GroupCreate, actor: Actor) -> GroupPublic:
    """A named set of a commune's clusters, for targets."""
    with ctx.transaction() as session:
        row = programmes.create_group(session, data, actor)
        return GroupPublic(id=row.id, commune_id=row.commune_id, name=row.name, agent_ids=data.agent_ids)


def save_programme(
    ctx: Context, data: ProgrammeCreate, actor: Actor, programme_id: int | None = None
) -> ProgrammePublic:
    """Create (or, with `programme_id`, edit) a programme. Each conflict must be acknowledged; refusals
    cannot be. The affected clusters get new manifests at once."""
    with ctx.transaction() as session:
        if programme_id is None:
            row, changed = programmes.create_programme(session, data, actor, ctx.now(), ctx.horizon)
        else:
            row, changed = programmes.update_programme(session, programme_id, data, actor, ctx.now(), ctx.horizon)
        result = programmes.programme_public(row)
    ctx.dispatcher.refresh(changed)
    return result


def cancel_programme(ctx: Context, programme_id: int, actor: Actor) -> int:
    """Stop a programme; its future plays leave the manifests. Returns the programme's commune."""
    with ctx.transaction() as session:
        commune_id = programmes.get_programme(session, programme_id).commune_id
        changed = programmes.cancel_programme(session, programme_id, actor, ctx.now())
    ctx.dispatcher.refresh(changed)
    return commune_id


def book(ctx: Context, data: ScheduleCreate, actor: Actor) -> SchedulePublic:
    """Book an approved bulletin; the targeted clusters get fresh signed manifests at once."""
    with ctx.transaction() as session:
        schedule, plays = schedules.create_schedule(session, data, ctx.now(), actor)
        result = schedules.schedule_public(session, schedule)
    ctx.dispatcher.refresh({p.agent_id for p in plays})
    return result


async def import_file(ctx: Context, commune_id: int, text: str, actor: Actor) -> ScheduleImportReport:
    """Apply a schedule file (in a worker thread) with the programme checks; all or nothing."""

    def work() -> ScheduleImportReport:
        with ctx.transaction() as session:
            require_commune(session, actor, commune_id, write=True)
            return import_schedule(session, text, actor, ctx.now(), ctx.horizon, commune_id=commune_id)

    report = await asyncio.to_thread(work)
    if report.changed_agents:
        ctx.dispatcher.refresh(report.changed_agents)
    return report


def register_agent(ctx: Context, data: AgentCreate, actor: Actor) -> AgentPublic:
    """Register a cluster. It gets its first signed (empty) manifest at once."""
    with ctx.transaction() as session:
        require_commune(session, actor, data.commune_id, write=True)
        result = AgentPublic.model_validate(geo.register_agent(session, data))
    ctx.dispatcher.refresh([data.id])
    return result
