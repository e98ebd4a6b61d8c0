"""Rendering the same input twice reuses the audio; any change to text or voice renders anew."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from controller.audio import MediaStore
from controller.db.models import AudioAsset, Bulletin
from controller.db.session import transaction
from controller.schemas import BulletinCreate, VoiceSpec
from controller.services.access import Actor
from controller.services.bulletins import create_bulletin, render_bulletin


def make(factory: sessionmaker[Session], body: str, voice: str = "vi") -> str:
    with transaction(factory) as s:
        b = create_bulletin(
            s,
            BulletinCreate(title="Thông báo", topic="an-ninh-mang", body=body, voice=VoiceSpec(name=voice)),
            Actor.system(),
        )
        return b.id


def render(factory: sessionmaker[Session], store: MediaStore, bulletin_id: str) -> AudioAsset:
    with transaction(factory) as s:
        return render_bulletin(s, store, bulletin_id)[0]


def test_identical_input_is_a_cache_hit(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    first_id = make(session_factory, "Bà con chú ý phòng chống lừa đảo.")
    first = render(session_factory, store, first_id)
    again = render(session_factory, store, first_id)
    twin = render(session_factory, store, make(session_factory, "Bà con chú ý phòng chống lừa đảo."))
    assert again.id == first.id
    assert twin.sha256 == first.sha256 and twin.bulletin_id != first.bulletin_id
    assert len(list((tmp_path / "media").glob("*.mp3"))) == 1
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(AudioAsset)) == 2
        assert s.get_one(Bulletin, first_id).audio_asset_id == first.id


def test_changed_text_or_voice_renders_again(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    base = render(session_factory, store, make(session_factory, "Họp dân lúc 17h30."))
    other_text = render(session_factory, store, make(session_factory, "Họp dân lúc 18h."))
    other_voice = render(session_factory, store, make(session_factory, "Họp dân lúc 17h30.", voice="vi-vn-x-south"))
    assert len({base.input_key, other_text.input_key, other_voice.input_key}) == 3
    assert len({base.sha256, other_text.sha256, other_voice.sha256}) == 3


def test_a_missing_file_is_rendered_again(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    bulletin_id = make(session_factory, "Bà con chú ý an toàn giao thông.")
    first = render(session_factory, store, bulletin_id)
    store.path_for(first.sha256).unlink()
    second = render(session_factory, store, bulletin_id)
    assert second.id != first.id
    assert store.exists(second.sha256)
