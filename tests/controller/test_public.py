"""The public side's services on SQLite and PostgreSQL: visibility, reach, questions and the forms' figures."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from controller.db.models import (
    Bulletin,
    CitizenQuestion,
    Commune,
    Play,
    PlayEvent,
    PublicHold,
    PublicRefusal,
    ReachCount,
    ReachSalt,
    ReachSeen,
)
from controller.db.session import transaction
from controller.errors import InvalidInput
from controller.reports import forms
from controller.reports import public as listing
from controller.reports.periods import Period, PeriodKind
from controller.reports.summary import Dimension, summarize
from controller.services import public, questions
from controller.services.access import Actor
from tests.controller.conftest import Seed

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 5, 20, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam, Q2 and H1 2026
ADMIN = Actor.system()


def _play(s: Session, seed: Seed, at: datetime, *, agent: int = 0, finished: bool = True) -> Play:
    play = Play(
        id=uuid.uuid4().hex,
        agent_id=seed.agent_ids[agent],
        bulletin_id=seed.bulletin_id,
        audio_asset_id=seed.asset_id,
        starts_at=at,
        status="finished" if finished else "planned",
    )
    s.add(play)
    s.flush()
    if finished:
        s.add(
            PlayEvent(
                msg_id=uuid.uuid4().hex,
                play_id=play.id,
                agent_id=play.agent_id,
                event="finished",
                at=at + timedelta(seconds=240),
                duration_played_s=240.0,
            )
        )
    return play


def _commune(s: Session, seed: Seed) -> Commune:
    commune = s.get(Commune, seed.commune_id)
    assert commune is not None
    return commune


def test_a_bulletin_is_public_after_approval_and_a_confirmed_play_and_not_while_held(
    session_factory: sessionmaker[Session], seed: Seed
) -> None:
    with transaction(session_factory) as s:
        assert listing.list_public(s, _commune(s, seed), TZ) == []  # approved, but never played
        _play(s, seed, NOW - timedelta(days=1), finished=False)
        assert listing.list_public(s, _commune(s, seed), TZ) == []  # planned only
        _play(s, seed, NOW - timedelta(days=1), agent=1)
    with transaction(session_factory) as s:
        items = listing.list_public(s, _commune(s, seed), TZ)
        assert [i.id for i in items] == [seed.bulletin_id]
        assert items[0].broadcasts == [(NOW - timedelta(days=1)).replace(second=0)]
        other = s.get(Commune, seed.other_commune_id)
        assert other is not None and listing.list_public(s, other, TZ) == []  # played in the first commune only
        assert listing.list_public(s, _commune(s, seed), TZ, topic="dat-dai") == []
        assert len(listing.list_public(s, _commune(s, seed), TZ, month=(2026, 5))) == 1
        assert listing.list_public(s, _commune(s, seed), TZ, month=(2026, 4)) == []
        public.hold_back(s, ADMIN, seed.bulletin_id, "sai số liệu")
    with transaction(session_factory) as s:
        assert listing.list_public(s, _commune(s, seed), TZ) == []
        with pytest.raises(Exception, match="not found"):
            listing.get_public(s, _commune(s, seed), seed.bulletin_id)
        public.release(s, ADMIN, seed.bulletin_id)
    with transaction(session_factory) as s:
        assert len(listing.list_public(s, _commune(s, seed), TZ)) == 1
        bulletin = s.get(Bulletin, seed.bulletin_id)
        assert bulletin is not None
        bulletin.status = "draft"  # withdrawn for editing
    with transaction(session_factory) as s:
        assert listing.list_public(s, _commune(s, seed), TZ) == []


def test_the_reach_counter_counts_a_visitor_once_a_day_and_keeps_no_address(
    session_factory: sessionmaker[Session], seed: Seed
) -> None:
    visitor = "203.0.113.7\0Mozilla/5.0 (Android)"
    with transaction(session_factory) as s:
        assert public.count_reach(s, seed.bulletin_id, "view", visitor, now=NOW, tz=TZ)
        assert not public.count_reach(s, seed.bulletin_id, "view", visitor, now=NOW + timedelta(hours=2), tz=TZ)
        assert public.count_reach(s, seed.bulletin_id, "listen", visitor, now=NOW, tz=TZ)
        assert public.count_reach(s, seed.bulletin_id, "view", "198.51.100.2\0Firefox", now=NOW, tz=TZ)
    with transaction(session_factory) as s:
        counts = {(r.day, r.kind): r.count for r in s.scalars(select(ReachCount))}
        assert counts == {("2026-05-20", "view"): 2, ("2026-05-20", "listen"): 1}
        # Nothing stored anywhere holds the address.
        for table in (ReachCount.__table__, ReachSeen.__table__, ReachSalt.__table__, PublicRefusal.__table__):
            for row in s.execute(select(table)):
                assert all("203.0.113.7" not in str(value) for value in row)
        old_salt = s.scalar(select(ReachSalt.salt))
    with transaction(session_factory) as s:  # the next day: counted again, yesterday's salt and hashes gone
        assert public.count_reach(s, seed.bulletin_id, "view", visitor, now=NOW + timedelta(days=1), tz=TZ)
    with transaction(session_factory) as s:
        assert s.scalars(select(ReachSalt.salt)).all() != [old_salt]
        assert set(s.scalars(select(ReachSeen.day))) == {"2026-05-21"}
        assert listing.reach_totals(s, "2026-05-01", "2026-06-01")[seed.bulletin_id] == {"view": 3, "listen": 1}


def test_a_question_with_markup_is_stored_as_plain_text(session_factory: sessionmaker[Session], seed: Seed) -> None:
    text = "<script>alert('x')</script> Đất\x00 nhà <b>tôi</b>?"
    with transaction(session_factory) as s:
        q = questions.ask(s, _commune(s, seed), questions.QuestionIn(body=text, name="<i>An</i>"), now=NOW, tz=TZ)
        assert q is not None
        qid = q.id
    with transaction(session_factory) as s:
        row = s.get(CitizenQuestion, qid)
        assert row is not None
        assert row.body == "<script>alert('x')</script> Đất nhà <b>tôi</b>?"  # kept as text, escaped on output
        assert row.name == "<i>An</i>"
        with pytest.raises(InvalidInput):
            questions.ask(s, _commune(s, seed), questions.QuestionIn(body="   "), now=NOW, tz=TZ)
        with pytest.raises(InvalidInput):
            questions.ask(s, _commune(s, seed), questions.QuestionIn(body="a" * 1001), now=NOW, tz=TZ)


def test_floods_are_refused_and_counted_never_stored(session_factory: sessionmaker[Session], seed: Seed) -> None:
    throttle = questions.QuestionThrottle(per_window=3, max_keys=100)
    allowed = [throttle.allow("203.0.113.9", NOW + timedelta(seconds=i)) for i in range(10)]
    assert allowed == [True] * 3 + [False] * 7
    assert throttle.allow("203.0.113.9", NOW + timedelta(hours=1, seconds=1))  # the window moved on
    for i in range(500):  # many addresses: memory stays bounded
        throttle.allow(f"10.0.{i // 250}.{i % 250}", NOW)
    assert len(throttle._hits) == 100
    with transaction(session_factory) as s:
        commune = _commune(s, seed)
        assert questions.ask(s, commune, questions.QuestionIn(body="spam", honeypot="http://x"), now=NOW, tz=TZ) is None
        for _ in range(3):
            questions.ask(s, commune, questions.QuestionIn(body="hỏi"), now=NOW, tz=TZ, daily_cap=3)
        with pytest.raises(questions.Throttled):
            questions.ask(s, commune, questions.QuestionIn(body="hỏi"), now=NOW, tz=TZ, daily_cap=3)
    with transaction(session_factory) as s:
        assert s.scalar(select(func.count(CitizenQuestion.id))) == 3
        refusals = {r.reason: r.count for r in s.scalars(select(PublicRefusal))}
        assert refusals == {"honeypot": 1, "commune-cap": 1}


def test_answers_are_published_only_with_consent(session_factory: sessionmaker[Session], seed: Seed) -> None:
    with transaction(session_factory) as s:
        commune = _commune(s, seed)
        yes = questions.ask(s, commune, questions.QuestionIn(body="Có", consent_publish=True), now=NOW, tz=TZ)
        no = questions.ask(s, commune, questions.QuestionIn(body="Không", name="Bà Ba"), now=NOW, tz=TZ)
        assert yes is not None and no is not None
        questions.answer(s, ADMIN, yes.id, "Trả lời công khai", publish=True, now=NOW)
        questions.answer(s, ADMIN, no.id, "", at_session=True, now=NOW)
        with pytest.raises(InvalidInput):
            questions.set_published(s, ADMIN, no.id, True, now=NOW)
    with transaction(session_factory) as s:
        shown = listing.published(s, seed.commune_id)
        assert [(p.body, p.answer) for p in shown] == [("Có", "Trả lời công khai")]
        start, end = Period(PeriodKind.QUARTER, 2026, 2).bounds(TZ)
        assert listing.question_counts(s, seed.commune_id, start, end) == {
            "received": 2,
            "answered": 2,
            "answered_at_session": 1,
            "published": 1,
        }


@pytest.mark.parametrize("period", [Period(PeriodKind.QUARTER, 2026, 2), Period(PeriodKind.HALF, 2026, 1)])
def test_the_forms_figures_equal_the_reports(
    session_factory: sessionmaker[Session], seed: Seed, period: Period
) -> None:
    with transaction(session_factory) as s:
        for day in (3, 10, 17):  # three days in May on two clusters, one missed, one planned ahead
            _play(s, seed, datetime(2026, 5, day, 22, 30, tzinfo=UTC), agent=0)
            _play(s, seed, datetime(2026, 5, day, 22, 30, tzinfo=UTC), agent=1, finished=day != 17)
        _play(s, seed, datetime(2026, 2, 2, 1, 0, tzinfo=UTC), agent=2)  # Q1: only in the half-year
        _play(s, seed, NOW + timedelta(days=2), agent=0, finished=False)
        public.count_reach(s, seed.bulletin_id, "view", "a", now=NOW, tz=TZ)
        public.count_reach(s, seed.bulletin_id, "listen", "a", now=NOW, tz=TZ)
        questions.ask(s, _commune(s, seed), questions.QuestionIn(body="Hỏi"), now=NOW, tz=TZ)
    tz = "Asia/Ho_Chi_Minh"
    with transaction(session_factory) as s:
        report = summarize(s, period, tz, Dimension.TOPIC, commune_id=seed.commune_id)
        f02 = forms.form02(s, seed.commune_id, period, tz)
        f03 = forms.form03(s, seed.commune_id, period, tz)
        f04 = forms.form04(s, seed.commune_id, period, tz, base_url="http://loa.example")
    assert sum(r.planned_plays for r in f02.rows) == report.total.planned_plays
    assert sum(r.confirmed_plays for r in f02.rows) == report.total.confirmed_plays
    assert f03.total_confirmed_plays == report.total.confirmed_plays
    assert f03.products[0].broadcast_days == (4 if period.kind is PeriodKind.HALF else 3)
    assert (f03.total_views, f03.total_listens, f03.questions.received) == (1, 1, 1)
    assert f04.broadcasts.total == report.total
    assert (f04.total_views, f04.total_listens) == (1, 1)
    assert f04.evidence[0][1] == "http://loa.example/p/x1"
    expected_confirmed = 5 + (1 if period.kind is PeriodKind.HALF else 0)
    assert report.total.confirmed_plays == expected_confirmed


def test_ids_with_control_characters_find_nothing_on_either_backend(
    session_factory: sessionmaker[Session], seed: Seed
) -> None:
    """PostgreSQL refuses NUL in text: such input must come back as "not found", never as a database error."""
    with transaction(session_factory) as s:
        with pytest.raises(Exception, match="not found"):
            listing.get_commune_by_code(s, "x1\x00")
        commune = _commune(s, seed)
        assert listing.list_public(s, commune, TZ, topic="an-ninh-mang\x00") == []
        with pytest.raises(Exception, match="not found"):
            listing.get_public(s, commune, seed.bulletin_id + "\x00")
        with pytest.raises(Exception, match="not found"):
            public.hold_back(s, ADMIN, "b\x00", "")
        public.hold_back(s, ADMIN, seed.bulletin_id, "lý do\x00 <b>x</b>")
        hold = s.get(PublicHold, seed.bulletin_id)
        assert hold is not None and hold.reason == "lý do <b>x</b>"
        q = questions.ask(s, commune, questions.QuestionIn(body="a\x00b", name="c\x00"), now=NOW, tz=TZ)
        assert q is not None and (q.body, q.name) == ("a b", "c")


def test_the_topic_plan_counts_programme_days_per_month(session_factory: sessionmaker[Session], seed: Seed) -> None:
    from controller.db.models import Programme, Slot
    from controller.scheduling.recurrence import Recurrence

    with transaction(session_factory) as s:
        slot = Slot(commune_id=seed.commune_id, name="Sáng", start_time="06:00", length_min=30)
        s.add(slot)
        s.flush()
        mondays_in_may = Recurrence.model_validate(
            {"kind": "days", "weekdays": [0], "start_date": "2026-05-01", "end_date": "2026-06-10"}
        )
        s.add(
            Programme(
                commune_id=seed.commune_id,
                slot_id=slot.id,
                name="Thứ Hai an ninh mạng",
                recurrence=mondays_in_may.model_dump_json(),
                target="{}",
                bulletin_ids=f'["{seed.bulletin_id}"]',
            )
        )
    with transaction(session_factory) as s:
        plan = forms.form02(s, seed.commune_id, Period(PeriodKind.QUARTER, 2026, 2), "Asia/Ho_Chi_Minh")
    by_month = {r.month: r for r in plan.rows}
    assert by_month["2026-05"].scheduled_sessions == 4  # 4, 11, 18, 25 May
    assert by_month["2026-06"].scheduled_sessions == 2  # 1 and 8 June
    assert by_month["2026-05"].programmes == ["Thứ Hai an ninh mạng"]
    assert by_month["2026-05"].planned_plays == 0  # nothing expanded onto clusters in this test
    assert "2026-04" not in by_month


def test_a_flood_of_fake_visitors_stops_at_the_daily_cap(session_factory: sessionmaker[Session], seed: Seed) -> None:
    with transaction(session_factory) as s:
        counted = [
            public.count_reach(s, seed.bulletin_id, "view", f"bot-{i}", now=NOW, tz=TZ, daily_cap=5) for i in range(9)
        ]
    assert counted == [True] * 5 + [False] * 4
    with transaction(session_factory) as s:
        assert s.scalar(select(func.count()).select_from(ReachSeen)) == 5
        assert s.scalar(select(ReachCount.count)) == 5
        assert {r.reason: r.count for r in s.scalars(select(PublicRefusal))} == {"reach-cap": 4}


def test_the_public_operations_own_their_transaction_and_keep_refusals_counted(
    session_factory: sessionmaker[Session], seed: Seed, tmp_path: Path
) -> None:
    from common.clock import ManualClock
    from controller.audio import MediaStore
    from controller.config import Settings
    from controller.db.models import AuditEvent
    from controller.services import public_actions
    from controller.services.context import Context
    from tests.controller.test_operations import RecordingDispatcher

    ctx = Context(
        session_factory=session_factory,
        clock=ManualClock(NOW),
        settings=Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'unused.db'}"),
        dispatcher=RecordingDispatcher(session_factory),
        store=MediaStore(tmp_path / "media"),
        confirm_secret=b"s" * 32,
    )
    throttle = questions.QuestionThrottle(per_window=1)
    asked = public_actions.ask(
        ctx, seed.commune_id, questions.QuestionIn(body="Hỏi", consent_publish=True), address="a", throttle=throttle
    )
    assert asked is not None
    with pytest.raises(questions.Throttled):
        public_actions.ask(ctx, seed.commune_id, questions.QuestionIn(body="Lại"), address="a", throttle=throttle)
    answered = public_actions.answer(ctx, asked.id, ADMIN, "Đáp", publish=True)
    assert answered.published
    assert public_actions.hold_back(ctx, seed.bulletin_id, ADMIN, "tạm") == seed.commune_id
    with transaction(session_factory) as s:
        assert s.scalar(select(func.count(CitizenQuestion.id))) == 1
        assert {r.reason: r.count for r in s.scalars(select(PublicRefusal))} == {"flood": 1}
        actions = set(s.scalars(select(AuditEvent.action)))
        assert {"answer", "publish", "public-hold"} <= actions
