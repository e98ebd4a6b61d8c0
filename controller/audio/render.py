"""Text or an uploaded recording to stored broadcast audio: synthesise (falling back offline if need be),
master, encode, measure, store by content."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from controller.audio.edge import EdgeTtsEngine
from controller.audio.encode import encode_mp3
from controller.audio.engine import EngineUnavailable, Synthesis, TtsEngine, Voice
from controller.audio.espeak import PITCH_RANGE, RATE_RANGE, VOICES, EspeakEngine
from controller.audio.master import PIPELINE_VERSION, EncodedAudio, LoudnessMastering, jingle_path
from controller.audio.piper import PiperEngine
from controller.audio.store import MediaStore
from controller.audio.upload import decode_upload
from controller.errors import AudioError

log = logging.getLogger(__name__)

_ENGINES: dict[str, Callable[[], TtsEngine]] = {
    EspeakEngine.name: EspeakEngine,
    EdgeTtsEngine.name: EdgeTtsEngine,
    PiperEngine.name: PiperEngine,
}
"""Engine factories by name. Factories, not instances: nothing is loaded until an engine is asked for."""

FALLBACK_ENGINE = EspeakEngine.name
FALLBACK_VOICES = {"vi-VN-HoaiMyNeural": "vi", "vi-VN-NamMinhNeural": "vi"}
"""The offline espeak-ng accent for each online voice (both edge-tts voices read northern). Default `vi`."""


@dataclass(frozen=True)
class Fallback:
    """Why the requested voice did not make the audio, and which voice did instead."""

    from_engine: str
    from_voice: str
    reason: str
    notice_vi: str

    @property
    def from_label(self) -> str:
        return f"{self.from_engine}:{self.from_voice}"


@dataclass(frozen=True)
class RenderedAudio:
    """A bulletin's audio in the media store, what made it, and how loud it measured.

    `engine` and `voice` name what actually spoke. When the requested voice failed, `fallback_from` is
    `"engine:voice"` of the request, `fallback_reason` says why (English, for logs) and `notice_vi` tells
    the officer; all three are None otherwise. `pipeline` is the mastering version that made the file.
    """

    sha256: str
    size_bytes: int
    duration_s: float
    engine: str
    voice: str
    path: Path
    lufs: float | None = None
    true_peak_dbtp: float | None = None
    fallback_from: str | None = None
    fallback_reason: str | None = None
    notice_vi: str | None = None
    pipeline: str = PIPELINE_VERSION


def engine_names() -> list[str]:
    return sorted(_ENGINES)


def register_engine(name: str, factory: Callable[[], TtsEngine]) -> None:
    """Make `factory` the engine for `name`, e.g. a `PiperEngine(model_dir=...)` from settings."""
    _ENGINES[name] = factory


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


def fallback_voice(voice: Voice) -> Voice:
    """The offline espeak-ng voice that stands in for `voice`: same accent, rate and pitch where it can."""
    name = voice.name if voice.name in VOICES else FALLBACK_VOICES.get(voice.name, "vi")
    rate = min(RATE_RANGE[1], max(RATE_RANGE[0], voice.rate_wpm))
    pitch = min(PITCH_RANGE[1], max(PITCH_RANGE[0], voice.pitch))
    return Voice(engine=FALLBACK_ENGINE, name=name, rate_wpm=rate, pitch=pitch)


def synthesize(
    text: str, voice: Voice, engine: TtsEngine | None = None, *, fallback: bool = True
) -> tuple[Synthesis, Fallback | None]:
    """Speak `text` in `voice`; if its engine is unavailable (offline, program or model missing), speak it
    with `fallback_voice(voice)` instead and say so. Request errors (empty text, bad voice) are raised."""
    engine = engine or get_engine(voice.engine)
    try:
        return engine.synthesize(text, voice), None
    except EngineUnavailable as exc:
        if not fallback or voice.engine == FALLBACK_ENGINE:
            raise
        stand_in = fallback_voice(voice)
        log.warning(
            "%s voice %s unavailable, falling back to %s %s: %s",
            voice.engine,
            voice.name,
            stand_in.engine,
            stand_in.name,
            exc,
        )
        notice = (
            f"Không dùng được bộ đọc {voice.engine} ({exc.message_vi}). "
            f"Bản tin đã được đọc bằng giọng dự phòng espeak-ng ({VOICES[stand_in.name]}); hãy nghe lại trước khi phát."
        )
        synthesis = get_engine(FALLBACK_ENGINE).synthesize(text, stand_in)
        return synthesis, Fallback(voice.engine, voice.name, str(exc), notice)


def _stored(encoded: EncodedAudio, synthesis: Synthesis, store: MediaStore, fallback: Fallback | None) -> RenderedAudio:
    if not encoded.data:  # never store empty audio
        raise AudioError("encoding produced no audio", "Sau khi xử lý, bản tin không còn âm thanh.")
    stored = store.put(encoded.data)
    return RenderedAudio(
        sha256=stored.sha256,
        size_bytes=stored.size_bytes,
        duration_s=encoded.duration_s,
        engine=synthesis.engine,
        voice=synthesis.voice,
        path=stored.path,
        lufs=encoded.lufs,
        true_peak_dbtp=encoded.true_peak_dbtp,
        fallback_from=fallback.from_label if fallback else None,
        fallback_reason=fallback.reason if fallback else None,
        notice_vi=fallback.notice_vi if fallback else None,
    )


def render_text(
    text: str,
    voice: Voice,
    store: MediaStore,
    engine: TtsEngine | None = None,
    *,
    mastering: LoudnessMastering | None = None,
    fallback: bool = True,
) -> RenderedAudio:
    """Synthesise `text` in `voice` (or its offline stand-in, recorded), master, encode MP3, store by content.

    Identical bytes are stored once. Rendering the same text twice need not give identical bytes, though:
    libespeak-ng keeps pitch-flutter state between utterances, so its output drifts by a few samples.
    """
    synthesis, fell_back = synthesize(text, voice, engine, fallback=fallback)
    return _stored(encode_mp3(synthesis, mastering or LoudnessMastering()), synthesis, store, fell_back)


def render_upload(
    data: bytes, filename: str, store: MediaStore, *, mastering: LoudnessMastering | None = None
) -> RenderedAudio:
    """An uploaded MP3, WAV, M4A or OGG recording, checked, mastered like speech, encoded and stored.

    The result's engine is `"upload"` and its voice the file's name. Raises `InvalidInput` in Vietnamese for
    an empty, unknown, damaged, too short or too long file, `AudioError` for a silent one.
    """
    synthesis = decode_upload(data, filename)
    return _stored(encode_mp3(synthesis, mastering or LoudnessMastering()), synthesis, store, None)


def render_key(text: str, voice: Voice, mastering: LoudnessMastering | None = None) -> str:
    """Identifies a render by everything that shapes its audio: pipeline version, engine, voice, rate,
    pitch, jingles (by name and content) and the text. For the service's render cache."""
    mastering = mastering or LoudnessMastering()
    parts = [PIPELINE_VERSION, voice.engine, voice.name, str(voice.rate_wpm), str(voice.pitch)]
    parts += [f"{mastering.target_lufs:g}", f"{mastering.true_peak_ceiling_dbtp:g}"]
    for name in (mastering.intro, mastering.outro):
        digest = hashlib.sha256(jingle_path(name, mastering.jingle_dir).read_bytes()).hexdigest() if name else ""
        parts.append(f"{name or ''}:{digest}")
    parts.append(text)
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
