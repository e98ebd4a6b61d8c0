"""Report summaries count agents' `finished` confirmations per commune, topic and cluster, for any period."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session, sessionmaker

from controller.db.models import AudioAsset, Bulletin, Emergency, Play, PlayEvent
from controller.db.session import transaction
from controller.errors import InvalidInput
from controller.reports.export import content_disposition, summary_csv, summary_file_name, summary_xlsx
from controller.reports.periods import Period, PeriodKind, period_or_current
from controller.reports.quarterly import broadcast_log, quarterly_report
from controller.reports.summary import Dimension, summarize
from tests.controller.conftest import Seed

TZ = "Asia/Ho_Chi_Minh"
HCM = ZoneInfo(TZ)
# 16:00 on 27 May 2026 in Hồ Chí Minh: Q2, first half.
MAY = datetime(2026, 5, 27, 9, 0, tzinfo=UTC)


def add_play(
    s: Session,
    seed: Seed,
    agent_id: str,
    at: datetime,
    *,
    bulletin_id: str | None = None,
    status: str = "planned",
    played_s: float | None = None,
) -> str:
    """A play; with `played_s`, also the agent's `finished` confirmation."""
    bulletin = bulletin_id or seed.bulletin_id
    asset = s.get_one(Bulletin, bulletin).audio_asset_id or seed.asset_id
    play = Play(
        id=uuid.uuid4().hex,
        agent_id=agent_id,
        bulletin_id=bulletin,
        audio_asset_id=asset,
        starts_at=at,
        status="finished" if played_s is not None else status,
        duration_played_s=played_s,
    )
    s.add(play)
    s.flush()
    if played_s is not None:
        s.add(
            PlayEvent(
                msg_id=uuid.uuid4().hex,
                play_id=play.id,
                agent_id=agent_id,
                event="finished",
                at=at + timedelta(seconds=played_s),
                started_at=at,
                ended_at=at + timedelta(seconds=played_s),
                duration_played_s=played_s,
            )
        )
        s.flush()
    return play.id


def second_bulletin(s: Session, seed: Seed, topic: str = "giao-thong-pccc") -> str:
    b = Bulletin(
        id=f"b-{topic}",
        commune_id=seed.commune_id,
        title="Phòng cháy",
        topic=topic,
        body="Nội dung.",
        status="approved",
    )
    s.add(b)
    s.flush()
    a = AudioAsset(bulletin_id=b.id, sha256="cd" * 32, size_bytes=1, duration_s=180.0, engine="espeak-ng", voice="vi")
    s.add(a)
    s.flush()
    b.audio_asset_id = a.id
    return b.id


@pytest.fixture
def history(session_factory: sessionmaker[Session], seed: Seed) -> Seed:
    """Q2 2026 in the first commune: 6 plays planned, 4 confirmed, 1 missed, 1 cancelled; one play in Q3."""
    with transaction(session_factory) as s:
        other = second_bulletin(s, seed)
        a0, a1, a2, a3 = seed.agent_ids
        add_play(s, seed, a0, MAY, played_s=240.0)
        add_play(s, seed, a1, MAY, played_s=240.0)
        add_play(s, seed, a2, MAY, played_s=120.0)  # cut short, still a confirmed play
        add_play(s, seed, a3, MAY, status="missed")
        add_play(s, seed, a0, MAY + timedelta(days=1), bulletin_id=other, played_s=180.0)
        add_play(s, seed, a1, MAY + timedelta(days=1), bulletin_id=other, status="planned")
        add_play(s, seed, a1, MAY + timedelta(days=2), status="cancelled")
        add_play(s, seed, a0, datetime(2026, 7, 2, 1, 0, tzinfo=UTC), played_s=240.0)
        # A play whose 'finished' status came without a confirmation row must not count.
        add_play(s, seed, a3, MAY + timedelta(days=3), status="finished")
    return seed


def test_periods_are_bounded_at_local_midnight() -> None:
    start, end = Period(PeriodKind.HALF, 2026, 2).bounds(HCM)
    assert start == datetime(2026, 6, 30, 17, 0, tzinfo=UTC)
    assert end == datetime(2026, 12, 31, 17, 0, tzinfo=UTC)
    assert Period(PeriodKind.YEAR, 2026).bounds(HCM)[1] == datetime(2026, 12, 31, 17, 0, tzinfo=UTC)
    assert Period.quarter(2026, 4).bounds(HCM)[1] == datetime(2026, 12, 31, 17, 0, tzinfo=UTC)
    # 23:30 on 30 June local is Q2; an hour later it is 1 July local (H2) though still 30 June in UTC.
    late = datetime(2026, 6, 30, 16, 30, tzinfo=UTC)
    assert Period.containing(late, PeriodKind.QUARTER, HCM) == Period.quarter(2026, 2)
    assert Period.containing(late + timedelta(hours=1), PeriodKind.HALF, HCM) == Period(PeriodKind.HALF, 2026, 2)
    assert Period(PeriodKind.HALF, 2026, 1).label_vi == "6 tháng đầu năm 2026"
    assert Period.quarter(2026, 3).label_vi == "Quý III năm 2026"
    assert period_or_current(None, None, None, MAY, HCM) == Period.quarter(2026, 2)
    assert period_or_current("year", 2025, None, MAY, HCM) == Period(PeriodKind.YEAR, 2025)


