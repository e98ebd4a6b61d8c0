"""Text to stored broadcast audio: synthesise, master, encode, store by content."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from controller.audio.encode import encode_mp3
from controller.audio.engine import TtsEngine, Voice
from controller.audio.espeak import EspeakEngine
from controller.audio.store import MediaStore
from controller.errors import AudioError


@dataclass(frozen=True)
class RenderedAudio:
    sha256: str
    size_bytes: int
    duration_s: float
    engine: str
    voice: str
    path: Path


def get_engine(name: str) -> TtsEngine:
    """The engine registered under `name`. Engines are created on demand, never at import."""
    if name == EspeakEngine.name:
        return EspeakEngine()
    raise AudioError(f"unknown TTS engine {name!r}", f"Không có bộ đọc '{name}'.")


def render_text(text: str, voice: Voice, store: MediaStore, engine: TtsEngine | None = None) -> RenderedAudio:
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
