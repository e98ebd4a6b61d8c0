"""The live estimate against the rendered audio: within ±3 % for every sample bulletin, with the default voice
and with the voice each sample file names.

Mastering changes a bulletin's length only by trimming silence at its ends (no jingles by default), so the
samples are measured as synthesised and trimmed; one full render shows that equals the stored MP3's length."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.audio.encode import to_segment
from controller.audio.engine import DEFAULT_PITCH, DEFAULT_RATE_WPM, Voice
from controller.audio.estimate import estimate_seconds
from controller.audio.master import trim_silence
from controller.audio.render import render_text, synthesize
from controller.audio.store import MediaStore
from controller.services.bulletin_files import parse_bulletin_file
from controller.services.bulletins import spoken

SAMPLES = sorted(p for p in (Path(__file__).resolve().parents[2] / "bulletins").glob("*.md") if p.name != "README.md")
DEFAULT = Voice(engine="espeak-ng", name="vi", rate_wpm=DEFAULT_RATE_WPM, pitch=DEFAULT_PITCH)


def _trimmed_seconds(text: str, voice: Voice) -> float:
    synthesis, _ = synthesize(text, voice, fallback=False)
    return len(trim_silence(to_segment(synthesis))) / 1000


def test_there_is_a_sample_library() -> None:
    assert len(SAMPLES) >= 5


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_the_estimate_is_within_3_percent_of_the_audio(path: Path) -> None:
    data = parse_bulletin_file(path)
    text = spoken(data.title, data.body)  # what the editor estimates and the renderer reads
    named = Voice(engine=data.voice.engine, name=data.voice.name, rate_wpm=DEFAULT_RATE_WPM, pitch=DEFAULT_PITCH)
    for voice in {DEFAULT, named}:
        audio = _trimmed_seconds(text, voice)
        estimate = estimate_seconds(text, voice)
        assert estimate == pytest.approx(audio, rel=0.03), (voice.name, estimate, audio)


def test_the_rendered_mp3_lasts_as_long_as_the_trimmed_speech(tmp_path: Path) -> None:
    data = parse_bulletin_file(SAMPLES[0])
    text = spoken(data.title, data.body)
    rendered = render_text(text, DEFAULT, MediaStore(tmp_path), fallback=False)
    assert rendered.duration_s == pytest.approx(_trimmed_seconds(text, DEFAULT), abs=0.5)
    assert estimate_seconds(text, DEFAULT) == pytest.approx(rendered.duration_s, rel=0.03)
