"""Spoken-duration estimates from normalised text, calibrated per voice.

A voice reads syllables at its own pace and pauses at commas and sentence ends. Both were fitted by least
squares on the sample library (bulletins/*.md) rendered with each espeak-ng voice at 120 wpm; the estimate
is then within 2 % of the rendered audio for every sample (tests/controller/test_estimate_accuracy.py).
Vietnamese writes one syllable per space-separated word, so counting words counts syllables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from controller.audio.engine import DEFAULT_RATE_WPM, Voice


@dataclass(frozen=True)
class Pace:
    """How a voice reads at the default rate: syllables per minute, and seconds of pause per punctuation."""

    syllables_per_minute: float
    pause_s: float


PACES = {
    "vi": Pace(179.8, 0.349),
    "vi-vn-x-central": Pace(176.6, 0.349),
    "vi-vn-x-south": Pace(173.4, 0.349),
}
_FALLBACK = Pace(160.0, 0.0)
"""Neural voices (edge-tts, Piper): not measured offline; their pauses are folded into the syllable rate."""

_SYLLABLE = re.compile(r"\w+")
_PAUSE = re.compile(r"[,;:]|[.!?]+")


def syllables(text: str) -> int:
    return len(_SYLLABLE.findall(text))


def estimate_seconds(normalised_text: str, voice: Voice) -> float:
    """Seconds the voice will take to read `normalised_text`."""
    pace = PACES.get(voice.name, _FALLBACK) if voice.engine == "espeak-ng" else _FALLBACK
    speed = voice.rate_wpm / DEFAULT_RATE_WPM
    speaking = syllables(normalised_text) / pace.syllables_per_minute * 60.0
    pauses = len(_PAUSE.findall(normalised_text)) * pace.pause_s
    return (speaking + pauses) / speed
