"""The officer pins a reading: it is saved with the bulletin, survives file export and import, reaches the renderer."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from controller.audio import EspeakEngine, MediaStore, Synthesis, Voice
from controller.audio import render as audio_render
from controller.db.models import AuditEvent, Bulletin
from controller.db.session import transaction
from controller.errors import InvalidInput, NotFound
from controller.schemas import BulletinCreate
from controller.services.access import Actor
from controller.services.bulletin_check import check_bulletin_file
from controller.services.bulletin_files import export_bulletin, import_bulletin_file, parse_bulletin_text
from controller.services.bulletins import bulletin_public, create_bulletin, render_bulletin, spoken_text
from controller.services.readings import pin_reading, unpin_reading
from tests.controller.conftest import Seed

NOW = datetime(2026, 5, 27, 3, 0, tzinfo=UTC)
SYSTEM = Actor.system("test")
BODY = "Từ ngày 27.9, xe tải không đi trên QL1A đoạn qua xã; HS nộp tại UBND xã."


def _bulletin(factory: sessionmaker[Session], body: str = BODY) -> str:
    with transaction(factory) as s:
        return create_bulletin(s, BulletinCreate(title="Phân luồng", topic="giao-thong-pccc", body=body), SYSTEM).id


def _pin(factory: sessionmaker[Session], bulletin_id: str, written: str, spoken: str) -> None:
    with transaction(factory) as s:
        pin_reading(s, bulletin_id, written, spoken, SYSTEM, NOW)


def test_a_pin_replaces_the_normalisers_reading(session_factory: sessionmaker[Session]) -> None:
    bulletin_id = _bulletin(session_factory)
    with session_factory() as s:
        before = spoken_text(s.get_one(Bulletin, bulletin_id))
    assert "quốc lộ một A" in before and "hát ét" in before
    _pin(session_factory, bulletin_id, "QL1A", "quốc lộ số một A")
    _pin(session_factory, bulletin_id, " HS ", "hồ sơ")
    _pin(session_factory, bulletin_id, "QL1A", "đường quốc lộ một A")  # pinning again replaces the reading
    with session_factory() as s:
        row = s.get_one(Bulletin, bulletin_id)
        text = spoken_text(row)
        assert [(p.written, p.spoken) for p in bulletin_public(row, "http://x").pinned_readings] == [
            ("HS", "hồ sơ"),
            ("QL1A", "đường quốc lộ một A"),
        ]
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.object_id == bulletin_id)).all()
    assert "không đi trên đường quốc lộ một A đoạn qua xã; hồ sơ nộp tại Ủy ban nhân dân xã." in text
    assert actions.count("pin-reading") == 3


def test_unpinning_gives_the_span_back_to_the_normaliser(session_factory: sessionmaker[Session]) -> None:
    bulletin_id = _bulletin(session_factory)
    _pin(session_factory, bulletin_id, "QL1A", "quốc lộ số một A")
    with transaction(session_factory) as s:
        unpin_reading(s, bulletin_id, "QL1A", SYSTEM, NOW)
    with session_factory() as s:
        assert "trên quốc lộ một A đoạn" in spoken_text(s.get_one(Bulletin, bulletin_id))
    with pytest.raises(NotFound) as caught, transaction(session_factory) as s:
        unpin_reading(s, bulletin_id, "QL1A", SYSTEM, NOW)
    assert caught.value.message_vi == "Chưa ghim cách đọc «QL1A»."


@pytest.mark.parametrize(
    ("written", "spoken", "message"),
    [
        pytest.param(
            "QL1A", "quốc lộ 1A", "Cách đọc phải viết bằng chữ (không có chữ số), tối đa 400 ký tự.", id="digits"
        ),
        pytest.param(
            "QL1A", "<b>quốc lộ</b>", "Cách đọc phải viết bằng chữ (không có chữ số), tối đa 400 ký tự.", id="markup"
        ),
        pytest.param("QL1A", "   ", "Cách đọc phải viết bằng chữ (không có chữ số), tối đa 400 ký tự.", id="blank"),
        pytest.param("QL14", "quốc lộ mười bốn", "Không thấy «QL14» trong tiêu đề hay nội dung bản tin.", id="absent"),
        pytest.param("UBND", "ủy ban", "Không thấy «UBND» trong tiêu đề hay nội dung bản tin.", id="inside-a-code"),
        pytest.param("x" * 201, "ích", "Hãy ghi đoạn chữ cần ghim (tối đa 200 ký tự).", id="too-long"),
    ],
)
def test_bad_pins_are_refused_in_vietnamese(
    session_factory: sessionmaker[Session], written: str, spoken: str, message: str
) -> None:
    bulletin_id = _bulletin(session_factory, "Theo Kế hoạch 54/KH-UBND, xe không đi trên QL1A.")
    with pytest.raises(InvalidInput) as caught, transaction(session_factory) as s:
        pin_reading(s, bulletin_id, written, spoken, SYSTEM, NOW)
    assert caught.value.message_vi == message


def test_a_pin_sends_an_approved_bulletin_back_to_draft(session_factory: sessionmaker[Session], seed: Seed) -> None:
    _pin(session_factory, seed.bulletin_id, "Nội dung", "nội dung bản tin")
    with session_factory() as s:
        assert s.get_one(Bulletin, seed.bulletin_id).status == "draft"


def test_pins_survive_export_and_import_and_reach_the_renderer(
    session_factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bulletin_id = _bulletin(session_factory)
    _pin(session_factory, bulletin_id, "QL1A", "quốc lộ số một A")
    with session_factory() as s:
        text = export_bulletin(s, s.get_one(Bulletin, bulletin_id))
    assert "pinned_readings:\n- written: QL1A\n  spoken: quốc lộ số một A\n" in text
    data, _ = parse_bulletin_text(text, "phan-luong.md")
    assert [(p.written, p.spoken) for p in data.pinned_readings] == [("QL1A", "quốc lộ số một A")]

    # The file goes back in after the pin was removed here: the import restores it.
    with transaction(session_factory) as s:
        unpin_reading(s, bulletin_id, "QL1A", SYSTEM, NOW)
    path = tmp_path / f"{bulletin_id}.md"
    path.write_text(text, encoding="utf-8")
    with transaction(session_factory) as s:
        assert import_bulletin_file(s, path, SYSTEM, NOW).action == "updated"
    # `loa bulletin check` reads the same file the same way.
    assert "trên quốc lộ số một A đoạn" in check_bulletin_file(path).spoken_text

    seen: list[str] = []

    class RecordingEspeak(EspeakEngine):
        def synthesize(self, text: str, voice: Voice) -> Synthesis:
            seen.append(text)
            return super().synthesize(text, voice)

    monkeypatch.setitem(audio_render._ENGINES, "espeak-ng", RecordingEspeak)
    with transaction(session_factory) as s:
        render_bulletin(s, MediaStore(tmp_path / "media"), bulletin_id)
        expected = spoken_text(s.get_one(Bulletin, bulletin_id))
    assert seen == [expected]
    assert "trên quốc lộ số một A đoạn" in seen[0]
