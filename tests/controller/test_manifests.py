"""Manifests built for many agents at once match those built one by one, and are published once each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from common.clock import ManualClock
from controller.background import publisher as publisher_module
from controller.background.publisher import ManifestPublisher
from controller.db.models import Agent
from controller.db.session import transaction
from controller.schemas import ScheduleCreate
from controller.services.access import Actor
from controller.services.manifests import ManifestPolicy, manifest_plays, manifest_plays_by_agent, next_manifests
from controller.services.schedules import create_schedule
from protocol import ScheduleManifest, Signer, Topics, Verifier
from protocol.signing import generate_private_key
from tests.controller.conftest import Seed

NOW = datetime(2026, 5, 27, 3, 0, tzinfo=UTC)
POLICY = ManifestPolicy(horizon=timedelta(hours=72), grace=timedelta(minutes=1), media_base_url="http://c")


class RecordingBus:
    """Stands in for MqttBus: keeps what would go to the broker."""

    def __init__(self) -> None:
        self.published: list[tuple[str, bytes, bool]] = []

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        self.published.append((topic, payload, retain))


def book(factory: sessionmaker[Session], seed: Seed, at: datetime, agent_ids: list[str] | None = None) -> None:
    with transaction(factory) as s:
        data = ScheduleCreate(
            bulletin_id=seed.bulletin_id, commune_id=seed.commune_id, starts_at=at, agent_ids=agent_ids or []
        )
        create_schedule(s, data, NOW, Actor.system())


def test_plays_for_many_agents_in_one_query_match_each_agents_own(
    session_factory: sessionmaker[Session], seed: Seed
) -> None:
    book(session_factory, seed, NOW + timedelta(hours=2))
    book(session_factory, seed, NOW + timedelta(hours=1), agent_ids=seed.agent_ids[:2])
    book(session_factory, seed, NOW + timedelta(hours=100))  # beyond the horizon
    with session_factory() as s:
        together = manifest_plays_by_agent(s, [*seed.agent_ids, "cum-other"], NOW, POLICY)
        alone = {a: manifest_plays(s, a, NOW, POLICY) for a in [*seed.agent_ids, "cum-other"]}
    assert together == alone
    assert [len(together[a]) for a in seed.agent_ids] == [2, 2, 1, 1]
    assert together["cum-other"] == []
    assert all(p.starts_at < q.starts_at for p, q in zip(together["cum-0"], together["cum-0"][1:], strict=False))


def test_next_manifests_bumps_only_agents_whose_plays_changed(
    session_factory: sessionmaker[Session], seed: Seed
) -> None:
    with transaction(session_factory) as s:
        agents = list(s.scalars(select(Agent).where(Agent.id.in_(seed.agent_ids)).order_by(Agent.id)))
        first = next_manifests(s, agents, NOW, POLICY)
    assert [m.revision for m in first if m is not None] == [1, 1, 1, 1]
    book(session_factory, seed, NOW + timedelta(hours=1), agent_ids=[seed.agent_ids[1]])
    with transaction(session_factory) as s:
        agents = list(s.scalars(select(Agent).where(Agent.id.in_(seed.agent_ids)).order_by(Agent.id)))
        second = next_manifests(s, agents, NOW, POLICY)
        forced = next_manifests(s, agents, NOW, POLICY, force=True)
    assert [m is not None for m in second] == [False, True, False, False]
    assert second[1] is not None and second[1].revision == 2 and len(second[1].plays) == 1
    assert [m.revision for m in forced if m is not None] == [2, 3, 2, 2]


@pytest.mark.parametrize("chunk", [2, 500])
def test_refresh_publishes_each_changed_manifest_once_signed_and_retained(
    session_factory: sessionmaker[Session], seed: Seed, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(publisher_module, "REFRESH_CHUNK", chunk)
    key = generate_private_key()
    topics = Topics("t-manifests/loa/v1")
    bus = RecordingBus()
    publisher = ManifestPublisher(session_factory, bus, Signer(key), topics, POLICY, ManualClock(NOW))  # type: ignore[arg-type]
    book(session_factory, seed, NOW + timedelta(hours=2))

    assert publisher.refresh(force=True) == 5
    assert publisher.refresh() == 0
    assert publisher.refresh([*seed.agent_ids, seed.agent_ids[0]], force=True) == 4

    assert [t for t, _, _ in bus.published[:5]] == [topics.manifest(a) for a in [*seed.agent_ids, "cum-other"]]
    assert all(retain for _, _, retain in bus.published)
    for topic, payload, _ in bus.published:
        agent_id = topic.split("/")[-2]
        manifest = Verifier(key.verify_key, agent_id).verify(topic, payload, NOW)
        assert isinstance(manifest, ScheduleManifest)
        assert len(manifest.plays) == (0 if agent_id == "cum-other" else 1)
