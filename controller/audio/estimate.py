"""Spoken-duration estimates from normalised text, calibrated per voice.

Measured on the sample bulletin with espeak-ng at 120 wpm: syllables per minute of speech.
Vietnamese writes one syllable per space-separated word, so counting words counts syllables.
"""

from __future__ import annotations

import re

from controller.audio.engine import DEFAULT_RATE_WPM, Voice

SYLLABLES_PER_MINUTE = {"vi": 162.0, "vi-vn-x-central": 158.0, "vi-vn-x-south": 156.0}
_FALLBACK = 160.0
_SYLLABLE = re.compile(r"\w+")


def syllables(text: str) -> int:
    return len(_SYLLABLE.findall(text))


def estimate_seconds(normalised_text: str, voice: Voice) -> float:
    """Seconds the voice will take to read `normalised_text`."""
    per_minute = SYLLABLES_PER_MINUTE.get(voice.name, _FALLBACK) * voice.rate_wpm / DEFAULT_RATE_WPM
    return syllables(normalised_text) / per_minute * 60.0
