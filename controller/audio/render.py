"""Text to stored broadcast audio: synthesise, master, encode, store by content."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from controller.audio.encode import encode_mp3
from controller.audio.engine import TtsEngine, Voice
from controller.audio.espeak import EspeakEngine
from controller.audio.store import MediaStore
from controller.errors import AudioError

_ENGINES: dict[str, Callable[[], TtsEngine]] = {EspeakEngine.name: EspeakEngine}
"""Engine factories by name. Factories, not instances: nothing is loaded until an engine is asked for."""


@dataclass(frozen=True)
class RenderedAudio:
    """A bulletin's audio in the media store, and what made it."""

    sha256: str
    size_bytes: int
    duration_s: float
    engine: str
    voice: str
    path: Path


def engine_names() -> list[str]:
    return sorted(_ENGINES)


def get_engine(name: str) -> TtsEngine:
    """A new engine of the kind registered under `name`. Raises `AudioError` for an unknown name."""
    try:
        factory = _ENGINES[name]
    except KeyError:
        raise AudioError(
            f"unknown TTS engine {name!r}",
            f"Không có bộ đọc '{name}'. Hãy chọn một trong các bộ đọc: {', '.join(engine_names())}.",
        ) from None
    return factory()


def render_text(text: str, voice: Voice, store: MediaStore, engine: TtsEngine | None = None) -> RenderedAudio:
    """Synthesise `text` in `voice`, master it, encode MP3 and store it by content.

    Identical bytes are stored once. Rendering the same text twice need not give identical bytes, though:
    libespeak-ng keeps pitch-flutter state between utterances, so its output drifts by a few samples.
    """
    engine = engine or get_engine(voice.engine)
    synthesis = engine.synthesize(text, voice)
    encoded = encode_mp3(synthesis)
    stored = store.put(encoded.data)
    return RenderedAudio(
        sha256=stored.sha256,
        size_bytes=stored.size_bytes,
        duration_s=encoded.duration_s,
        engine=synthesis.engine,
        voice=synthesis.voice,
        path=stored.path,
    )
