"""The approval workflow: only approved bulletins air, edits send them back, every step is audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from controller.db.models import AudioAsset, Bulletin, Play
from controller.db.session import transaction
from controller.errors import Conflict, Forbidden, InvalidInput
from controller.schemas import BulletinCreate, BulletinUpdate, ScheduleCreate
from controller.services import approval, audit
from controller.services.access import Actor
from controller.services.bulletins import create_bulletin, update_bulletin
from controller.services.manifests import ManifestPolicy, manifest_plays
from controller.services.schedules import create_schedule
from controller.services.users import Role
from tests.controller.conftest import Seed

NOW = datetime(2026, 5, 27, 3, 0, tzinfo=UTC)
WINDOW = approval.DurationWindow(180, 300)
POLICY = ManifestPolicy(horizon=timedelta(hours=72), grace=timedelta(minutes=1), media_base_url="http://c")


def officer(seed: Seed) -> Actor:
    return Actor("can-bo", Role.OFFICER, seed.commune_id)


def leader(seed: Seed, commune_id: int | None = None) -> Actor:
    return Actor("chu-tich", Role.LEADER, commune_id or seed.commune_id)


def new_bulletin(
    factory: sessionmaker[Session], seed: Seed, *, seconds: float = 240.0, priority: str = "normal"
) -> str:
    """A draft by the officer, with audio of the given length attached."""
    with transaction(factory) as s:
        data = BulletinCreate.model_validate(
            {"title": "Phòng cháy mùa khô", "topic": "giao-thong-pccc", "body": "Nội dung.", "priority": priority}
        )
        row = create_bulletin(s, data, officer(seed))
        asset = AudioAsset(
            bulletin_id=row.id, sha256="cd" * 32, size_bytes=1000, duration_s=seconds, engine="espeak-ng", voice="vi"
        )
        s.add(asset)
        s.flush()
        row.audio_asset_id = asset.id
        return row.id


def book(factory: sessionmaker[Session], seed: Seed, bulletin_id: str, at: datetime) -> list[Play]:
    with transaction(factory) as s:
        data = ScheduleCreate(bulletin_id=bulletin_id, commune_id=seed.commune_id, starts_at=at)
        return create_schedule(s, data, NOW, officer(seed))[1]


def status(factory: sessionmaker[Session], bulletin_id: str) -> str:
    with factory() as s:
        return s.get_one(Bulletin, bulletin_id).status


def test_a_new_bulletin_is_a_draft_and_cannot_be_booked(session_factory: sessionmaker[Session], seed: Seed) -> None:
    bid = new_bulletin(session_factory, seed)
    assert status(session_factory, bid) == "draft"
    with pytest.raises(InvalidInput) as err:
        book(session_factory, seed, bid, NOW + timedelta(hours=2))
    assert "chưa được lãnh đạo duyệt" in err.value.message_vi
    with transaction(session_factory) as s:
        approval.submit(s, bid, officer(seed), window=WINDOW)
    with pytest.raises(InvalidInput):  # submitted is not approved either
        book(session_factory, seed, bid, NOW + timedelta(hours=2))


def test_only_a_leader_of_the_commune_approves(session_factory: sessionmaker[Session], seed: Seed) -> None:
    bid = new_bulletin(session_factory, seed)
    with transaction(session_factory) as s:
        approval.submit(s, bid, officer(seed), window=WINDOW)
    for who in (officer(seed), leader(seed, seed.other_commune_id), Actor("tinh", Role.PROVINCE, province_id=1)):
        with pytest.raises(Forbidden), transaction(session_factory) as s:
            approval.approve(s, bid, who, NOW)
    with transaction(session_factory) as s:
        approval.approve(s, bid, leader(seed), NOW, "Đồng ý")
    with session_factory() as s:
        row = s.get_one(Bulletin, bid)
        assert (row.status, row.approved_by, row.approved_at) == ("approved", "chu-tich", NOW)
    assert len(book(session_factory, seed, bid, NOW + timedelta(hours=2))) == 4


def test_reject_needs_a_comment_and_the_officer_can_resubmit(
    session_factory: sessionmaker[Session], seed: Seed
) -> None:
    bid = new_bulletin(session_factory, seed)
    with transaction(session_factory) as s:
        approval.submit(s, bid, officer(seed), window=WINDOW)
    with pytest.raises(InvalidInput), transaction(session_factory) as s:
        approval.reject(s, bid, leader(seed), "  ")
    with transaction(session_factory) as s:
        approval.reject(s, bid, leader(seed), "Sửa lại đoạn cuối.")
    with session_factory() as s:
        assert (s.get_one(Bulletin, bid).status, s.get_one(Bulletin, bid).review_comment) == (
            "rejected",
            "Sửa lại đoạn cuối.",
        )
    with pytest.raises(Conflict), transaction(session_factory) as s:
        approval.approve(s, bid, leader(seed), NOW)
    with transaction(session_factory) as s:
        approval.submit(s, bid, officer(seed), window=WINDOW)
        approval.approve(s, bid, leader(seed), NOW)
    assert status(session_factory, bid) == "approved"


def test_editing_an_approved_bulletin_returns_it_to_draft_and_holds_future_plays(
    session_factory: sessionmaker[Session], seed: Seed
) -> None:
    bid = new_bulletin(session_factory, seed)
    with transaction(session_factory) as s:
        approval.submit(s, bid, officer(seed), window=WINDOW)
        approval.approve(s, bid, leader(seed), NOW)
    plays = book(session_factory, seed, bid, NOW + timedelta(hours=2))
    agent = plays[0].agent_id
    with session_factory() as s:
        assert [p.play_id for p in manifest_plays(s, agent, NOW, POLICY)] == [plays[0].id]

    with transaction(session_factory) as s:
        _, held = update_bulletin(s, bid, BulletinUpdate(body="Nội dung đã sửa."), officer(seed), NOW)
    assert held == {p.agent_id for p in plays}
    assert status(session_factory, bid) == "draft"
    with session_factory() as s:
        assert {p.status for p in s.scalars(select(Play).where(Play.bulletin_id == bid))} == {"held"}
        assert manifest_plays(s, agent, NOW, POLICY) == []  # held plays leave the manifest
    with pytest.raises(InvalidInput):
        book(session_factory, seed, bid, NOW + timedelta(hours=3))

    with transaction(session_factory) as s:
        approval.submit(s, bid, officer(seed), window=WINDOW)
        released = approval.approve(s, bid, leader(seed), NOW)
    assert released == held
    with session_factory() as s:
        assert {p.status for p in s.scalars(select(Play).where(Play.bulletin_id == bid))} == {"planned"}
        trail = [(e.actor, e.action) for e in audit.trail(s, "bulletin", bid)]
    assert trail == [
        ("can-bo", "create"),
        ("can-bo", "submit"),
        ("chu-tich", "approve"),
        ("can-bo", "to-draft"),
        ("can-bo", "edit"),
        ("can-bo", "submit"),
        ("chu-tich", "approve"),
    ]


def test_an_unchanged_edit_keeps_the_approval(session_factory: sessionmaker[Session], seed: Seed) -> None:
    bid = new_bulletin(session_factory, seed)
    with transaction(session_factory) as s:
        approval.submit(s, bid, officer(seed), window=WINDOW)
        approval.approve(s, bid, leader(seed), NOW)
        update_bulletin(s, bid, BulletinUpdate(title="Phòng cháy mùa khô"), officer(seed), NOW)
    assert status(session_factory, bid) == "approved"


@pytest.mark.parametrize("seconds", [60.0, 179.0, 301.0, 600.0])
def test_audio_outside_three_to_five_minutes_needs_a_reason(
    session_factory: sessionmaker[Session], seed: Seed, seconds: float
) -> None:
    bid = new_bulletin(session_factory, seed, seconds=seconds)
    with pytest.raises(InvalidInput) as err, transaction(session_factory) as s:
        approval.submit(s, bid, officer(seed), window=WINDOW)
    assert "nằm ngoài khoảng 3:00–5:00" in err.value.message_vi
    with transaction(session_factory) as s:
        approval.submit(s, bid, officer(seed), window=WINDOW, duration_override="Thông báo ngắn về lịch họp dân.")
    with session_factory() as s:
        row = s.get_one(Bulletin, bid)
        assert (row.status, row.duration_override) == ("submitted", "Thông báo ngắn về lịch họp dân.")
        assert "lý do thời lượng ngoài 3–5 phút" in audit.trail(s, "bulletin", bid)[-1].detail


def test_the_window_is_configurable_and_emergencies_are_exempt(
    session_factory: sessionmaker[Session], seed: Seed
) -> None:
    short = new_bulletin(session_factory, seed, seconds=100.0)
    with transaction(session_factory) as s:
        approval.submit(s, short, officer(seed), window=approval.DurationWindow(90, 120))
    storm = new_bulletin(session_factory, seed, seconds=40.0, priority="emergency")
    with transaction(session_factory) as s:
        approval.submit(s, storm, officer(seed), window=WINDOW)
    assert status(session_factory, short) == status(session_factory, storm) == "submitted"


def test_a_bulletin_without_audio_cannot_be_submitted(session_factory: sessionmaker[Session], seed: Seed) -> None:
    with transaction(session_factory) as s:
        row = create_bulletin(s, BulletinCreate(title="Tin", topic="dat-dai", body="Nội dung."), officer(seed))
        bid = row.id
    with pytest.raises(InvalidInput) as err, transaction(session_factory) as s:
        approval.submit(s, bid, officer(seed), window=WINDOW)
    assert "chưa có âm thanh" in err.value.message_vi


def test_a_commune_officer_cannot_write_into_another_commune(
    session_factory: sessionmaker[Session], seed: Seed
) -> None:
    data = BulletinCreate(title="Tin", topic="dat-dai", body="Nội dung.", commune_id=seed.other_commune_id)
    with pytest.raises(Forbidden), transaction(session_factory) as s:
        create_bulletin(s, data, officer(seed))
    with transaction(session_factory) as s:  # no commune given: the officer's own
        assert create_bulletin(s, data.model_copy(update={"commune_id": None}), officer(seed)).commune_id == (
            seed.commune_id
        )
