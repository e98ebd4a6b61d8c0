"""The clusters page: every cluster with its village, status, volume, last seen, current item and clock offset."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Agent, Bulletin, Commune, Play, Village
from controller.db.status import OFF_AIR
from controller.reports.labels import CLOCK_SKEW_LIMIT_S


@dataclass(frozen=True)
class ClusterStatus:
    """One loudspeaker cluster as the officer sees it."""

    id: str
    name: str
    commune_id: int
    commune_name: str
    village_name: str
    status: str
    volume: int | None
    last_seen_at: datetime | None
    current_title: str | None
    clock_offset_s: float | None
    latitude: float | None
    longitude: float | None
    version: str

    @property
    def clock_skewed(self) -> bool:
        return self.clock_offset_s is not None and abs(self.clock_offset_s) > CLOCK_SKEW_LIMIT_S


@dataclass(frozen=True)
class VillageGroup:
    commune_name: str
    village_name: str
    clusters: list[ClusterStatus]

    @property
    def online(self) -> int:
        return sum(1 for c in self.clusters if c.status == "online")


NO_VILLAGE = "Chưa gán thôn"


def cluster_statuses(
    session: Session, *, visible_communes: Collection[int] | None = None, commune_id: int | None = None
) -> list[ClusterStatus]:
    stmt = (
        select(Agent, Commune.name, Village.name, Bulletin.title)
        .join(Commune, Commune.id == Agent.commune_id)
        .outerjoin(Village, Village.id == Agent.village_id)
        # On air: the play the cluster last said it plays, unless it has ended since or the cluster is gone.
        .outerjoin(
            Play,
            (Play.id == Agent.current_play_id) & Play.status.not_in(OFF_AIR) & (Agent.status == "online"),
        )
        .outerjoin(Bulletin, Bulletin.id == Play.bulletin_id)
        .order_by(Commune.code, Village.name, Agent.id)
    )
    if visible_communes is not None:
        stmt = stmt.where(Agent.commune_id.in_(list(visible_communes)))
    if commune_id is not None:
        stmt = stmt.where(Agent.commune_id == commune_id)
    return [
        ClusterStatus(
            id=a.id,
            name=a.name or a.id,
            commune_id=a.commune_id,
            commune_name=commune_name,
            village_name=village_name or NO_VILLAGE,
            status=a.status,
            volume=a.volume,
            last_seen_at=a.last_seen_at,
            current_title=title,
            clock_offset_s=a.clock_offset_s,
            latitude=a.latitude,
            longitude=a.longitude,
            version=a.version,
        )
        for a, commune_name, village_name, title in session.execute(stmt)
    ]


def by_village(clusters: list[ClusterStatus]) -> list[VillageGroup]:
    """Clusters grouped by (commune, village), in the order given."""
    groups: dict[tuple[str, str], VillageGroup] = {}
    for c in clusters:
        key = (c.commune_name, c.village_name)
        groups.setdefault(key, VillageGroup(c.commune_name, c.village_name, [])).clusters.append(c)
    return list(groups.values())
