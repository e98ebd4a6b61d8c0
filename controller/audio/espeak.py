"""Offline Vietnamese TTS: libespeak-ng from the `espeakng-loader` wheel, driven through ctypes."""

from __future__ import annotations

import ctypes
import threading
from typing import Any

from controller.audio.engine import Synthesis, Voice
from controller.errors import AudioError

VOICES = {"vi": "miền Bắc", "vi-vn-x-central": "miền Trung", "vi-vn-x-south": "miền Nam"}

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_ESPEAK_RATE = 1
_ESPEAK_PITCH = 3
_ESPEAK_CHARS_UTF8 = 1
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class _Library:
    """The process-wide libespeak-ng. Its state is global, so every call holds one lock."""

    lock = threading.Lock()
    _instance: _Library | None = None

    def __init__(self) -> None:
        import espeakng_loader

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        data = espeakng_loader.get_data_path().encode()
        self.sample_rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, 0)
        if self.sample_rate <= 0:
            raise AudioError("espeak-ng failed to initialise", "Không khởi động được bộ đọc espeak-ng.")
        self._buffer = bytearray()
        # Keep a reference to the callback for the life of the process: C holds a pointer to it.
        self._callback: Any = _SYNTH_CALLBACK(self._collect)
        lib.espeak_SetSynthCallback(self._callback)
        self.lib = lib

    def _collect(self, wav: Any, samples: int, _events: Any) -> int:
        if wav and samples > 0:
            self._buffer.extend(ctypes.string_at(wav, samples * 2))
        return 0

    @classmethod
    def get(cls) -> _Library:
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def synth(self, text: str, voice: Voice) -> bytes:
        if self.lib.espeak_SetVoiceByName(voice.name.encode()) != 0:
            raise AudioError(
                f"espeak-ng has no voice {voice.name!r}",
                f"Không có giọng đọc '{voice.name}'. Hãy chọn: {', '.join(VOICES)}.",
            )
        self.lib.espeak_SetParameter(_ESPEAK_RATE, voice.rate_wpm, 0)
        self.lib.espeak_SetParameter(_ESPEAK_PITCH, voice.pitch, 0)
        data = text.encode("utf-8")
        self._buffer = bytearray()
        status = self.lib.espeak_Synth(data, len(data) + 1, 0, 0, 0, _ESPEAK_CHARS_UTF8, None, None)
        if status != 0:
            raise AudioError(f"espeak_Synth failed with status {status}", "Bộ đọc espeak-ng gặp lỗi khi đọc văn bản.")
        return bytes(self._buffer)


class EspeakEngine:
    """espeak-ng voices: `vi` (northern), `vi-vn-x-central` and `vi-vn-x-south`. 22.05 kHz, 16-bit, mono."""

    name = "espeak-ng"

    def synthesize(self, text: str, voice: Voice) -> Synthesis:
        if not text.strip():
            raise AudioError("nothing to synthesise: empty text", "Bản tin không có nội dung để đọc.")
        if voice.name not in VOICES:
            raise AudioError(
                f"unknown espeak-ng voice {voice.name!r}",
                f"Không có giọng đọc '{voice.name}'. Hãy chọn: {', '.join(VOICES)}.",
            )
        with _Library.lock:
            lib = _Library.get()
            pcm = lib.synth(text, voice)
            rate = lib.sample_rate
        if not pcm:
            raise AudioError("espeak-ng produced no audio", "Bộ đọc không tạo ra âm thanh.")
        return Synthesis(pcm=pcm, sample_rate=rate, channels=1, sample_width=2, engine=self.name, voice=voice.name)
