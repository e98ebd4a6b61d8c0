"""Check what a bulletin refers to (voice, jingles) when it is set, not only when the audio is made."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from controller.audio import edge, espeak
from controller.audio.edge import VOICES as EDGE_VOICES
from controller.audio.espeak import VOICES as ESPEAK_VOICES
from controller.audio.master import JINGLES_DIR, jingle_path
from controller.audio.render import engine_names
from controller.errors import AudioError, InvalidInput

NOT_NULL = {
    "title": "tiêu đề",
    "topic": "chuyên đề",
    "body": "nội dung",
    "legal_references": "căn cứ pháp lý",
    "priority": "mức ưu tiên",
    "language": "ngôn ngữ",
    "voice": "giọng đọc",
}
"""Fields a change may leave out but not set to null, with their Vietnamese names."""

KNOWN_VOICES: Mapping[str, Mapping[str, str]] = {"espeak-ng": ESPEAK_VOICES, "edge-tts": EDGE_VOICES}
"""Voices per engine, where the list is fixed (Piper's depend on the installed models)."""

RANGES: Mapping[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "espeak-ng": (espeak.RATE_RANGE, espeak.PITCH_RANGE),
    "edge-tts": (edge.RATE_RANGE, edge.PITCH_RANGE),
}
"""(rate in words per minute, pitch) each engine accepts."""


def check_not_null(fields: Mapping[str, object]) -> None:
    for key, label in NOT_NULL.items():
        if key in fields and fields[key] is None:
            raise InvalidInput(f"{key} may not be null", f"Không được để trống {label}.")


def check_voice(engine: str, name: str, rate_wpm: object = None, pitch: object = None) -> None:
    if engine not in engine_names():
        raise InvalidInput(
            f"unknown TTS engine {engine!r}",
            f"Không có bộ đọc '{engine}'. Hãy chọn một trong các bộ đọc: {', '.join(engine_names())}.",
        )
    voices = KNOWN_VOICES.get(engine)
    if voices is not None and name not in voices:
        raise InvalidInput(
            f"unknown voice {name!r} for {engine}",
            f"Bộ đọc {engine} không có giọng '{name}'. Hãy chọn một trong các giọng: {', '.join(voices)}.",
        )
    if not name:
        raise InvalidInput("empty voice name", "Hãy chọn giọng đọc.")
    if engine in RANGES:
        (rate_low, rate_high), (pitch_low, pitch_high) = RANGES[engine]
        if isinstance(rate_wpm, int) and not rate_low <= rate_wpm <= rate_high:
            raise InvalidInput(
                f"{engine} rate {rate_wpm} outside {rate_low}-{rate_high}",
                f"Tốc độ đọc {rate_wpm} không hợp lệ với bộ đọc {engine}; hãy chọn từ {rate_low} đến {rate_high}.",
            )
        if isinstance(pitch, int) and not pitch_low <= pitch <= pitch_high:
            raise InvalidInput(
                f"{engine} pitch {pitch} outside {pitch_low}-{pitch_high}",
                f"Độ cao giọng {pitch} không hợp lệ với bộ đọc {engine}; hãy chọn từ {pitch_low} đến {pitch_high}.",
            )


def check_jingle(name: str | None, jingles_dir: Path | None) -> None:
    if name is None:
        return
    try:
        jingle_path(name, jingles_dir or JINGLES_DIR)
    except AudioError as exc:
        raise InvalidInput(str(exc), exc.message_vi) from None


def check_bulletin_fields(fields: Mapping[str, object], jingles_dir: Path | None) -> None:
    """Refuse (422, in Vietnamese) a null where a value is needed, an unknown voice or a missing jingle."""
    check_not_null(fields)
    voice = fields.get("voice")
    if isinstance(voice, Mapping):
        check_voice(str(voice.get("engine", "")), str(voice.get("name", "")), voice.get("rate_wpm"), voice.get("pitch"))
    for key in ("intro_jingle", "outro_jingle"):
        value = fields.get(key)
        check_jingle(value if isinstance(value, str) else None, jingles_dir)
