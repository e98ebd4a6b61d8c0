"""Reports that cannot be true are refused, kept as security events, and never change the quarterly report.

The issue's finding: a hand-written confirmation claimed 10,800 s played for a 13 s bulletin, ending two hours
before its booked start, and the quarter went from 0.66 to 180.66 minutes. A state dated 2099 pinned an agent
offline for good.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from common.clock import ManualClock
from controller.background.ingest import Ingestor
from controller.db.models import Agent, Play, SecurityEventRecord
from controller.db.session import transaction
from controller.db.status import PlayStatus
from controller.reports.quarterly import quarterly_report
from controller.reports.today import today_overview
from controller.schemas import ScheduleCreate
from controller.services.confirmations import ingest
from controller.services.schedules import create_schedule
from protocol import AgentState, AgentStatus, Confirmation, Telemetry, Topics
from protocol import PlayEvent as Event
from protocol.messages import AgentMessage
from tests.controller.conftest import Seed

NOW = datetime(2026, 5, 27, 9, 0, tzinfo=UTC)
START = NOW + timedelta(hours=1)
AFTER = START + timedelta(minutes=10)
AUDIO_S = 240.0  # the seeded bulletin's length


def book(factory: sessionmaker[Session], seed: Seed) -> str:
    with transaction(factory) as s:
        data = ScheduleCreate(
            bulletin_id=seed.bulletin_id, commune_id=seed.commune_id, starts_at=START, agent_ids=["cum-0"]
        )
        _, plays = create_schedule(s, data, NOW)
        return plays[0].id


def finished(play_id: str, *, started: datetime = START, played: float = AUDIO_S, **extra: object) -> Confirmation:
    fields: dict[str, object] = {
        "agent_id": "cum-0",
        "at": started + timedelta(seconds=played),
        "play_id": play_id,
        "event": Event.FINISHED,
        "started_at": started,
        "ended_at": started + timedelta(seconds=played),
        "duration_played_s": played,
    }
    fields.update(extra)
    return Confirmation(**fields)  # type: ignore[arg-type]


def feed(factory: sessionmaker[Session], msg: AgentMessage, now: datetime = AFTER) -> int:
    """Ingest one message at `now`; return how many reports were refused."""
    with transaction(factory) as s:
        return ingest(s, [(msg.agent_id, msg)], now).refused


def confirmed_minutes(factory: sessionmaker[Session]) -> float:
    with factory() as s:
        report = quarterly_report(s, 2026, 2, "Asia/Ho_Chi_Minh")
    return sum(r.confirmed_minutes for r in report.rows)


def security_reasons(factory: sessionmaker[Session]) -> list[str]:
    with factory() as s:
        return [e.reason for e in s.scalars(select(SecurityEventRecord).order_by(SecurityEventRecord.id))]


@pytest.mark.parametrize(
    ("reason", "changes"),
    [
        ("implausible", {"played": 10_800.0, "at": AFTER}),  # 10,800 s for 240 s of audio
        ("implausible", {"started": START - timedelta(hours=2)}),  # before its booked start
        ("implausible", {"started": AFTER + timedelta(hours=1), "at": AFTER}),  # started after it was received
        ("future-dated", {"at": AFTER + timedelta(days=1)}),
        ("implausible", {"ended_at": START - timedelta(seconds=5)}),  # ended before it started
        ("implausible", {"ended_at": START + timedelta(seconds=10)}),  # 240 s played in 10 s
        ("implausible", {"ended_at": datetime(2099, 1, 1, tzinfo=UTC)}),
        ("implausible", {"resumed_after": "p" * 16, "preempted_played_s": 9_999.0}),  # heard before preemption
    ],
)
def test_implausible_confirmations_are_refused_and_never_counted(
    session_factory: sessionmaker[Session], seed: Seed, reason: str, changes: dict[str, Any]
) -> None:
    play_id = book(session_factory, seed)
    assert feed(session_factory, finished(play_id, **changes)) == 1
    assert confirmed_minutes(session_factory) == 0.0
    assert security_reasons(session_factory) == [reason]
    with session_factory() as s:
        assert s.get_one(Play, play_id).status == PlayStatus.PLANNED
    # The genuine confirmation that follows still counts.
    assert feed(session_factory, finished(play_id)) == 0
    assert confirmed_minutes(session_factory) == pytest.approx(AUDIO_S / 60, abs=0.01)


def test_a_play_within_the_tolerances_counts(session_factory: sessionmaker[Session], seed: Seed) -> None:
    play_id = book(session_factory, seed)
    # A second late by the agent's clock, and the player's start-up adding a second to the length.
    late = finished(play_id, started=START + timedelta(seconds=1), played=AUDIO_S + 1)
    assert feed(session_factory, late) == 0
    assert confirmed_minutes(session_factory) == pytest.approx((AUDIO_S + 1) / 60, abs=0.01)
    assert security_reasons(session_factory) == []


def test_an_event_out_of_order_is_refused(session_factory: sessionmaker[Session], seed: Seed) -> None:
    play_id = book(session_factory, seed)
    started = Confirmation(
        agent_id="cum-0", at=START + timedelta(minutes=5), play_id=play_id, event=Event.STARTED, started_at=START
    )
    assert feed(session_factory, started) == 0
    # Finished, it claims, a quarter of an hour before the start already stored.
    early = START - timedelta(minutes=3)
    assert feed(session_factory, finished(play_id, started=early, played=60.0)) == 1
    assert security_reasons(session_factory) == ["out-of-order"]
    assert confirmed_minutes(session_factory) == 0.0


def test_the_dashboard_shows_the_refusal(session_factory: sessionmaker[Session], seed: Seed) -> None:
    play_id = book(session_factory, seed)
    feed(session_factory, finished(play_id, played=10_800.0, at=AFTER))
    with session_factory() as s:
        page = today_overview(s, AFTER, "Asia/Ho_Chi_Minh", commune_id=seed.commune_id)
    texts = [a.message_vi for a in page.alerts if a.kind == "security"]
    assert texts == ["Cụm loa cum-0 có báo cáo bị từ chối (số liệu không thể đúng)."]


def test_a_state_from_2099_is_refused_and_cannot_pin_the_agent(
    session_factory: sessionmaker[Session], seed: Seed
) -> None:
    future = AgentState(agent_id="cum-1", at=datetime(2099, 1, 1, tzinfo=UTC), status=AgentStatus.OFFLINE)
    assert feed(session_factory, future) == 1
    online = AgentState(agent_id="cum-1", at=AFTER, status=AgentStatus.ONLINE)
    assert feed(session_factory, online, AFTER + timedelta(seconds=1)) == 0
    with session_factory() as s:
        agent = s.get_one(Agent, "cum-1")
        assert (agent.status, agent.state_at) == ("online", AFTER)
    assert security_reasons(session_factory) == ["future-dated"]


def test_a_future_state_stored_earlier_no_longer_pins_the_agent(
    session_factory: sessionmaker[Session], seed: Seed
) -> None:
    with transaction(session_factory) as s:  # as a controller before this fix would have stored it
        agent = s.get_one(Agent, "cum-2")
        agent.status, agent.state_at = "offline", datetime(2099, 1, 1, tzinfo=UTC)
    feed(session_factory, AgentState(agent_id="cum-2", at=AFTER, status=AgentStatus.ONLINE))
    with session_factory() as s:
        assert s.get_one(Agent, "cum-2").status == "online"


def test_future_telemetry_is_refused(session_factory: sessionmaker[Session], seed: Seed) -> None:
    tele = Telemetry(agent_id="cum-3", at=AFTER + timedelta(hours=3), uptime_s=60, volume=10)
    assert feed(session_factory, tele) == 1
    with session_factory() as s:
        agent = s.get_one(Agent, "cum-3")
        assert (agent.volume, agent.last_seen_at) != (10, AFTER + timedelta(hours=3))
        assert agent.clock_offset_s is None


def test_malformed_reports_become_rate_limited_security_events(
    session_factory: sessionmaker[Session], seed: Seed
) -> None:
    clock = ManualClock(AFTER)
    topics = Topics("t-malformed/loa/v1")
    ingestor = Ingestor(session_factory, topics, clock)
    ingestor.start()
    try:
        deep = 30_000  # under the size limit, over the parser's depth
        for payload in (b'{"kind": ' + b"[" * deep + b"]" * deep + b"}", b"{" * 5000, b"x" * 100_000):
            ingestor.submit(topics.confirmations("cum-0"), payload)
        assert ingestor.wait_idle()
        clock.advance(timedelta(minutes=2))
        ingestor.submit(topics.state("cum-0"), b"not json")
        assert ingestor.wait_idle()
    finally:
        ingestor.stop()
    with session_factory() as s:
        events = list(s.scalars(select(SecurityEventRecord).order_by(SecurityEventRecord.id)))
    # One stored for the flood, the next one a minute on carries the count held back.
    assert [(e.reason, e.topic) for e in events] == [
        ("malformed", "controller:confirmations"),
        ("malformed", "controller:state"),
    ]
    assert "nested too deeply" in events[0].detail
    assert "and 2 more held back" in events[1].detail
    assert ingestor.totals.dropped == 4


@pytest.mark.parametrize("later_state", [PlayStatus.HELD, PlayStatus.CANCELLED])
def test_a_play_confirmed_from_a_stale_schedule_is_flagged_and_counted_apart(
    session_factory: sessionmaker[Session], seed: Seed, later_state: PlayStatus
) -> None:
    play_id = book(session_factory, seed)
    with transaction(session_factory) as s:  # a later manifest revision held or cancelled the booking
        s.get_one(Play, play_id).status = later_state
    assert feed(session_factory, finished(play_id, manifest_revision=2)) == 0
    with session_factory() as s:
        play = s.get_one(Play, play_id)
        assert (play.status, play.stale_schedule) == (PlayStatus.FINISHED, True)
        report = quarterly_report(s, 2026, 2, "Asia/Ho_Chi_Minh")
        page = today_overview(s, AFTER, "Asia/Ho_Chi_Minh", commune_id=seed.commune_id)
    assert (report.total_confirmed_plays, report.total_confirmed_minutes, report.total_stale_plays) == (0, 0.0, 1)
    assert page.done == 0
    assert "Cụm loa cum-0 phát theo lịch cũ “Cảnh giác lừa đảo”." in [a.message_vi for a in page.alerts]
