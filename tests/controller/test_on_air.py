"""What a cluster plays now follows its confirmations: on air at the start, off at the end or preemption,
and late telemetry naming an ended play does not put it back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from controller.db.models import Agent, Play
from controller.db.session import transaction
from controller.reports.fleet import cluster_statuses
from controller.services.confirmations import ingest
from protocol import AgentState, AgentStatus, Telemetry
from protocol.messages import AgentMessage, Confirmation, PlayEvent
from tests.controller.conftest import Seed

T0 = datetime(2026, 5, 27, 9, 0, tzinfo=UTC)


def _play(factory: sessionmaker[Session], seed: Seed, agent_id: str) -> str:
    with transaction(factory) as s:
        play = Play(
            id=uuid.uuid4().hex,
            agent_id=agent_id,
            bulletin_id=seed.bulletin_id,
            audio_asset_id=seed.asset_id,
            starts_at=T0,
            status="planned",
        )
        s.add(play)
        return play.id


def _feed(factory: sessionmaker[Session], *messages: AgentMessage) -> str | None:
    for msg in messages:
        with transaction(factory) as s:
            ingest(s, [(msg.agent_id, msg)], msg.at + timedelta(seconds=1))
    with factory() as s:
        return s.get_one(Agent, messages[0].agent_id).current_play_id


def _event(agent_id: str, play_id: str, event: PlayEvent, seconds: int) -> Confirmation:
    return Confirmation(agent_id=agent_id, at=T0 + timedelta(seconds=seconds), play_id=play_id, event=event)


def _on_air(factory: sessionmaker[Session], seed: Seed, agent_id: str) -> str | None:
    with factory() as s:
        return next(c.current_title for c in cluster_statuses(s, commune_id=seed.commune_id) if c.id == agent_id)


def test_a_play_is_on_air_from_its_start_to_its_end(session_factory: sessionmaker[Session], seed: Seed) -> None:
    agent = seed.agent_ids[0]
    play = _play(session_factory, seed, agent)
    online = AgentState(agent_id=agent, at=T0 - timedelta(minutes=1), status=AgentStatus.ONLINE, version="t")
    assert _feed(session_factory, online, _event(agent, play, PlayEvent.STARTED, 0)) == play
    assert _on_air(session_factory, seed, agent) is not None
    assert _feed(session_factory, _event(agent, play, PlayEvent.FINISHED, 200)) is None
    assert _on_air(session_factory, seed, agent) is None
    # Telemetry sent during the play, delivered after its end, does not put it back on air.
    late = Telemetry(agent_id=agent, at=T0 + timedelta(seconds=190), uptime_s=60, volume=80, current_play_id=play)
    assert _feed(session_factory, late) is None


def test_a_preempted_play_gives_the_air_to_the_emergency(session_factory: sessionmaker[Session], seed: Seed) -> None:
    agent = seed.agent_ids[1]
    normal, urgent = _play(session_factory, seed, agent), _play(session_factory, seed, agent)
    online = AgentState(agent_id=agent, at=T0 - timedelta(minutes=1), status=AgentStatus.ONLINE, version="t")
    _feed(session_factory, online, _event(agent, normal, PlayEvent.STARTED, 0))
    # The emergency's start can arrive before the preempted play's end: the end must not clear the emergency.
    assert _feed(session_factory, _event(agent, urgent, PlayEvent.STARTED, 30)) == urgent
    assert _feed(session_factory, _event(agent, normal, PlayEvent.SKIPPED, 30)) == urgent
    # Offline, nothing is shown on air.
    offline = AgentState(agent_id=agent, at=T0 + timedelta(minutes=1), status=AgentStatus.OFFLINE, version="t")
    _feed(session_factory, offline)
    assert _on_air(session_factory, seed, agent) is None
