"""The TTS engine interface. Engines return raw PCM; mastering and encoding happen afterwards."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Voice:
    """An engine-neutral voice request."""

    engine: str = "espeak-ng"
    name: str = "vi"
    rate_wpm: int = 150
    pitch: int = 50


@dataclass(frozen=True)
class Synthesis:
    """Raw engine output: signed little-endian PCM."""

    pcm: bytes
    sample_rate: int
    channels: int
    sample_width: int
    engine: str
    voice: str

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / (self.sample_rate * self.channels * self.sample_width)


class TtsEngine(Protocol):
    """Turns text into speech. Implementations: espeak-ng now; edge-tts, Piper and uploads later."""

    name: str

    def synthesize(self, text: str, voice: Voice) -> Synthesis: ...
