"""What every TtsEngine promises, run against each real engine (see ENGINE_CASES)."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from controller.audio import Synthesis, TtsEngine
from controller.errors import AudioError
from tests.controller.audio.samples import TEXT_120_WORDS, EngineCase

SHORT = "Kính thưa bà con nhân dân trong xã."


def test_synthesis_describes_its_pcm(engine_case: EngineCase) -> None:
    engine = engine_case.make()
    result = engine.synthesize(SHORT, engine_case.voice)
    assert isinstance(result, Synthesis)
    assert (result.engine, result.voice) == (engine.name, engine_case.voice.name)
    assert result.channels in (1, 2) and result.sample_width in (2, 4) and result.sample_rate >= 16000
    frame = result.channels * result.sample_width
    assert len(result.pcm) % frame == 0
    assert 1.0 < result.duration_s < 6.0  # eight syllables


def test_engine_names_itself_in_the_registry_form(engine_case: EngineCase) -> None:
    engine: TtsEngine = engine_case.make()
    assert engine.name == engine_case.voice.engine


@pytest.mark.parametrize("text", ["", "   \n\t ", "\x00"])
def test_empty_text_is_refused_in_vietnamese(engine_case: EngineCase, text: str) -> None:
    with pytest.raises(AudioError) as info:
        engine_case.make().synthesize(text, engine_case.voice)
    assert info.value.message_vi == "Bản tin không có nội dung để đọc."


def test_unknown_voice_is_refused_in_vietnamese(engine_case: EngineCase) -> None:
    with pytest.raises(AudioError) as info:
        engine_case.make().synthesize(SHORT, replace(engine_case.voice, name="klingon"))
    assert "Không có giọng đọc 'klingon'" in info.value.message_vi


def test_long_bulletin_is_spoken_whole(engine_case: EngineCase) -> None:
    """Six copies of a 120-word text: about 720 words, a five-minute bulletin."""
    engine = engine_case.make()
    one = engine.synthesize(TEXT_120_WORDS, engine_case.voice).duration_s
    six = engine.synthesize(" ".join([TEXT_120_WORDS] * 6), engine_case.voice).duration_s
    assert 20 < one < 80
    assert six == pytest.approx(6 * one, rel=0.05)  # nothing cut off at an internal buffer size


def test_concurrent_calls_do_not_mix_their_audio(engine_case: EngineCase) -> None:
    """Threads with different texts at once each get their own text's audio, whole."""
    engine = engine_case.make()
    texts = {"short": SHORT, "long": TEXT_120_WORDS}
    alone = {key: engine.synthesize(text, engine_case.voice).duration_s for key, text in texts.items()}
    results: list[tuple[str, float]] = []
    errors: list[BaseException] = []

    def speak(key: str) -> None:
        try:
            for _ in range(3):
                results.append((key, engine.synthesize(texts[key], engine_case.voice).duration_s))
        except BaseException as exc:  # surfaced below; a thread's exception would otherwise vanish
            errors.append(exc)

    threads = [threading.Thread(target=speak, args=(key,)) for key in ("short", "long", "short", "long")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 12
    for key, duration in results:
        assert duration == pytest.approx(alone[key], rel=0.02), key
