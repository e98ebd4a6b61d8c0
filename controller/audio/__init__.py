"""Audio: TTS engines behind one interface, mastering and MP3 encoding, content-addressed storage."""

from controller.audio.encode import (
    EncodedAudio,
    Mastering,
    decode_mp3,
    encode_mp3,
    master_speech,
    probe_mp3_duration,
)
from controller.audio.engine import DEFAULT_RATE_WPM, Synthesis, TtsEngine, Voice
from controller.audio.espeak import VOICES, EspeakEngine
from controller.audio.render import RenderedAudio, engine_names, get_engine, render_text
from controller.audio.store import MediaStore, StoredMedia

__all__ = [
    "DEFAULT_RATE_WPM",
    "VOICES",
    "EncodedAudio",
    "EspeakEngine",
    "Mastering",
    "MediaStore",
    "RenderedAudio",
    "StoredMedia",
    "Synthesis",
    "TtsEngine",
    "Voice",
    "decode_mp3",
    "encode_mp3",
    "engine_names",
    "get_engine",
    "master_speech",
    "probe_mp3_duration",
    "render_text",
]
