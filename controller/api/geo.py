"""Provinces, communes, villages and loudspeaker clusters."""

from __future__ import annotations

from fastapi import APIRouter

from controller.api.deps import ControllerDep, SessionDep
from controller.db.session import transaction
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
from controller.services import geo

router = APIRouter(prefix="/api", tags=["places"])


@router.post("/provinces", status_code=201)
def create_province(data: ProvinceCreate, session: SessionDep) -> ProvincePublic:
    return ProvincePublic.model_validate(geo.create_province(session, data))


@router.get("/provinces")
def list_provinces(session: SessionDep) -> list[ProvincePublic]:
    return [ProvincePublic.model_validate(p) for p in geo.list_provinces(session)]


@router.post("/communes", status_code=201)
def create_commune(data: CommuneCreate, session: SessionDep) -> CommunePublic:
    return CommunePublic.model_validate(geo.create_commune(session, data))


@router.get("/communes")
def list_communes(session: SessionDep, province_id: int | None = None) -> list[CommunePublic]:
    return [CommunePublic.model_validate(c) for c in geo.list_communes(session, province_id)]


@router.post("/villages", status_code=201)
def create_village(data: VillageCreate, session: SessionDep) -> VillagePublic:
    return VillagePublic.model_validate(geo.create_village(session, data))


@router.get("/villages")
def list_villages(session: SessionDep, commune_id: int | None = None) -> list[VillagePublic]:
    return [VillagePublic.model_validate(v) for v in geo.list_villages(session, commune_id)]


@router.post("/agents", status_code=201)
def register_agent(data: AgentCreate, controller: ControllerDep) -> AgentPublic:
    """Register a cluster. It gets its first signed (empty) manifest at once."""
    with transaction(controller.session_factory) as session:
        result = AgentPublic.model_validate(geo.register_agent(session, data))
    controller.publisher.refresh([data.id])
    return result


@router.get("/agents")
def list_agents(session: SessionDep, commune_id: int | None = None) -> list[AgentPublic]:
    return [AgentPublic.model_validate(a) for a in geo.list_agents(session, commune_id)]
