"""Confirmations are stored once however often they arrive, and the quarterly report counts only them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from controller.db.models import Play, PlayEvent
from controller.db.session import transaction
from controller.errors import InvalidInput
from controller.reports.quarterly import broadcast_log, quarter_bounds, quarterly_report
from controller.schemas import ScheduleCreate
from controller.services.confirmations import ingest
from controller.services.schedules import create_schedule
from protocol import Confirmation
from protocol import PlayEvent as Event
from tests.controller.conftest import Seed

NOW = datetime(2026, 5, 27, 9, 0, tzinfo=UTC)  # 16:00 in Hồ Chí Minh, Q2 2026
START = NOW + timedelta(hours=1)


def book(factory: sessionmaker[Session], seed: Seed, **target: list[int] | list[str]) -> list[str]:
    with transaction(factory) as s:
        data = ScheduleCreate(bulletin_id=seed.bulletin_id, commune_id=seed.commune_id, starts_at=START, **target)  # type: ignore[arg-type]
        _, plays = create_schedule(s, data, NOW)
        return [p.id for p in plays]


def finished(play_id: str, agent_id: str, msg_id: str | None = None) -> Confirmation:
    confirmation = Confirmation(
        agent_id=agent_id,
        at=START + timedelta(minutes=4),
        play_id=play_id,
        event=Event.FINISHED,
        started_at=START,
        ended_at=START + timedelta(minutes=4),
        duration_played_s=240.0,
    )
    return confirmation if msg_id is None else msgspec.structs.replace(confirmation, msg_id=msg_id)


def agent_of(factory: sessionmaker[Session], play_id: str) -> str:
    with factory() as s:
        return s.get_one(Play, play_id).agent_id


def test_booking_targets_whole_commune_villages_or_clusters(session_factory: sessionmaker[Session], seed: Seed) -> None:
    assert len(book(session_factory, seed)) == 4
    assert len(book(session_factory, seed, village_ids=[seed.village_ids[0]])) == 2
    assert len(book(session_factory, seed, agent_ids=["cum-3"])) == 1


def test_booking_refuses_clusters_of_another_commune(session_factory: sessionmaker[Session], seed: Seed) -> None:
    with pytest.raises(InvalidInput) as info:
        book(session_factory, seed, agent_ids=["cum-other"])
    assert "không thuộc xã" in info.value.message_vi


def test_booking_refuses_the_past(session_factory: sessionmaker[Session], seed: Seed) -> None:
    data = ScheduleCreate(bulletin_id=seed.bulletin_id, commune_id=seed.commune_id, starts_at=NOW - timedelta(hours=1))
    with transaction(session_factory) as s, pytest.raises(InvalidInput) as info:
        create_schedule(s, data, NOW)
    assert "đã qua" in info.value.message_vi


def test_duplicate_confirmations_count_once(session_factory: sessionmaker[Session], seed: Seed) -> None:
    plays = book(session_factory, seed)
    confirmations = [finished(p, agent_of(session_factory, p)) for p in plays]
    batch = [(c.agent_id, c) for c in confirmations]
    with transaction(session_factory) as s:
        first = ingest(s, batch + batch[:2], NOW)  # duplicates inside one batch
    with transaction(session_factory) as s:
        again = ingest(s, batch, NOW)  # redelivery of the whole batch
    # A re-sent confirmation with a new msg_id for the same (play, event) is also a duplicate.
    resent = finished(plays[0], agent_of(session_factory, plays[0]))
    with transaction(session_factory) as s:
        third = ingest(s, [(resent.agent_id, resent)], NOW)
    assert (first.stored, first.duplicates) == (4, 2)
    assert (again.stored, again.duplicates) == (0, 4)
    assert (third.stored, third.duplicates) == (0, 1)
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(PlayEvent)) == 4
        assert {p.status for p in s.scalars(select(Play))} == {"finished"}
    with session_factory() as s:
        report = quarterly_report(s, 2026, 2, "Asia/Ho_Chi_Minh")
    assert report.total_confirmed_plays == 4
    assert report.total_planned_plays == 4
    assert report.rows[0].confirmed_minutes == pytest.approx(16.0)
    assert report.rows[0].bulletins_broadcast == 1


def test_confirmation_from_the_wrong_agent_is_dropped(session_factory: sessionmaker[Session], seed: Seed) -> None:
    plays = book(session_factory, seed, agent_ids=["cum-0"])
    forged = finished(plays[0], "cum-1")  # cum-1 claims cum-0's play
    spoofed_topic = finished(plays[0], "cum-0")
    with transaction(session_factory) as s:
        r1 = ingest(s, [("cum-1", forged)], NOW)
        r2 = ingest(s, [("cum-1", spoofed_topic)], NOW)  # published on another agent's topic
    assert (r1.stored, r1.dropped, r2.stored, r2.dropped) == (0, 1, 0, 1)
    with session_factory() as s:
        assert quarterly_report(s, 2026, 2, "Asia/Ho_Chi_Minh").total_confirmed_plays == 0


def test_unconfirmed_plays_are_planned_not_counted(session_factory: sessionmaker[Session], seed: Seed) -> None:
    plays = book(session_factory, seed)
    started = Confirmation(
        agent_id=agent_of(session_factory, plays[0]), at=START, play_id=plays[0], event=Event.STARTED
    )
    failed = Confirmation(
        agent_id=agent_of(session_factory, plays[1]),
        at=START,
        play_id=plays[1],
        event=Event.FAILED,
        reason="decode error",
    )
    with transaction(session_factory) as s:
        ingest(s, [(started.agent_id, started), (failed.agent_id, failed)], NOW)
    with session_factory() as s:
        report = quarterly_report(s, 2026, 2, "Asia/Ho_Chi_Minh")
        log = broadcast_log(s, NOW, NOW + timedelta(days=1))
    assert (report.total_planned_plays, report.total_confirmed_plays) == (4, 0)
    assert sorted(e.status for e in log) == ["failed", "planned", "planned", "started"]


def test_late_started_never_moves_a_finished_play_back(session_factory: sessionmaker[Session], seed: Seed) -> None:
    plays = book(session_factory, seed, agent_ids=["cum-0"])
    done = finished(plays[0], "cum-0")
    started = Confirmation(agent_id="cum-0", at=START, play_id=plays[0], event=Event.STARTED, started_at=START)
    with transaction(session_factory) as s:
        ingest(s, [("cum-0", done)], NOW)
    with transaction(session_factory) as s:
        ingest(s, [("cum-0", started)], NOW)
    with session_factory() as s:
        assert s.get_one(Play, plays[0]).status == "finished"


@pytest.mark.parametrize(
    ("year", "quarter", "start", "end"),
    [
        (2026, 1, datetime(2025, 12, 31, 17, tzinfo=UTC), datetime(2026, 3, 31, 17, tzinfo=UTC)),
        (2026, 4, datetime(2026, 9, 30, 17, tzinfo=UTC), datetime(2026, 12, 31, 17, tzinfo=UTC)),
    ],
)
def test_quarters_end_at_local_midnight(year: int, quarter: int, start: datetime, end: datetime) -> None:
    from zoneinfo import ZoneInfo

    assert quarter_bounds(year, quarter, ZoneInfo("Asia/Ho_Chi_Minh")) == (start, end)


def test_quarter_out_of_range_is_a_vietnamese_error() -> None:
    from zoneinfo import ZoneInfo

    with pytest.raises(InvalidInput) as info:
        quarter_bounds(2026, 5, ZoneInfo("Asia/Ho_Chi_Minh"))
    assert "Quý" in info.value.message_vi
