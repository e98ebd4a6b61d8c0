"""An agent's online/offline status follows its newest state message, and a crash's Last Will counts.

The Will is set when a session begins and carries that instant; the agent's online state for the same
session carries the same instant. Telemetry and confirmations sent later must not make the Will look stale,
and a past session's Will, delivered late by the broker, must not take a live agent offline.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.orm import Session, sessionmaker

import controller.db.models  # noqa: F401  (the tables, for the metadata)
from controller.db.base import Base
from controller.db.models import Agent
from controller.db.session import transaction
from controller.services.confirmations import ingest
from protocol import AgentState, AgentStatus, Telemetry
from protocol.messages import AgentMessage
from tests.controller.conftest import Seed

T0 = datetime(2026, 5, 27, 9, 0, tzinfo=UTC)


def state(agent_id: str, status: AgentStatus, at: datetime) -> AgentState:
    return AgentState(agent_id=agent_id, at=at, status=status, version="test")


def telemetry(agent_id: str, at: datetime) -> Telemetry:
    return Telemetry(agent_id=agent_id, at=at, uptime_s=60, volume=80)


def feed(factory: sessionmaker[Session], *messages: AgentMessage) -> str:
    """Ingest the messages in order, each in its own batch as the bus would; return the agent's status."""
    for msg in messages:
        with transaction(factory) as s:
            ingest(s, [(msg.agent_id, msg)], msg.at + timedelta(seconds=1))
    with factory() as s:
        return s.get_one(Agent, messages[0].agent_id).status


def test_a_crashed_agent_goes_offline_by_its_will(session_factory: sessionmaker[Session], seed: Seed) -> None:
    agent = seed.agent_ids[0]
    session = T0
    status = feed(
        session_factory,
        state(agent, AgentStatus.ONLINE, session),
        telemetry(agent, session + timedelta(minutes=5)),
        state(agent, AgentStatus.OFFLINE, session),  # the Will, published by the broker after the crash
    )
    assert status == "offline"


def test_a_past_sessions_will_arriving_late_is_ignored(session_factory: sessionmaker[Session], seed: Seed) -> None:
    agent = seed.agent_ids[1]
    first, second = T0, T0 + timedelta(seconds=40)
    status = feed(
        session_factory,
        state(agent, AgentStatus.ONLINE, first),
        state(agent, AgentStatus.ONLINE, second),  # reconnected: a new session
        state(agent, AgentStatus.OFFLINE, first),  # the first session's Will, delivered on the takeover
    )
    assert status == "online"


def test_a_clean_goodbye_then_a_new_session(session_factory: sessionmaker[Session], seed: Seed) -> None:
    agent = seed.agent_ids[2]
    assert (
        feed(
            session_factory,
            state(agent, AgentStatus.ONLINE, T0),
            state(agent, AgentStatus.OFFLINE, T0 + timedelta(hours=1)),
        )
        == "offline"
    )
    assert feed(session_factory, state(agent, AgentStatus.ONLINE, T0 + timedelta(hours=2))) == "online"


def test_the_migrations_build_exactly_the_models(database_url: str) -> None:
    """Every column the models declare (like `agent.state_at`) has its Alembic migration, on each backend."""
    from controller.db.migrate import upgrade
    from controller.db.session import make_engine

    engine = make_engine(database_url)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    finally:
        engine.dispose()
