"""Every engine is handed the normalised text, so edge-tts, espeak-ng and Piper read a bulletin alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from controller.audio import EdgeTtsEngine, EngineUnavailable, EspeakEngine, MediaStore, PiperEngine, Synthesis, Voice
from controller.audio import render as audio_render
from controller.db.session import transaction
from controller.schemas import BulletinCreate, VoiceSpec
from controller.services.access import Actor
from controller.services.bulletins import create_bulletin, render_bulletin, spoken
from tests.controller.audio.microsoft import FakeMicrosoft

TITLE = "Thông báo cắt điện"
BODY = (
    "Thực hiện Kế hoạch số 54/KH-UBND của UBND xã, ngày 27.9 từ 11-14h mất điện trên QL1A. "
    "Sở Khoa học & Công nghệ đề nghị bà con gọi tổng đài 1022 khi có sự cố."
)
READ = (
    "Thực hiện Kế hoạch số năm mươi tư của Ủy ban nhân dân xã, ngày hai mươi bảy tháng chín từ mười một đến "
    "mười bốn giờ mất điện trên quốc lộ một A. Sở Khoa học và Công nghệ đề nghị bà con gọi tổng đài một không "
    "hai hai khi có sự cố."
)


class RecordingEspeak(EspeakEngine):
    """The real espeak-ng engine, noting the text it was handed."""

    def __init__(self, seen: list[str]) -> None:
        super().__init__()
        self.seen = seen

    def synthesize(self, text: str, voice: Voice) -> Synthesis:
        self.seen.append(text)
        return super().synthesize(text, voice)


class RecordingPiper(PiperEngine):
    """The real Piper engine, noting the text it was handed; no Piper program here, so it is unavailable."""

    def __init__(self, seen: list[str], model_dir: Path) -> None:
        super().__init__(model_dir=model_dir, program="loa-no-such-piper")
        self.seen = seen

    def synthesize(self, text: str, voice: Voice) -> Synthesis:
        self.seen.append(text)
        return super().synthesize(text, voice)


def _render(factory: sessionmaker[Session], store: MediaStore, voice: VoiceSpec) -> str:
    with transaction(factory) as s:
        row = create_bulletin(
            s, BulletinCreate(title=TITLE, topic="giao-thong-pccc", body=BODY, voice=voice), Actor.system()
        )
        asset, _ = render_bulletin(s, store, row.id)
        return asset.engine


def test_the_normalised_text_is_what_a_listener_should_hear() -> None:
    assert spoken(TITLE, BODY) == f"{TITLE}.\n\n{READ}"


def test_espeak_ng_is_handed_the_normalised_text(
    session_factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    monkeypatch.setitem(audio_render._ENGINES, "espeak-ng", lambda: RecordingEspeak(seen))
    engine = _render(session_factory, MediaStore(tmp_path), VoiceSpec(engine="espeak-ng", name="vi"))
    assert engine == "espeak-ng"
    assert seen == [spoken(TITLE, BODY)]


def test_edge_tts_sends_microsoft_the_normalised_text(
    session_factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    microsoft = FakeMicrosoft()
    monkeypatch.setitem(audio_render._ENGINES, "edge-tts", lambda: EdgeTtsEngine(stream=microsoft))
    engine = _render(session_factory, MediaStore(tmp_path), VoiceSpec(engine="edge-tts", name="vi-VN-HoaiMyNeural"))
    assert engine == "edge-tts"
    sent = " ".join(request.text for request in microsoft.requests)
    assert " ".join(sent.split()) == " ".join(spoken(TITLE, BODY).split())
    assert READ in " ".join(sent.split())


def test_piper_is_handed_the_normalised_text_and_so_is_its_stand_in(
    session_factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    piper_seen: list[str] = []
    espeak_seen: list[str] = []
    monkeypatch.setitem(audio_render._ENGINES, "piper", lambda: RecordingPiper(piper_seen, tmp_path))
    monkeypatch.setitem(audio_render._ENGINES, "espeak-ng", lambda: RecordingEspeak(espeak_seen))
    model = tmp_path / "vi_VN-test-medium.onnx"
    model.write_bytes(b"\x08\x07")
    model.with_name(model.name + ".json").write_text('{"audio": {"sample_rate": 22050}}')
    engine = _render(session_factory, MediaStore(tmp_path / "media"), VoiceSpec(engine="piper", name=model.name))
    assert piper_seen == [spoken(TITLE, BODY)]
    # Piper is not installed here: the offline voice stands in and reads the very same text.
    assert engine == "espeak-ng" and espeak_seen == piper_seen
    with pytest.raises(EngineUnavailable):
        RecordingPiper([], tmp_path).synthesize(READ, Voice("piper", model.name))
