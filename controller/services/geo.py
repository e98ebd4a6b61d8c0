"""Provinces, communes, villages and clusters: the places broadcasts target."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from controller.db.models import Agent, Commune, Province, Village
from controller.errors import Conflict, NotFound
from controller.schemas import AgentCreate, CommuneCreate, ProvinceCreate, VillageCreate


def add_unique(session: Session, row: object, what_en: str, what_vi: str) -> None:
    """Insert `row`; a unique-constraint clash becomes a Conflict the officer can read."""
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(f"{what_en} already exists", f"{what_vi} đã tồn tại.") from None


def create_province(session: Session, data: ProvinceCreate) -> Province:
    row = Province(code=data.code, name=data.name)
    add_unique(session, row, f"province {data.code}", f"Tỉnh mã {data.code}")
    return row


def create_commune(session: Session, data: CommuneCreate) -> Commune:
    get_province(session, data.province_id)
    row = Commune(province_id=data.province_id, code=data.code, name=data.name)
    add_unique(session, row, f"commune {data.code}", f"Xã mã {data.code}")
    return row


def create_village(session: Session, data: VillageCreate) -> Village:
    get_commune(session, data.commune_id)
    row = Village(commune_id=data.commune_id, name=data.name)
    add_unique(session, row, f"village {data.name}", f"Thôn {data.name}")
    return row


def register_agent(session: Session, data: AgentCreate) -> Agent:
    get_commune(session, data.commune_id)
    if data.village_id is not None:
        village = get_village(session, data.village_id)
        if village.commune_id != data.commune_id:
            raise Conflict(
                f"village {village.id} is not in commune {data.commune_id}",
                "Thôn đã chọn không thuộc xã này.",
            )
    row = Agent(**data.model_dump())
    add_unique(session, row, f"agent {data.id}", f"Cụm loa {data.id}")
    return row


def get_province(session: Session, province_id: int) -> Province:
    row = session.get(Province, province_id)
    if row is None:
        raise NotFound(f"province {province_id} not found", "Không tìm thấy tỉnh.")
    return row


def get_commune(session: Session, commune_id: int) -> Commune:
    row = session.get(Commune, commune_id)
    if row is None:
        raise NotFound(f"commune {commune_id} not found", "Không tìm thấy xã.")
    return row


def get_village(session: Session, village_id: int) -> Village:
    row = session.get(Village, village_id)
    if row is None:
        raise NotFound(f"village {village_id} not found", "Không tìm thấy thôn.")
    return row


def get_agent(session: Session, agent_id: str) -> Agent:
    row = session.get(Agent, agent_id)
    if row is None:
        raise NotFound(f"agent {agent_id} not found", "Không tìm thấy cụm loa.")
    return row


def list_provinces(session: Session) -> Sequence[Province]:
    return session.scalars(select(Province).order_by(Province.id)).all()


def list_communes(session: Session, province_id: int | None = None) -> Sequence[Commune]:
    stmt = select(Commune).order_by(Commune.id)
    if province_id is not None:
        stmt = stmt.where(Commune.province_id == province_id)
    return session.scalars(stmt).all()


def list_villages(session: Session, commune_id: int | None = None) -> Sequence[Village]:
    stmt = select(Village).order_by(Village.id)
    if commune_id is not None:
        stmt = stmt.where(Village.commune_id == commune_id)
    return session.scalars(stmt).all()


def list_agents(session: Session, commune_id: int | None = None) -> Sequence[Agent]:
    stmt = select(Agent).order_by(Agent.id)
    if commune_id is not None:
        stmt = stmt.where(Agent.commune_id == commune_id)
    return session.scalars(stmt).all()


def commune_places(session: Session, commune_id: int) -> tuple[list[Village], list[Agent]]:
    """The commune's villages by name and its clusters by id, for the pages' target pickers."""
    villages = list(session.scalars(select(Village).where(Village.commune_id == commune_id).order_by(Village.name)))
    agents = list(session.scalars(select(Agent).where(Agent.commune_id == commune_id).order_by(Agent.id)))
    return villages, agents
