"""Text to stored MP3 end to end, the engine registry, and the sample bulletin."""

from __future__ import annotations

import hashlib
import math
import struct
from pathlib import Path

import pytest
import yaml

from controller.audio import (
    PIPELINE_VERSION,
    EdgeTtsEngine,
    EngineUnavailable,
    EspeakEngine,
    MediaStore,
    PiperEngine,
    Synthesis,
    Voice,
    decode_mp3,
    engine_names,
    fallback_voice,
    get_engine,
    probe_mp3_duration,
    render_text,
    synthesize,
)
from controller.errors import AudioError
from tests.controller.audio.loudness import assert_broadcast_ready
from tests.controller.audio.samples import TEXT_120_WORDS, espeak_voice

BULLETIN = Path(__file__).parents[3] / "bulletins" / "an-ninh-mang-lua-dao-truc-tuyen.md"


class ToneEngine:
    """A second TtsEngine: a 440 Hz tone per word at 24 kHz stereo, as an uploaded or cloud voice might be."""

    name = "tone"

    def synthesize(self, text: str, voice: Voice) -> Synthesis:
        rate, words = 24000, len(text.split())
        samples = [int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(rate // 4 * words)]
        pcm = struct.pack(f"<{len(samples) * 2}h", *(s for s in samples for _ in range(2)))
        return Synthesis(pcm=pcm, sample_rate=rate, channels=2, sample_width=2, engine=self.name, voice=voice.name)


def test_rendered_text_is_a_stored_mp3_of_plausible_length(store: MediaStore) -> None:
    rendered = render_text(TEXT_120_WORDS, espeak_voice(), store)
    data = rendered.path.read_bytes()
    assert rendered.sha256 == hashlib.sha256(data).hexdigest()
    assert rendered.path == store.path_for(rendered.sha256)
    assert rendered.size_bytes == len(data)
    assert (rendered.engine, rendered.voice) == ("espeak-ng", "vi")
    assert 20 < rendered.duration_s < 80  # 120 words
    assert probe_mp3_duration(data) == pytest.approx(rendered.duration_s, abs=0.05)
    assert decode_mp3(data).channels == 1
    assert sorted(p.name for p in store.root.iterdir()) == [rendered.path.name]


def test_render_uses_the_engine_it_is_given(store: MediaStore) -> None:
    rendered = render_text("một hai ba bốn", Voice(engine="tone", name="la"), store, engine=ToneEngine())
    assert (rendered.engine, rendered.voice) == ("tone", "la")
    assert rendered.duration_s == pytest.approx(1.0, abs=0.01)
    assert decode_mp3(rendered.path.read_bytes()).frame_rate == 22050


def test_the_registry_makes_engines_on_demand_and_refuses_unknown_ones(store: MediaStore) -> None:
    assert engine_names() == ["edge-tts", "espeak-ng", "piper"]
    assert isinstance(get_engine("espeak-ng"), EspeakEngine)
    assert isinstance(get_engine("edge-tts"), EdgeTtsEngine)
    assert isinstance(get_engine("piper"), PiperEngine)
    assert get_engine("espeak-ng") is not get_engine("espeak-ng")
    with pytest.raises(AudioError) as info:
        get_engine("klingon")
    assert info.value.message_vi == (
        "Không có bộ đọc 'klingon'. Hãy chọn một trong các bộ đọc: edge-tts, espeak-ng, piper."
    )
    with pytest.raises(AudioError):  # a typo is a mistake to show, not an outage to paper over
        render_text(TEXT_120_WORDS, Voice(engine="klingon", name="vi"), store)
    assert list(store.root.iterdir()) == []


def test_every_render_records_what_spoke_how_loud_and_with_which_pipeline(store: MediaStore) -> None:
    rendered = render_text("Kính thưa bà con.", espeak_voice("vi-vn-x-south"), store)
    assert (rendered.engine, rendered.voice, rendered.pipeline) == ("espeak-ng", "vi-vn-x-south", PIPELINE_VERSION)
    assert (rendered.fallback_from, rendered.fallback_reason, rendered.notice_vi) == (None, None, None)
    assert rendered.lufs is not None and abs(rendered.lufs + 16) <= 1
    assert rendered.true_peak_dbtp is not None and rendered.true_peak_dbtp <= -1.5


def test_an_unavailable_engine_falls_back_to_espeak_in_the_same_accent_and_says_so(store: MediaStore) -> None:
    class Offline:
        """An engine whose service is down: what edge-tts raises offline."""

        name = "cloud"

        def synthesize(self, text: str, voice: Voice) -> Synthesis:
            raise EngineUnavailable("cloud unreachable", "Không kết nối được dịch vụ đọc.")

    voice = Voice(engine="cloud", name="vi-vn-x-central", rate_wpm=500, pitch=70)
    assert fallback_voice(voice) == Voice("espeak-ng", "vi-vn-x-central", rate_wpm=450, pitch=70)
    rendered = render_text("Kính thưa bà con.", voice, store, engine=Offline())
    assert (rendered.engine, rendered.voice) == ("espeak-ng", "vi-vn-x-central")
    assert (rendered.fallback_from, rendered.fallback_reason) == ("cloud:vi-vn-x-central", "cloud unreachable")
    assert rendered.notice_vi == (
        "Không dùng được bộ đọc cloud (Không kết nối được dịch vụ đọc.). Bản tin đã được đọc bằng giọng dự phòng "
        "espeak-ng (miền Trung); hãy nghe lại trước khi phát."
    )
    synthesis, fallback = synthesize("Kính thưa bà con.", voice, Offline())
    assert synthesis.engine == "espeak-ng" and fallback is not None and fallback.from_engine == "cloud"


def test_a_failed_render_stores_nothing(store: MediaStore) -> None:
    with pytest.raises(AudioError) as info:
        render_text("  ", espeak_voice(), store)
    assert info.value.message_vi
    assert list(store.root.iterdir()) == []


def test_the_sample_bulletin_reads_in_three_to_five_minutes(store: MediaStore) -> None:
    _, front, body = BULLETIN.read_text(encoding="utf-8").split("---\n", 2)
    meta = yaml.safe_load(front)
    assert list(meta) == ["id", "title", "topic", "legal_references", "voice", "priority", "language"]
    assert (meta["id"], meta["topic"], meta["priority"], meta["language"]) == (
        BULLETIN.stem,
        "an-ninh-mang",
        "normal",
        "vi",
    )
    assert meta["voice"] == {"engine": "espeak-ng", "name": "vi"}
    assert "Luật An ninh mạng số 24/2018/QH14" in meta["legal_references"]
    assert 550 <= len(body.split()) <= 750

    rendered = render_text(f"{meta['title']}.\n\n{body}", Voice(**meta["voice"]), store)
    assert 180 <= rendered.duration_s <= 300
    assert rendered.size_bytes < 1_200_000
    assert_broadcast_ready(rendered.path.read_bytes(), rendered.duration_s)
