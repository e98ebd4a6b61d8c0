"""Protocol v1.2: a keyed agent's reports count only when its own key signed them, and lost ones show as gaps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from common.clock import ManualClock
from controller.background.ingest import Ingestor
from controller.db.models import Play, SecurityEventRecord
from controller.db.session import transaction
from controller.db.status import PlayStatus
from controller.reports.quarterly import quarterly_report
from controller.reports.sequences import missing_confirmations
from controller.reports.today import today_overview
from controller.schemas import ScheduleCreate
from controller.services.enrollment import register_key
from controller.services.schedules import create_schedule
from protocol import Confirmation, PlayEvent, Signer, Topics, encode
from protocol.signing import encode_public_key, generate_private_key
from tests.controller.conftest import Seed

NOW = datetime(2026, 5, 27, 9, 0, tzinfo=UTC)
START = NOW + timedelta(hours=1)
AFTER = START + timedelta(minutes=10)
AGENT = "cum-0"


def book(factory: sessionmaker[Session], seed: Seed, hours: int = 1) -> str:
    with transaction(factory) as s:
        data = ScheduleCreate(
            bulletin_id=seed.bulletin_id,
            commune_id=seed.commune_id,
            starts_at=NOW + timedelta(hours=hours),
            agent_ids=[AGENT],
        )
        _, plays = create_schedule(s, data, NOW)
        return plays[0].id


def finished(play_id: str, seq: int, starts: datetime = START) -> Confirmation:
    return Confirmation(
        agent_id=AGENT,
        at=starts + timedelta(seconds=240),
        play_id=play_id,
        event=PlayEvent.FINISHED,
        started_at=starts,
        ended_at=starts + timedelta(seconds=240),
        duration_played_s=240.0,
        seq=seq,
        manifest_revision=1,
    )


def run(factory: sessionmaker[Session], clock: ManualClock, *items: tuple[str, bytes]) -> Ingestor:
    ingestor = Ingestor(factory, TOPICS, clock)
    ingestor.start()
    try:
        for topic, payload in items:
            ingestor.submit(topic, payload)
        assert ingestor.wait_idle()
    finally:
        ingestor.stop()
    return ingestor


TOPICS = Topics("t-signed/loa/v1")


def statuses(factory: sessionmaker[Session]) -> list[str]:
    with factory() as s:
        return [p.status for p in s.scalars(select(Play).order_by(Play.starts_at))]


def test_a_keyed_agent_s_unsigned_and_forged_reports_are_refused(
    session_factory: sessionmaker[Session], seed: Seed
) -> None:
    key = generate_private_key()
    with transaction(session_factory) as s:
        register_key(s, AGENT, encode_public_key(key.verify_key), NOW)
    play_id = book(session_factory, seed)
    topic = TOPICS.confirmations(AGENT)
    c = finished(play_id, 1)
    clock = ManualClock(AFTER)
    forged = [
        encode(c),  # unsigned
        Signer(generate_private_key()).sign(topic, c),  # the broker's own key
        Signer(key).sign(TOPICS.confirmations("cum-1"), c),  # the agent's key, but for another topic
    ]
    for payload in forged:
        run(session_factory, clock, (topic, payload))
        clock.advance(timedelta(minutes=2))  # past the security-event rate limit
    assert statuses(session_factory) == [PlayStatus.PLANNED]
    with session_factory() as s:
        reasons = [e.reason for e in s.scalars(select(SecurityEventRecord).order_by(SecurityEventRecord.id))]
        assert quarterly_report(s, 2026, 2, "Asia/Ho_Chi_Minh").total_confirmed_plays == 0
    assert reasons == ["unsigned", "unknown-key", "bad-signature"]

    run(session_factory, clock, (topic, Signer(key).sign(topic, c)))  # the genuine one counts
    assert statuses(session_factory) == [PlayStatus.FINISHED]


def test_a_lost_confirmation_shows_as_a_gap_in_the_sequence(session_factory: sessionmaker[Session], seed: Seed) -> None:
    key = generate_private_key()
    with transaction(session_factory) as s:
        register_key(s, AGENT, encode_public_key(key.verify_key), NOW)
    plays = [book(session_factory, seed, hours) for hours in (1, 2, 3, 4)]
    signer = Signer(key)
    topic = TOPICS.confirmations(AGENT)
    # Sequence numbers 1, 2, 4 and 6 arrive; 3 and 5 were lost on the way.
    sent = [(plays[0], 1), (plays[1], 2), (plays[2], 4), (plays[3], 6)]
    items = [(topic, signer.sign(topic, finished(p, n, START + timedelta(hours=i)))) for i, (p, n) in enumerate(sent)]
    run(session_factory, ManualClock(START + timedelta(hours=4)), *items)
    with session_factory() as s:
        assert missing_confirmations(s, [AGENT, "cum-1"]) == {AGENT: [3, 5]}
        page = today_overview(s, START + timedelta(hours=4), "Asia/Ho_Chi_Minh", commune_id=seed.commune_id)
    assert "Cụm loa cum-0 thiếu 2 xác nhận phát (số thứ tự 3, 5)." in [a.message_vi for a in page.alerts]
    assert statuses(session_factory) == [PlayStatus.FINISHED] * 4


def test_an_agent_without_a_key_may_still_report_unsigned(session_factory: sessionmaker[Session], seed: Seed) -> None:
    play_id = book(session_factory, seed)
    topic = TOPICS.confirmations(AGENT)
    run(session_factory, ManualClock(AFTER), (topic, encode(finished(play_id, 1))))
    assert statuses(session_factory) == [PlayStatus.FINISHED]
