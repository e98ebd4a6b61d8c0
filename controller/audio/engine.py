"""The TTS engine interface. Engines return raw PCM; mastering and encoding happen afterwards."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from controller.errors import AudioError

DEFAULT_RATE_WPM = 120
"""espeak-ng's `wpm` counts English words. For Vietnamese it gives about 160 syllables a minute, so a
650-word bulletin lasts about four minutes: unhurried enough for horns that echo between houses."""

DEFAULT_PITCH = 50


@dataclass(frozen=True)
class Voice:
    """An engine-neutral voice request: which engine, which of its voices, how fast and how high."""

    engine: str
    name: str
    rate_wpm: int = DEFAULT_RATE_WPM
    pitch: int = DEFAULT_PITCH


@dataclass(frozen=True)
class Synthesis:
    """Raw engine output: interleaved signed little-endian PCM."""

    pcm: bytes
    sample_rate: int
    channels: int
    sample_width: int
    engine: str
    voice: str

    @property
    def duration_s(self) -> float:
        """Seconds of audio in `pcm`."""
        return len(self.pcm) / (self.sample_rate * self.channels * self.sample_width)


class EngineUnavailable(AudioError):
    """The engine cannot speak right now (service unreachable, program or model missing), though the request
    itself is fine. `render_text` answers this, and only this, by falling back to the offline espeak-ng voice."""


class BadVoiceRequest(AudioError):
    """The request itself is wrong (empty text, unknown voice, rate or pitch out of range): a 422, not a 500."""

    status_code = 422


class TtsEngine(Protocol):
    """Turns text into speech. Implementations: espeak-ng, edge-tts and Piper (uploads skip synthesis).

    `synthesize` blocks; it raises `AudioError` (with `message_vi`) for empty text, an unknown voice or
    bad parameters, `EngineUnavailable` when the engine itself cannot run, and must be safe to call from
    several threads.
    """

    name: str

    def synthesize(self, text: str, voice: Voice) -> Synthesis: ...


MAX_TEXT_CHARS = 50_000
"""About 40 minutes of speech: longer text in one synthesis is a mistake (and would hold espeak's lock)."""


def empty_text() -> BadVoiceRequest:
    """The error every engine raises for text with nothing to read."""
    return BadVoiceRequest("nothing to synthesise: empty text", "Bản tin không có nội dung để đọc.")


def check_text(text: str) -> str:
    """What every engine does first: drop NUL bytes and outer space, refuse empty or overlong text."""
    text = text.replace("\x00", " ").strip()
    if not text:
        raise empty_text()
    if len(text) > MAX_TEXT_CHARS:
        raise BadVoiceRequest(
            f"text too long for one synthesis: {len(text)} > {MAX_TEXT_CHARS} characters",
            f"Bản tin quá dài ({len(text)} ký tự). Hãy chia thành nhiều bản tin, mỗi bản dưới {MAX_TEXT_CHARS} ký tự.",
        )
    return text


def check_voice_engine(engine: str, voice: Voice) -> None:
    """Refuse a voice meant for another engine."""
    if voice.engine != engine:
        raise AudioError(
            f"voice for engine {voice.engine!r} given to {engine}", f"Giọng đọc không thuộc bộ đọc {engine}."
        )
