"""Audio: TTS engines behind one interface, mastering and MP3 encoding, content-addressed storage."""

from controller.audio.encode import EncodedAudio, decode_mp3, encode_mp3
from controller.audio.engine import Synthesis, TtsEngine, Voice
from controller.audio.espeak import VOICES, EspeakEngine
from controller.audio.render import RenderedAudio, get_engine, render_text
from controller.audio.store import MediaStore, StoredMedia

__all__ = [
    "VOICES",
    "EncodedAudio",
    "EspeakEngine",
    "MediaStore",
    "RenderedAudio",
    "StoredMedia",
    "Synthesis",
    "TtsEngine",
    "Voice",
    "decode_mp3",
    "encode_mp3",
    "get_engine",
    "render_text",
]
