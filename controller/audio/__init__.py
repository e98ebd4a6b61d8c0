"""Audio: TTS engines behind one interface, uploads, broadcast mastering, content-addressed storage."""

from controller.audio.edge import EdgeStream, EdgeTtsEngine
from controller.audio.encode import (
    EncodedAudio,
    Mastering,
    decode_mp3,
    encode_mp3,
    master_speech,
    probe_mp3_duration,
)
from controller.audio.engine import DEFAULT_PITCH, DEFAULT_RATE_WPM, EngineUnavailable, Synthesis, TtsEngine, Voice
from controller.audio.espeak import VOICES, EspeakEngine
from controller.audio.ffmpeg import Loudness
from controller.audio.master import (
    PIPELINE_VERSION,
    TARGET_LUFS,
    TRUE_PEAK_CEILING_DBTP,
    LoudnessMastering,
    jingle_names,
)
from controller.audio.piper import PiperEngine
from controller.audio.render import (
    Fallback,
    RenderedAudio,
    engine_names,
    fallback_voice,
    get_engine,
    register_engine,
    render_key,
    render_text,
    render_upload,
    synthesize,
)
from controller.audio.store import MediaStore, StoredMedia
from controller.audio.upload import UPLOAD_FORMATS, decode_upload

__all__ = [
    "DEFAULT_PITCH",
    "DEFAULT_RATE_WPM",
    "PIPELINE_VERSION",
    "TARGET_LUFS",
    "TRUE_PEAK_CEILING_DBTP",
    "UPLOAD_FORMATS",
    "VOICES",
    "EdgeStream",
    "EdgeTtsEngine",
    "EncodedAudio",
    "EngineUnavailable",
    "EspeakEngine",
    "Fallback",
    "Loudness",
    "LoudnessMastering",
    "Mastering",
    "MediaStore",
    "PiperEngine",
    "RenderedAudio",
    "StoredMedia",
    "Synthesis",
    "TtsEngine",
    "Voice",
    "decode_mp3",
    "decode_upload",
    "encode_mp3",
    "engine_names",
    "fallback_voice",
    "get_engine",
    "jingle_names",
    "master_speech",
    "probe_mp3_duration",
    "register_engine",
    "render_key",
    "render_text",
    "render_upload",
    "synthesize",
]