@pytest.mark.parametrize(("kind", "index"), [(PeriodKind.QUARTER, 5), (PeriodKind.HALF, 3), (PeriodKind.YEAR, 2)])
def test_out_of_range_periods_are_refused_in_vietnamese(kind: PeriodKind, index: int) -> None:
    with pytest.raises(InvalidInput) as info:
        Period(kind, 2026, index)
    assert info.value.message_vi.endswith(".")
    with pytest.raises(InvalidInput):
        period_or_current("month", None, None, MAY, HCM)


def test_commune_rows_count_confirmations_not_the_plan(session_factory: sessionmaker[Session], history: Seed) -> None:
    with session_factory() as s:
        report = summarize(s, Period.quarter(2026, 2), TZ, Dimension.COMMUNE)
    first, other = report.rows
    assert (first.commune_id, other.commune_id) == (history.commune_id, history.other_commune_id)
    assert (first.planned_plays, first.confirmed_plays, first.bulletins_broadcast) == (7, 4, 2)
    assert first.confirmed_minutes == pytest.approx((240 + 240 + 120 + 180) / 60, abs=0.01)
    assert first.completion_rate == pytest.approx(57.1)
    # The commune that broadcast nothing is listed, with zeros.
    assert (other.planned_plays, other.confirmed_plays, other.completion_rate) == (0, 0, 0.0)
    assert report.total.confirmed_plays == 4
    assert report.total.bulletins_broadcast == 2


def test_topic_and_cluster_rows_and_drill_down(session_factory: sessionmaker[Session], history: Seed) -> None:
    with session_factory() as s:
        period = Period.quarter(2026, 2)
        topics = summarize(s, period, TZ, Dimension.TOPIC, commune_id=history.commune_id)
        clusters = summarize(s, period, TZ, Dimension.CLUSTER, commune_id=history.commune_id)
        one = summarize(s, period, TZ, Dimension.TOPIC, agent_id="cum-0")
    assert [(r.key, r.confirmed_plays, r.planned_plays) for r in topics.rows] == [
        ("an-ninh-mang", 3, 5),
        ("giao-thong-pccc", 1, 2),
    ]
    assert topics.rows[0].label.startswith("An ninh mạng")
    assert [(r.key, r.confirmed_plays) for r in clusters.rows] == [
        ("cum-0", 2),
        ("cum-2", 1),
        ("cum-1", 1),
        ("cum-3", 0),
    ]
    assert {r.village_name for r in clusters.rows} == {"Thôn 1", "Thôn 2"}
    assert one.scope_label == "Cụm loa cum-0"
    assert one.total.confirmed_plays == 2


def test_half_year_and_year_roll_up_the_quarters(session_factory: sessionmaker[Session], history: Seed) -> None:
    with session_factory() as s:
        h1 = summarize(s, Period(PeriodKind.HALF, 2026, 1), TZ, Dimension.COMMUNE)
        h2 = summarize(s, Period(PeriodKind.HALF, 2026, 2), TZ, Dimension.COMMUNE)
        year = summarize(s, Period(PeriodKind.YEAR, 2026), TZ, Dimension.COMMUNE)
    assert (h1.total.confirmed_plays, h2.total.confirmed_plays, year.total.confirmed_plays) == (4, 1, 5)
    assert year.period_label == "Năm 2026"


def test_visible_communes_limit_every_view(session_factory: sessionmaker[Session], history: Seed) -> None:
    period = Period.quarter(2026, 2)
    with session_factory() as s:
        other_only = summarize(s, period, TZ, Dimension.COMMUNE, visible_communes=[history.other_commune_id])
        clusters = summarize(s, period, TZ, Dimension.CLUSTER, visible_communes=[history.other_commune_id])
        quarterly = quarterly_report(s, 2026, 2, TZ, visible_communes=[history.other_commune_id])
        log = broadcast_log(s, MAY - timedelta(days=1), MAY + timedelta(days=5), visible_communes=[])
    assert [r.commune_id for r in other_only.rows] == [history.other_commune_id]
    assert other_only.total.planned_plays == 0
    assert [r.key for r in clusters.rows] == ["cum-other"]
    assert quarterly.rows == []
    assert log == []


