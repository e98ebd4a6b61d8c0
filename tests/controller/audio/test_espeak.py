"""espeak-ng specifics: its three Vietnamese accents, speaking rate, and parameter limits."""

from __future__ import annotations

import array
import itertools
import math
import subprocess
import sys

import pytest

from controller.audio import VOICES, EspeakEngine, Synthesis, Voice
from controller.errors import AudioError
from tests.controller.audio.samples import TEXT_120_WORDS, espeak_voice

SENTENCE = "Mã xác thực giống như chìa khóa két sắt của gia đình, tuyệt đối không đọc cho bất kỳ ai."


def features(synthesis: Synthesis) -> tuple[float, float, float]:
    """Duration, loudness (RMS) and zero crossings a second: enough to tell accents apart."""
    samples = array.array("h", synthesis.pcm)
    rms = math.sqrt(sum(s * s for s in samples) / len(samples))
    crossings = sum(1 for a, b in itertools.pairwise(samples) if (a < 0) != (b < 0))
    return synthesis.duration_s, rms, crossings / synthesis.duration_s


def relative_difference(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    return max(abs(x - y) / max(abs(x), abs(y)) for x, y in zip(a, b, strict=True))


def test_the_three_vietnamese_accents_all_speak_and_sound_different(espeak: EspeakEngine) -> None:
    assert set(VOICES) == {"vi", "vi-vn-x-central", "vi-vn-x-south"}
    heard = {}
    for name in VOICES:
        first = espeak.synthesize(SENTENCE, espeak_voice(name))
        assert (first.sample_rate, first.channels, first.sample_width, first.voice) == (22050, 1, 2, name)
        again = espeak.synthesize(SENTENCE, espeak_voice(name))
        # libespeak's output drifts by a few samples between calls; the same voice stays within 1 %.
        assert relative_difference(features(first), features(again)) < 0.01
        heard[name] = features(first)
    names = sorted(heard)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert relative_difference(heard[a], heard[b]) > 0.03, (a, b)


def test_a_faster_rate_speaks_the_same_text_in_less_time(espeak: EspeakEngine) -> None:
    slow = espeak.synthesize(TEXT_120_WORDS, espeak_voice(rate_wpm=100)).duration_s
    fast = espeak.synthesize(TEXT_120_WORDS, espeak_voice(rate_wpm=200)).duration_s
    assert slow / fast == pytest.approx(2.0, rel=0.2)


def test_default_rate_reads_about_160_syllables_a_minute(espeak: EspeakEngine) -> None:
    """The default voice is tuned so that a 650-word bulletin lasts about four minutes."""
    synthesis = espeak.synthesize(TEXT_120_WORDS, espeak_voice())
    per_minute = len(TEXT_120_WORDS.split()) / synthesis.duration_s * 60
    assert 140 < per_minute < 185


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"rate_wpm": 79}, "Tốc độ đọc 79 không hợp lệ"),
        ({"rate_wpm": 451}, "Tốc độ đọc 451 không hợp lệ"),
        ({"pitch": -1}, "Độ cao giọng -1 không hợp lệ"),
        ({"pitch": 101}, "Độ cao giọng 101 không hợp lệ"),
    ],
)
def test_out_of_range_parameters_are_refused(espeak: EspeakEngine, params: dict[str, int], message: str) -> None:
    with pytest.raises(AudioError) as info:
        espeak.synthesize(SENTENCE, espeak_voice("vi", **params))
    assert message in info.value.message_vi


def test_a_voice_meant_for_another_engine_is_refused(espeak: EspeakEngine) -> None:
    with pytest.raises(AudioError) as info:
        espeak.synthesize(SENTENCE, Voice(engine="piper", name="vi"))
    assert "espeak-ng" in info.value.message_vi


def test_text_beyond_forty_minutes_is_refused(espeak: EspeakEngine) -> None:
    with pytest.raises(AudioError) as info:
        espeak.synthesize("bà con " * 10_000, espeak_voice())
    assert "quá dài" in info.value.message_vi


def test_importing_the_package_loads_no_engine_and_no_ffmpeg() -> None:
    code = (
        "import sys, controller.audio\n"
        "from controller.audio.espeak import _Library\n"
        "assert _Library._instance is None\n"
        "assert 'espeakng_loader' not in sys.modules and 'imageio_ffmpeg' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
