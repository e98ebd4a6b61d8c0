"""Provinces, communes, villages and loudspeaker clusters."""

from __future__ import annotations

from fastapi import APIRouter

from controller.deps import ContextDep, ControllerDep, CurrentActor, IdQuery, SessionDep
from controller.errors import Forbidden
from controller.schemas import (
    AgentCreate,
    AgentPublic,
    CommuneCreate,
    CommunePublic,
    ProvinceCreate,
    ProvincePublic,
    VillageCreate,
    VillagePublic,
)
from controller.services import agents, geo, schedule_actions
from controller.services.access import Actor, require_commune, visible_commune_ids

router = APIRouter(prefix="/api", tags=["places"])


@router.post("/provinces", status_code=201)
def create_province(data: ProvinceCreate, session: SessionDep, actor: CurrentActor) -> ProvincePublic:
    _admin_only(actor)
    return ProvincePublic.model_validate(geo.create_province(session, data))


@router.get("/provinces")
def list_provinces(session: SessionDep) -> list[ProvincePublic]:
    return [ProvincePublic.model_validate(p) for p in geo.list_provinces(session)]


@router.post("/communes", status_code=201)
def create_commune(data: CommuneCreate, session: SessionDep, actor: CurrentActor) -> CommunePublic:
    _admin_only(actor)
    return CommunePublic.model_validate(geo.create_commune(session, data))


@router.get("/communes")
def list_communes(session: SessionDep, actor: CurrentActor, province_id: IdQuery = None) -> list[CommunePublic]:
    visible = visible_commune_ids(session, actor)
    rows = geo.list_communes(session, province_id)
    return [CommunePublic.model_validate(c) for c in rows if visible is None or c.id in visible]


@router.post("/villages", status_code=201)
def create_village(data: VillageCreate, session: SessionDep, actor: CurrentActor) -> VillagePublic:
    require_commune(session, actor, data.commune_id, write=True)
    return VillagePublic.model_validate(geo.create_village(session, data))


@router.get("/villages")
def list_villages(session: SessionDep, actor: CurrentActor, commune_id: IdQuery = None) -> list[VillagePublic]:
    visible = visible_commune_ids(session, actor)
    rows = geo.list_villages(session, commune_id)
    return [VillagePublic.model_validate(v) for v in rows if visible is None or v.commune_id in visible]


@router.post("/agents", status_code=201)
def register_agent(data: AgentCreate, ctx: ContextDep, actor: CurrentActor) -> AgentPublic:
    """Register a cluster. It gets its first signed (empty) manifest at once."""
    return schedule_actions.register_agent(ctx, data, actor)


@router.get("/agents")
def list_agents(session: SessionDep, actor: CurrentActor, commune_id: IdQuery = None) -> list[AgentPublic]:
    if commune_id is not None:
        require_commune(session, actor, commune_id)
    visible = visible_commune_ids(session, actor)
    rows = geo.list_agents(session, commune_id)
    return [AgentPublic.model_validate(a) for a in rows if visible is None or a.commune_id in visible]


@router.post("/agents/{agent_id}/retire")
def retire_agent(agent_id: str, ctx: ContextDep, controller: ControllerDep, actor: CurrentActor) -> AgentPublic:
    """Retire a post: its broker login goes (Mosquitto with dynamic security); its history stays."""
    return agents.retire_agent(ctx, actor, agent_id, controller.broker_logins)


def _admin_only(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden(f"{actor.username} is not an admin", "Chỉ quản trị hệ thống được làm việc này.")
