"""Programmes: expansion into plays, conflicts shown before saving, quiet hours, missed plays, the lease."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from controller.db.models import Agent, AudioAsset, Bulletin, Play
from controller.db.session import transaction
from controller.errors import InvalidInput
from controller.scheduling import lease
from controller.scheduling.recurrence import Recurrence
from controller.schemas import (
    GroupCreate,
    IssueKind,
    Origin,
    ProgrammeCreate,
    QuietHours,
    ScheduleCreate,
    SlotCreate,
    Target,
)
from controller.services import programmes
from controller.services.access import Actor
from controller.services.confirmations import ingest
from controller.services.manifests import ManifestPolicy, manifest_plays
from controller.services.missed import mark_missed
from controller.services.schedules import create_schedule
from controller.services.users import Role
from protocol.messages import Confirmation, PlayEvent
from tests.controller.conftest import Seed

NOW = datetime(2026, 5, 30, 5, 0, tzinfo=UTC)  # 12:00 on Saturday 30 May, Asia/Ho_Chi_Minh
HORIZON = timedelta(hours=72)


def officer(seed: Seed) -> Actor:
    return Actor("can-bo", Role.OFFICER, seed.commune_id)


def approved(s: Session, seed: Seed, bid: str, *, seconds: float = 240.0, priority: str = "normal") -> str:
    b = Bulletin(id=bid, commune_id=seed.commune_id, title=bid, topic="dat-dai", body="x", priority=priority)
    b.status = "approved"
    s.add(b)
    s.flush()
    a = AudioAsset(
        bulletin_id=bid, sha256=f"{abs(hash(bid)):064x}"[-64:], size_bytes=1, duration_s=seconds, engine="e", voice="v"
    )
    s.add(a)
    s.flush()
    b.audio_asset_id = a.id
    return bid


def slot(s: Session, seed: Seed, name: str = "Sáng", start: str = "05:30", minutes: int = 30) -> int:
    return programmes.create_slot(
        s, SlotCreate(commune_id=seed.commune_id, name=name, start_time=start, length_min=minutes), officer(seed)
    ).id


def programme(seed: Seed, slot_id: int, bulletins: list[str], **fields: object) -> ProgrammeCreate:
    return ProgrammeCreate.model_validate(
        {"commune_id": seed.commune_id, "slot_id": slot_id, "name": "CT", "bulletin_ids": bulletins, **fields}
    )


def plays(s: Session, **where: object) -> list[Play]:
    stmt = select(Play).order_by(Play.starts_at, Play.agent_id)
    for key, value in where.items():
        stmt = stmt.where(getattr(Play, key) == value)
    return list(s.scalars(stmt))


def test_daily_programme_expands_across_the_month_boundary_idempotently(
    session_factory: sessionmaker[Session], seed: Seed
) -> None:
    with transaction(session_factory) as s:
        b = approved(s, seed, "dat-dai-1")
        sid = slot(s, seed)
        row, changed = programmes.create_programme(s, programme(seed, sid, [b]), officer(seed), NOW, HORIZON)
        assert changed == set(seed.agent_ids)
    with session_factory() as s:
        made = plays(s, programme_id=row.id)
    # 05:30 local on 31/5, 1/6 and 2/6 (the 30/5 slot is already past), four clusters each
    assert sorted({p.starts_at for p in made}) == [
        datetime(2026, 5, 30, 22, 30, tzinfo=UTC),
        datetime(2026, 5, 31, 22, 30, tzinfo=UTC),
        datetime(2026, 6, 1, 22, 30, tzinfo=UTC),
    ]
    assert len(made) == 12 and {(p.slot_end or p.starts_at) - p.starts_at for p in made} == {timedelta(minutes=30)}
    for later in (NOW, NOW + timedelta(minutes=5)):  # a restart, then a periodic run: nothing new
        with transaction(session_factory) as s:
            assert programmes.expand(s, later, HORIZON) == set()
    with session_factory() as s:
        assert [p.id for p in plays(s, programme_id=row.id)] == [p.id for p in made]
    with transaction(session_factory) as s:  # a day later the horizon moves: one more day appears
        assert programmes.expand(s, NOW + timedelta(days=1), HORIZON) == set(seed.agent_ids)
        assert len(plays(s, programme_id=row.id)) == 16


def test_priority_items_play_first_and_items_follow_back_to_back(
    session_factory: sessionmaker[Session], seed: Seed
) -> None:
    with transaction(session_factory) as s:
        normal = approved(s, seed, "thuong", seconds=200)
        urgent = approved(s, seed, "uu-tien", seconds=180, priority="priority")
        sid = slot(s, seed, minutes=15)
        data = programme(seed, sid, [normal, urgent], recurrence={"kind": "dates", "dates": ["2026-05-31"]})
        programmes.create_programme(s, data, officer(seed), NOW, HORIZON)
        order = [(p.bulletin_id, p.starts_at) for p in plays(s, agent_id=seed.agent_ids[0])]
    start = datetime(2026, 5, 30, 22, 30, tzinfo=UTC)
    assert order == [("uu-tien", start), ("thuong", start + timedelta(seconds=182))]


def test_different_clusters_play_different_content_in_one_slot(
    session_factory: sessionmaker[Session], seed: Seed
) -> None:
    with transaction(session_factory) as s:
        a, b = approved(s, seed, "tin-a"), approved(s, seed, "tin-b")
        sid = slot(s, seed)
        for bid, village in ((a, seed.village_ids[0]), (b, seed.village_ids[1])):
            data = programme(seed, sid, [bid], name=bid, target={"village_ids": [village]})
            check = programmes.check_programme(s, data, NOW)
            assert [i.code for i in check.issues if i.kind is not IssueKind.WARNING] == []
            programmes.create_programme(s, data, officer(seed), NOW, HORIZON)
        by_agent = {(p.agent_id, p.bulletin_id) for p in plays(s)}
    with session_factory() as s:
        village_of = {x.id: x.village_id for x in s.scalars(select(Agent))}
    assert {(village_of[agent], bid) for agent, bid in by_agent} == {
        (seed.village_ids[0], "tin-a"),
        (seed.village_ids[1], "tin-b"),
    }


def test_every_conflict_kind_is_shown_and_must_be_acknowledged(
    session_factory: sessionmaker[Session], seed: Seed
) -> None:
    with transaction(session_factory) as s:
        sid = slot(s, seed, minutes=7)
        commune_tin = approved(s, seed, "xa-uu-tien", priority="priority")
        province_tin = approved(s, seed, "tinh-uu-tien", priority="priority")
        first, _ = programmes.create_programme(
            s, programme(seed, sid, [commune_tin], name="Xã"), officer(seed), NOW, HORIZON
        )
        data = programme(seed, sid, [province_tin], name="Tỉnh", origin=Origin.PROVINCE)
        codes = {i.code: i for i in programmes.check_programme(s, data, NOW).issues}
        assert {"overflow", f"overlap:{first.id}", f"priority-clash:{first.id}"} <= set(codes)
        assert "vượt quá 7 phút" in codes["overflow"].message_vi
        assert "Chương trình 'Xã' cũng phát" in codes[f"overlap:{first.id}"].message_vi
        assert "Tin ưu tiên của tỉnh trùng" in codes[f"priority-clash:{first.id}"].message_vi
        with pytest.raises(programmes.ProgrammeRejected) as err:
            programmes.create_programme(
                s, data.model_copy(update={"acknowledged": ["overflow"]}), officer(seed), NOW, HORIZON
            )
        assert {i.code for i in err.value.issues} >= {f"overlap:{first.id}"}
        acknowledged = data.model_copy(update={"acknowledged": list(codes)})
        second, _ = programmes.create_programme(s, acknowledged, officer(seed), NOW, HORIZON)
        # both play, one after the other, on every shared cluster
        sequence = [
            p.programme_id for p in plays(s, agent_id=seed.agent_ids[0]) if p.starts_at.date() == date(2026, 5, 30)
        ]
    assert sequence == [second.id, first.id]  # the province's priority bulletin first, then the commune's


def test_refusals_cannot_be_acknowledged(session_factory: sessionmaker[Session], seed: Seed) -> None:
    with transaction(session_factory) as s:
        sid = slot(s, seed)
        draft = Bulletin(id="nhap", commune_id=seed.commune_id, title="Nháp", topic="dat-dai", body="x")
        s.add(draft)
        s.flush()
        data = programme(seed, sid, ["nhap"], acknowledged=["unapproved:nhap"])
        with pytest.raises(programmes.ProgrammeRejected) as err:
            programmes.create_programme(s, data, officer(seed), NOW, HORIZON)
        assert "chưa được lãnh đạo duyệt" in err.value.message_vi
        assert s.scalar(select(func.count()).select_from(Play)) == 0


def test_quiet_hours_refuse_slots_programmes_and_bookings(session_factory: sessionmaker[Session], seed: Seed) -> None:
    with transaction(session_factory) as s:
        with pytest.raises(InvalidInput) as err:
            slot(s, seed, name="Đêm", start="03:15", minutes=20)  # Trung Lộc, 2025
        assert "giờ yên tĩnh 21:00–05:00" in err.value.message_vi
        with pytest.raises(InvalidInput) as err:
            slot(s, seed, name="Tối", start="20:45", minutes=30)  # runs past 21:00
        bid = approved(s, seed, "tin")
        evening = slot(s, seed, name="Chiều", start="17:00", minutes=30)
        programmes.set_quiet_hours(s, seed.commune_id, QuietHours(start="17:15", end="05:00"), officer(seed))
        data = programme(seed, evening, [bid], acknowledged=["quiet-hours"])
        with pytest.raises(programmes.ProgrammeRejected) as rejected:
            programmes.create_programme(s, data, officer(seed), NOW, HORIZON)
        assert [i.code for i in rejected.value.issues if i.kind is IssueKind.REFUSAL] == ["quiet-hours"]
        at_night = ScheduleCreate(
            bulletin_id=bid, commune_id=seed.commune_id, starts_at=datetime(2026, 5, 30, 20, 15, tzinfo=UTC)
        )
        with pytest.raises(InvalidInput) as err:
            create_schedule(s, at_night, NOW, officer(seed))
        assert "lúc 03:15 ngày 31/05/2026" in err.value.message_vi


def test_sanity_warnings_for_a_first_weekend_and_an_unusual_time(
    session_factory: sessionmaker[Session], seed: Seed
) -> None:
    with transaction(session_factory) as s:
        bid = approved(s, seed, "tin")
        morning, noon = slot(s, seed), slot(s, seed, name="Trưa", start="11:30")
        weekdays = programme(seed, morning, [bid], recurrence={"kind": "weekdays"})
        assert [i.code for i in programmes.check_programme(s, weekdays, NOW).issues] == ["unusual-time"]
        weekend = programme(seed, noon, [bid], recurrence={"kind": "days", "weekdays": [5, 6]})
        codes = [i.code for i in programmes.check_programme(s, weekend, NOW).issues]
    assert codes == ["unusual-time", "first-weekend"]


def test_editing_and_cancelling_a_programme_updates_the_manifests(
    session_factory: sessionmaker[Session], seed: Seed
) -> None:
    policy = ManifestPolicy(horizon=HORIZON, grace=timedelta(minutes=1), media_base_url="http://c")
    agent = seed.agent_ids[0]
    with transaction(session_factory) as s:
        a, b = approved(s, seed, "tin-a"), approved(s, seed, "tin-b")
        sid = slot(s, seed)
        row, _ = programmes.create_programme(s, programme(seed, sid, [a]), officer(seed), NOW, HORIZON)
        assert {p.bulletin_id for p in manifest_plays(s, agent, NOW, policy)} == {"tin-a"}
        _, changed = programmes.update_programme(s, row.id, programme(seed, sid, [b]), officer(seed), NOW, HORIZON)
        assert changed == set(seed.agent_ids)
        assert {p.bulletin_id for p in manifest_plays(s, agent, NOW, policy)} == {"tin-b"}
        assert programmes.cancel_programme(s, row.id, officer(seed), NOW) == set(seed.agent_ids)
        assert manifest_plays(s, agent, NOW, policy) == []
        assert programmes.expand(s, NOW, HORIZON) == set()  # a cancelled programme stays cancelled


def test_unconfirmed_plays_are_missed_with_a_reason_and_a_late_confirmation_still_counts(
    session_factory: sessionmaker[Session], seed: Seed
) -> None:
    with transaction(session_factory) as s:
        bid = approved(s, seed, "tin")
        sid = slot(s, seed)
        programmes.create_programme(
            s,
            programme(seed, sid, [bid], recurrence={"kind": "dates", "dates": ["2026-05-31"]}),
            officer(seed),
            NOW,
            HORIZON,
        )
        start = datetime(2026, 5, 30, 22, 30, tzinfo=UTC)
        online, offline = seed.agent_ids[0], seed.agent_ids[1]
        s.get_one(Agent, online).last_seen_at = start + timedelta(minutes=1)
        s.get_one(Agent, online).status = "online"
        s.get_one(Agent, offline).status = "offline"
        slot_over = start + timedelta(minutes=30)
        assert mark_missed(s, slot_over, timedelta(minutes=10)) == []  # grace not over yet
        missed = {
            p.agent_id: p.reason for p in mark_missed(s, slot_over + timedelta(minutes=11), timedelta(minutes=10))
        }
        assert missed[online] == "not-downloaded" and missed[offline] == "agent-offline" and len(missed) == 4
        assert mark_missed(s, slot_over + timedelta(hours=1), timedelta(minutes=10)) == []  # idempotent
        late = next(p for p in plays(s) if p.agent_id == offline)
        confirmation = Confirmation(
            agent_id=offline,
            at=start + timedelta(minutes=4),
            play_id=late.id,
            event=PlayEvent.FINISHED,
            started_at=start,
            ended_at=start + timedelta(minutes=4),
            duration_played_s=240,
        )
        for _ in range(2):  # the outbox may send it twice
            ingest(s, [(offline, confirmation)], slot_over + timedelta(hours=2))
        assert s.get_one(Play, late.id).status == "finished"


def test_one_scheduler_per_database(session_factory: sessionmaker[Session]) -> None:
    ttl = timedelta(seconds=60)
    lease.acquire(session_factory, "a", NOW, ttl)
    lease.acquire(session_factory, "a", NOW + timedelta(seconds=20), ttl)  # renewal
    with pytest.raises(lease.SchedulerAlreadyRunning):
        lease.acquire(session_factory, "b", NOW + timedelta(seconds=30), ttl)
    lease.acquire(session_factory, "b", NOW + timedelta(seconds=81), ttl)  # a's lease expired: taken over
    with pytest.raises(lease.SchedulerAlreadyRunning):
        lease.acquire(session_factory, "a", NOW + timedelta(seconds=90), ttl)
    lease.release(session_factory, "b")
    lease.acquire(session_factory, "a", NOW + timedelta(seconds=91), ttl)


def test_targets_must_stay_in_the_commune(session_factory: sessionmaker[Session], seed: Seed) -> None:
    with transaction(session_factory) as s:
        with pytest.raises(InvalidInput):
            programmes.target_agent_ids(s, seed.commune_id, Target(agent_ids=["cum-other"]))
        group = programmes.create_group(
            s, GroupCreate(commune_id=seed.commune_id, name="Chợ", agent_ids=seed.agent_ids[:2]), officer(seed)
        )
        assert programmes.target_agent_ids(s, seed.commune_id, Target(group_ids=[group.id])) == set(seed.agent_ids[:2])
        whole = programmes.target_agent_ids(s, seed.commune_id, Target())
        assert whole == set(seed.agent_ids)
        assert Recurrence().matches(date(2026, 6, 1))
