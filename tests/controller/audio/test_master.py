"""Mastering beyond loudness: jingles around the speech, silence refused, and what the cache key covers."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from controller.audio import (
    PIPELINE_VERSION,
    EspeakEngine,
    LoudnessMastering,
    Synthesis,
    decode_mp3,
    encode_mp3,
    jingle_names,
    render_key,
)
from controller.audio.master import export_mp3
from controller.errors import AudioError
from tests.controller.audio.loudness import assert_broadcast_ready, loudnorm_analysis
from tests.controller.audio.samples import TEXT_30_S, espeak_voice

JINGLES = Path(__file__).parents[3] / "bulletins" / "jingles"
JINGLE_S = 2.4
GAP_S = 0.4


@pytest.fixture(scope="module")
def speech(espeak: EspeakEngine) -> Synthesis:
    return espeak.synthesize(TEXT_30_S, espeak_voice())


def test_two_original_jingles_ship_with_the_script_that_made_them() -> None:
    assert jingle_names() == ["chime-down.wav", "chime-up.wav"]
    assert "aevalsrc" in (JINGLES / "make_jingles.py").read_text()


def test_intro_and_outro_frame_the_speech_softer_than_it(speech: Synthesis) -> None:
    plain = encode_mp3(speech)
    framed = encode_mp3(speech, LoudnessMastering(intro="chime-up.wav", outro="chime-down.wav"))
    assert framed.duration_s == pytest.approx(plain.duration_s + 2 * (JINGLE_S + GAP_S), abs=0.05)
    assert_broadcast_ready(framed.data, framed.duration_s)
    decoded = decode_mp3(framed.data)
    intro = decoded[: int(JINGLE_S * 1000)]
    outro = decoded[-int(JINGLE_S * 1000) :]
    for jingle in (intro, outro):
        jingle_lufs, _ = loudnorm_analysis(export_mp3(jingle))
        assert -16 - 3 - 1.5 < jingle_lufs < -16 - 3 + 1.5  # 3 LU under the speech
    assert decoded[int((JINGLE_S + GAP_S / 4) * 1000) : int((JINGLE_S + GAP_S * 3 / 4) * 1000)].max_dBFS < -50


def test_an_unknown_jingle_is_refused_in_vietnamese_before_any_work() -> None:
    for name in ("missing.wav", "../jingles/chime-up.wav", "make_jingles.py"):
        with pytest.raises(AudioError) as info:
            LoudnessMastering(intro=name)
        assert "Không tìm thấy nhạc hiệu" in info.value.message_vi


def test_silence_is_refused_rather_than_amplified(speech: Synthesis) -> None:
    silent = replace(speech, pcm=bytes(len(speech.pcm)))
    with pytest.raises(AudioError) as info:
        encode_mp3(silent)
    assert "không có tiếng" in info.value.message_vi


def test_the_render_key_covers_pipeline_voice_jingles_and_text(tmp_path: Path) -> None:
    voice = espeak_voice()
    key = render_key("xin chào", voice)
    assert PIPELINE_VERSION and len(key) == 64 and key == render_key("xin chào", voice)
    others = {
        render_key("xin chào bà con", voice),
        render_key("xin chào", replace(voice, rate_wpm=150)),
        render_key("xin chào", replace(voice, name="vi-vn-x-south")),
        render_key("xin chào", voice, LoudnessMastering(intro="chime-up.wav")),
        render_key("xin chào", voice, LoudnessMastering(outro="chime-up.wav")),
    }
    assert key not in others and len(others) == 5
    # A jingle replaced under the same name changes the key, so old renders are not reused.
    mine = tmp_path / "jingles"
    mine.mkdir()
    shutil.copy(JINGLES / "chime-up.wav", mine / "intro.wav")
    before = render_key("xin chào", voice, LoudnessMastering(intro="intro.wav", jingle_dir=mine))
    shutil.copy(JINGLES / "chime-down.wav", mine / "intro.wav")
    assert render_key("xin chào", voice, LoudnessMastering(intro="intro.wav", jingle_dir=mine)) != before


def test_a_clip_too_short_to_measure_whole_is_still_brought_to_broadcast_loudness(espeak: EspeakEngine) -> None:
    """EBU R128 cannot gate under 400 ms; mastering loops the clip to measure it, so the level still holds."""
    clip = espeak.synthesize("Chào bà con.", espeak_voice(rate_wpm=450))
    encoded = encode_mp3(clip)
    assert encoded.duration_s < 1.5
    looped = decode_mp3(encoded.data) * 6
    lufs, peak = loudnorm_analysis(export_mp3(looped))
    assert abs(lufs + 16) <= 1.0 and peak <= -1.5
