"""Service operations run without HTTP: each commits, then sends through the dispatcher it is given."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from common.clock import ManualClock
from controller.audio import MediaStore
from controller.config import Settings
from controller.db.models import AuditEvent, Emergency, Play
from controller.db.status import PlayStatus
from controller.errors import InvalidInput
from controller.schemas import EmergencyRequest, StopAllRequest, Target
from controller.services import emergency
from controller.services.access import Actor
from controller.services.context import Context
from controller.services.users import Role
from protocol import SignedMessage
from tests.controller.conftest import Seed

NOW = datetime(2026, 5, 4, 7, 0, tzinfo=UTC)


class RecordingDispatcher:
    """Records what is sent, and what the database held (committed) when it was sent."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self.sent: list[SignedMessage] = []
        self.refreshed: list[set[str]] = []
        self.emergencies_seen: list[int] = []

    def send(self, messages: Iterable[SignedMessage]) -> int:
        batch = list(messages)
        self.sent.extend(batch)
        with self.factory() as s:
            self.emergencies_seen.append(len(s.scalars(select(Emergency)).all()))
        return len(batch)

    def refresh(self, agent_ids: Iterable[str] | None = None, *, force: bool = False) -> int:
        self.refreshed.append(set(agent_ids or ()))
        return 0


@pytest.fixture
def ctx(session_factory: sessionmaker[Session], tmp_path: Path) -> Context:
    return Context(
        session_factory=session_factory,
        clock=ManualClock(NOW),
        settings=Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'unused.db'}"),
        dispatcher=RecordingDispatcher(session_factory),
        store=MediaStore(tmp_path / "media"),
        confirm_secret=b"s" * 32,
    )


def officer(seed: Seed, name: str = "can-bo") -> Actor:
    return Actor(name, Role.OFFICER, seed.commune_id)


def test_emergency_starts_only_with_its_token_and_sends_after_the_commit(ctx: Context, seed: Seed) -> None:
    dispatcher = ctx.dispatcher
    assert isinstance(dispatcher, RecordingDispatcher)
    request = EmergencyRequest(
        commune_id=seed.commune_id, bulletin_id=seed.bulletin_id, target=Target(village_ids=[seed.village_ids[0]])
    )
    preview = emergency.preview(ctx, request, officer(seed))
    assert preview.clusters == ["cum-0", "cum-2"]
    assert dispatcher.sent == []

    for token, user in ((preview.confirm_token[:-2] + "xx", "can-bo"), ("", "can-bo"), (preview.confirm_token, "khac")):
        with pytest.raises(InvalidInput):
            emergency.start(ctx, token, officer(seed, user))
    assert dispatcher.sent == []

    result, title = emergency.start(ctx, preview.confirm_token, officer(seed))
    assert title == "Cảnh giác lừa đảo"
    assert result.clusters == ["cum-0", "cum-2"]
    assert sorted(m.agent_id for m in dispatcher.sent) == ["cum-0", "cum-2"]
    assert dispatcher.emergencies_seen == [1]  # committed before anything was sent
    assert dispatcher.refreshed == [{"cum-0", "cum-2"}]
    with ctx.session_factory() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.commune_id == seed.commune_id)).all()
    assert "emergency" in actions


def test_stop_everything_cancels_the_emergency_plays_and_stops_every_cluster(ctx: Context, seed: Seed) -> None:
    dispatcher = ctx.dispatcher
    assert isinstance(dispatcher, RecordingDispatcher)
    request = EmergencyRequest(commune_id=seed.commune_id, bulletin_id=seed.bulletin_id, target=Target())
    emergency.start(ctx, emergency.preview(ctx, request, officer(seed)).confirm_token, officer(seed))
    dispatcher.sent.clear()

    result = emergency.stop_everything(ctx, StopAllRequest(commune_id=seed.commune_id), officer(seed))
    assert result.clusters == sorted(seed.agent_ids)
    assert sorted(m.agent_id for m in dispatcher.sent) == sorted(seed.agent_ids)
    with ctx.session_factory() as s:
        statuses = set(s.scalars(select(Play.status).where(Play.emergency_id.is_not(None))))
        (row,) = s.scalars(select(Emergency)).all()
    assert statuses == {PlayStatus.CANCELLED}
    assert row.stopped_by == "can-bo"


def test_a_confirmation_token_expires_after_two_minutes(ctx: Context, seed: Seed) -> None:
    clock = ctx.clock
    assert isinstance(clock, ManualClock)
    request = EmergencyRequest(commune_id=seed.commune_id, bulletin_id=seed.bulletin_id, target=Target())
    token = emergency.preview(ctx, request, officer(seed)).confirm_token
    clock.advance(emergency.CONFIRM_MAX_AGE_S + 1)
    with pytest.raises(InvalidInput) as refused:
        emergency.start(ctx, token, officer(seed))
    assert "hết hạn" in refused.value.message_vi
    with ctx.session_factory() as s:
        assert s.scalars(select(Emergency)).all() == []
