"""The offline audio pipeline with the real espeak-ng library and the real ffmpeg."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from controller.audio import EspeakEngine, MediaStore, Voice, decode_mp3, encode_mp3, get_engine, render_text
from controller.errors import AudioError, InvalidInput

TEXT = (
    "Thực hiện kế hoạch phổ biến, giáo dục pháp luật của xã, "
    "đài truyền thanh xin thông tin tới bà con một số điểm cần lưu ý về phòng chống lừa đảo trên mạng. "
    "Khi có người lạ gọi điện tự xưng là công an, tòa án hay ngân hàng và yêu cầu chuyển tiền, "
    "bà con tuyệt đối không làm theo, hãy gác máy và báo ngay cho công an xã. "
) * 3


@pytest.fixture(scope="module")
def engine() -> EspeakEngine:
    return EspeakEngine()


def test_all_three_vietnamese_accents_synthesise_and_differ(engine: EspeakEngine) -> None:
    outputs = {
        name: engine.synthesize("Xin chào bà con.", Voice(name=name))
        for name in ("vi", "vi-vn-x-central", "vi-vn-x-south")
    }
    for name, s in outputs.items():
        assert (s.sample_rate, s.channels, s.sample_width, s.voice) == (22050, 1, 2, name)
        assert 0.5 < s.duration_s < 5
    assert len({s.pcm for s in outputs.values()}) == 3


def test_speaking_rate_changes_duration(engine: EspeakEngine) -> None:
    slow = engine.synthesize(TEXT, Voice(rate_wpm=120)).duration_s
    fast = engine.synthesize(TEXT, Voice(rate_wpm=200)).duration_s
    assert slow > fast * 1.3


def test_mp3_is_mono_speech_bitrate_and_decodes(engine: EspeakEngine) -> None:
    synthesis = engine.synthesize(TEXT, Voice())
    encoded = encode_mp3(synthesis)
    decoded = decode_mp3(encoded.data)
    assert decoded.channels == 1
    assert abs(len(decoded) / 1000 - encoded.duration_s) < 0.5
    assert encoded.duration_s <= synthesis.duration_s  # silence trimmed, never padded
    assert 3500 < len(encoded.data) / encoded.duration_s < 4500  # 32 kbps
    assert decoded.max_dBFS == pytest.approx(-1.0, abs=0.6)  # peak-normalised with 1 dB headroom


def test_render_stores_content_addressed(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    rendered = render_text(TEXT, Voice(), store)
    data = rendered.path.read_bytes()
    assert rendered.sha256 == hashlib.sha256(data).hexdigest()
    assert rendered.path == tmp_path / f"{rendered.sha256}.mp3"
    assert rendered.size_bytes == len(data)
    assert (rendered.engine, rendered.voice) == ("espeak-ng", "vi")
    assert 20 < rendered.duration_s < 120
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{rendered.sha256}.mp3"]  # no temp files left


def test_store_put_is_idempotent(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    first = store.put(b"ID3 same bytes")
    mtime = first.path.stat().st_mtime_ns
    second = store.put(b"ID3 same bytes")
    assert first == second
    assert first.path.stat().st_mtime_ns == mtime  # not rewritten
    assert store.read(first.sha256) == b"ID3 same bytes"
    assert len(list(tmp_path.iterdir())) == 1


def test_store_refuses_path_traversal(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    for bad in ("../../etc/passwd", "A" * 64, "abc", "0" * 63 + "/"):
        with pytest.raises(InvalidInput):
            store.path_for(bad)


@pytest.mark.parametrize(
    ("text", "voice", "message"),
    [
        ("   ", Voice(), "không có nội dung"),
        ("Xin chào", Voice(name="en"), "Không có giọng đọc"),
    ],
)
def test_bad_requests_raise_audio_error_in_vietnamese(
    engine: EspeakEngine, text: str, voice: Voice, message: str
) -> None:
    with pytest.raises(AudioError) as info:
        engine.synthesize(text, voice)
    assert message in info.value.message_vi


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(AudioError) as info:
        get_engine("piper")
    assert "piper" in info.value.message_vi
