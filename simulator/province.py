"""A simulated province: communes, villages and clusters, generated or read from a fleet file.

A fleet file is YAML:

    province: {code: sim-p, name: Tỉnh Mô Phỏng}
    communes:
      - code: xa-dong-son
        name: Xã Đông Sơn
        villages: [Thôn Đông, Thôn Tây]
        agents: 40            # clusters, spread over the villages in turn

Agent ids are `<commune code>-<nnn>`. Without a file, `generate_layout` makes communes of
about 50 clusters in 8 villages, the size DOMAIN.md asks us to design for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from common.errors import LoaError
from controller.db.models import Commune
from controller.db.session import transaction
from controller.runtime import Controller
from controller.schemas import AgentCreate, CommuneCreate, ProvinceCreate, VillageCreate
from controller.services import geo

CLUSTERS_PER_COMMUNE = 50
VILLAGES_PER_COMMUNE = 8


class CommuneLayout(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,27}$")
    name: str = Field(min_length=1, max_length=200)
    villages: list[str] = Field(min_length=1)
    agents: int = Field(ge=0, le=10_000)

    def agent_ids(self) -> list[str]:
        return [f"{self.code}-{i:03d}" for i in range(1, self.agents + 1)]


class ProvinceLayout(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    province: ProvinceCreate
    communes: list[CommuneLayout] = Field(min_length=1)

    @property
    def agents(self) -> int:
        return sum(c.agents for c in self.communes)

    def agent_ids(self) -> list[str]:
        return [a for c in self.communes for a in c.agent_ids()]


def generate_layout(agents: int, *, per_commune: int = CLUSTERS_PER_COMMUNE, prefix: str = "sim") -> ProvinceLayout:
    """`agents` clusters in communes of `per_commune`, each with `VILLAGES_PER_COMMUNE` villages."""
    if agents < 1:
        raise LoaError("the simulator needs at least one agent")
    count = -(-agents // per_commune)
    communes = []
    for c in range(count):
        size = min(per_commune, agents - c * per_commune)
        communes.append(
            CommuneLayout(
                code=f"{prefix}-x{c + 1:03d}",
                name=f"Xã Mô Phỏng {c + 1}",
                villages=[f"Thôn {v + 1}" for v in range(VILLAGES_PER_COMMUNE)],
                agents=size,
            )
        )
    return ProvinceLayout(province=ProvinceCreate(code=f"{prefix}-p", name="Tỉnh Mô Phỏng"), communes=communes)


def load_layout(path: Path) -> ProvinceLayout:
    """Read a fleet file. A bad file raises `LoaError` naming the file and the problem."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        layout = ProvinceLayout.model_validate(data)
    except OSError as exc:
        raise LoaError(f"cannot read fleet file {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise LoaError(f"fleet file {path} is not valid YAML: {exc}") from exc
    except ValidationError as exc:
        raise LoaError(f"fleet file {path}: {exc}") from exc
    codes = [c.code for c in layout.communes]
    if len(set(codes)) != len(codes):
        raise LoaError(f"fleet file {path}: commune codes repeat")
    return layout


@dataclass(frozen=True)
class SeededProvince:
    commune_ids: dict[str, int]
    """Commune code to database id."""
    agent_ids: list[str]


def seed_province(controller: Controller, layout: ProvinceLayout, quiet_hours: tuple[str, str]) -> SeededProvince:
    """Register the layout in the controller's database in one transaction, then publish first manifests.

    Goes through the same services as the API (one transaction instead of one request per cluster:
    registering 5,000 clusters over HTTP takes about 50 s).
    """
    commune_ids: dict[str, int] = {}
    with transaction(controller.session_factory) as session:
        province = geo.create_province(session, layout.province)  # each create flushes, so ids exist
        for c in layout.communes:
            commune: Commune = geo.create_commune(
                session, CommuneCreate(province_id=province.id, code=c.code, name=c.name)
            )
            commune.quiet_start, commune.quiet_end = quiet_hours
            villages = [geo.create_village(session, VillageCreate(commune_id=commune.id, name=v)) for v in c.villages]
            commune_ids[c.code] = commune.id
            for i, agent_id in enumerate(c.agent_ids()):
                village = villages[i % len(villages)]
                geo.register_agent(session, AgentCreate(id=agent_id, commune_id=commune.id, village_id=village.id))
    ids = layout.agent_ids()
    controller.publisher.refresh(ids)
    return SeededProvince(commune_ids, ids)


def communes_of(layout: ProvinceLayout, seeded: SeededProvince) -> Sequence[tuple[int, int]]:
    """(commune id, cluster count) for every commune with clusters."""
    return [(seeded.commune_ids[c.code], c.agents) for c in layout.communes if c.agents]
