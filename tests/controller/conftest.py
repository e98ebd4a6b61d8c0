"""Controller fixtures: a migrated database on each backend, and a small seeded commune."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session, sessionmaker

from controller.db.migrate import upgrade
from controller.db.models import AudioAsset, Bulletin
from controller.db.session import make_engine, make_session_factory, transaction
from controller.schemas import AgentCreate, CommuneCreate, ProvinceCreate, VillageCreate
from controller.services import geo


@pytest.fixture
def session_factory(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    upgrade(engine)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Seed:
    commune_id: int
    other_commune_id: int
    village_ids: list[int]
    agent_ids: list[str]
    bulletin_id: str
    asset_id: int


@pytest.fixture
def seed(session_factory: sessionmaker[Session]) -> Seed:
    """One province, two communes; the first has 2 villages and 4 clusters and a bulletin with audio."""
    with transaction(session_factory) as s:
        p = geo.create_province(s, ProvinceCreate(code="NA", name="Nghệ An"))
        c = geo.create_commune(s, CommuneCreate(province_id=p.id, code="x1", name="Xã Trung Lộc"))
        c2 = geo.create_commune(s, CommuneCreate(province_id=p.id, code="x2", name="Xã Khác"))
        villages = [geo.create_village(s, VillageCreate(commune_id=c.id, name=f"Thôn {i}")).id for i in (1, 2)]
        agents = []
        for i in range(4):
            a = geo.register_agent(s, AgentCreate(id=f"cum-{i}", commune_id=c.id, village_id=villages[i % 2]))
            agents.append(a.id)
        geo.register_agent(s, AgentCreate(id="cum-other", commune_id=c2.id))
        b = Bulletin(
            id="b-an-ninh-mang",
            commune_id=c.id,
            title="Cảnh giác lừa đảo",
            topic="an-ninh-mang",
            body="Nội dung.",
            status="approved",
        )
        s.add(b)
        s.flush()
        asset = AudioAsset(
            bulletin_id=b.id,
            sha256="ab" * 32,
            size_bytes=960_000,
            duration_s=240.0,
            engine="espeak-ng",
            voice="vi",
        )
        s.add(asset)
        s.flush()
        b.audio_asset_id = asset.id
        return Seed(c.id, c2.id, villages, agents, b.id, asset.id)