def test_broadcast_log_search_matches_vietnamese_text_in_any_case(
    session_factory: sessionmaker[Session], history: Seed
) -> None:
    start, end = MAY - timedelta(days=1), MAY + timedelta(days=5)
    with session_factory() as s:
        found = broadcast_log(s, start, end, text="PHÒNG CHÁY")
        by_village = broadcast_log(s, start, end, text="thôn 2", status="finished")
        by_topic = broadcast_log(s, start, end, topic="an-ninh-mang", agent_id="cum-0")
    assert {e.title for e in found} == {"Phòng cháy"} and len(found) == 2
    assert {e.agent_id for e in by_village} == {"cum-1", "cum-3"}
    assert [e.agent_id for e in by_topic] == ["cum-0"]


def test_csv_and_xlsx_carry_the_same_figures(session_factory: sessionmaker[Session], history: Seed) -> None:
    with session_factory() as s:
        report = summarize(s, Period.quarter(2026, 2), TZ, Dimension.CLUSTER, commune_id=history.commune_id)
    rows = list(csv.reader(io.StringIO(summary_csv(report).lstrip("\ufeff"))))
    assert rows[1][:2] == ["Mã", "Cụm loa"]
    assert rows[2][0] == "cum-0" and rows[2][4:6] == ["2", "2"]
    assert rows[-1][:2] == ["", "Tổng cộng"] and rows[-1][5] == "4"

    sheet = load_workbook(io.BytesIO(summary_xlsx(report))).active
    assert sheet.title == "Theo cụm loa"
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = values.index(["Mã", "Cụm loa", "Xã/phường", "Thôn/tổ", *values[3][4:]])
    body = values[header + 1 :]
    assert [r[0] for r in body] == [r.key for r in report.rows] + [None]  # the total row has no code
    assert body[-1][1] == "Tổng cộng"
    assert body[0][5] == 2 and isinstance(body[0][5], int)
    assert body[-1][5] == report.total.confirmed_plays
    assert body[-1][6] == pytest.approx(report.total.confirmed_minutes)


def test_the_plan_counts_plays_due_by_now_and_shows_later_ones_apart(
    session_factory: sessionmaker[Session], history: Seed
) -> None:
    with session_factory() as s:
        # The morning after MAY: the day-1 plays are due, the day-3 one is still to come.
        report = summarize(s, Period.quarter(2026, 2), TZ, Dimension.COMMUNE, now=MAY + timedelta(days=1, hours=1))
    first = report.rows[0]
    assert (first.planned_plays, first.upcoming_plays, first.confirmed_plays) == (6, 1, 4)
    assert first.completion_rate == pytest.approx(66.7)
    assert first.code == "x1"


def test_a_stopped_emergency_is_not_a_missed_play(session_factory: sessionmaker[Session], history: Seed) -> None:
    with transaction(session_factory) as s:
        emergency = Emergency(
            commune_id=history.commune_id,
            bulletin_id=history.bulletin_id,
            target="{}",
            created_by="canbo",
            created_at=MAY,
            stopped_at=MAY + timedelta(minutes=1),
            stopped_by="canbo",
        )
        s.add(emergency)
        s.flush()
        for agent_id in history.agent_ids[:2]:
            play_id = add_play(s, history, agent_id, MAY, status="downloaded")
            s.get_one(Play, play_id).emergency_id = emergency.id
        stopped = add_play(s, history, history.agent_ids[2], MAY, status="skipped")
        s.get_one(Play, stopped).reason = "stopped"
    with session_factory() as s:
        report = summarize(s, Period.quarter(2026, 2), TZ, Dimension.COMMUNE)
    assert (report.rows[0].planned_plays, report.rows[0].confirmed_plays) == (7, 4)  # as before the emergency


def test_export_file_names_are_vietnamese(session_factory: sessionmaker[Session], history: Seed) -> None:
    with session_factory() as s:
        report = summarize(s, Period.quarter(2026, 2), TZ, Dimension.CLUSTER, commune_id=history.commune_id)
    name = summary_file_name(report, "xlsx")
    assert name == "Báo cáo Quý II năm 2026 - Xã Trung Lộc - theo cụm loa.xlsx"
    header = content_disposition(name)
    assert 'filename="Bao cao Quy II nam 2026 - Xa Trung Loc - theo cum loa.xlsx"' in header
    assert "filename*=UTF-8''B%C3%A1o%20c%C3%A1o" in header
