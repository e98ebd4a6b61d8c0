"""Signed commands to clusters: play-now (emergency), stop, volume, test tone. Built here, sent by the publisher."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from controller.db.models import Agent, Play
from controller.errors import NotFound
from controller.services import audit
from controller.services.access import Actor, require_commune
from controller.services.manifests import manifest_play
from protocol.messages import InterruptPolicy, PlayNow, SetVolume, SignedMessage, Stop, TestTone

VALIDITY = timedelta(minutes=10)
"""Commands expire quickly: an agent that comes back later must not act on an old order."""


def play_now(plays: Iterable[Play], media_base_url: str, now: datetime, interrupted: str) -> list[SignedMessage]:
    policy = InterruptPolicy(interrupted)
    return [
        PlayNow(
            agent_id=p.agent_id,
            issued_at=now,
            expires_at=now + VALIDITY,
            play=manifest_play(p, media_base_url, policy),
        )
        for p in plays
    ]


def stop(agent_ids: Iterable[str], now: datetime) -> list[SignedMessage]:
    """Stop whatever plays, on every listed cluster: the kill switch's message."""
    return [Stop(agent_id=a, issued_at=now, expires_at=now + VALIDITY) for a in agent_ids]


def _agent_for(session: Session, actor: Actor, agent_id: str) -> Agent:
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise NotFound(f"agent {agent_id} not found", "Không tìm thấy cụm loa.")
    require_commune(session, actor, agent.commune_id, write=True)
    return agent


def set_volume(session: Session, actor: Actor, agent_id: str, volume: int, now: datetime) -> SignedMessage:
    agent = _agent_for(session, actor, agent_id)
    audit.record(session, actor, "set-volume", "agent", agent.id, commune_id=agent.commune_id, detail=str(volume))
    return SetVolume(agent_id=agent.id, issued_at=now, expires_at=now + VALIDITY, volume=volume)


def test_tone(session: Session, actor: Actor, agent_id: str, seconds: float, now: datetime) -> SignedMessage:
    agent = _agent_for(session, actor, agent_id)
    audit.record(session, actor, "test-tone", "agent", agent.id, commune_id=agent.commune_id, detail=f"{seconds}s")
    return TestTone(agent_id=agent.id, issued_at=now, expires_at=now + VALIDITY, seconds=seconds)


test_tone.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
