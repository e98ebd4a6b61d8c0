"""Offline Vietnamese TTS: libespeak-ng from the `espeakng-loader` wheel, driven through ctypes."""

from __future__ import annotations

import ctypes
import threading
from typing import Any, ClassVar

from controller.audio.engine import BadVoiceRequest, Synthesis, Voice, check_text, check_voice_engine
from controller.errors import AudioError

VOICES = {"vi": "miền Bắc", "vi-vn-x-central": "miền Trung", "vi-vn-x-south": "miền Nam"}
"""The espeak-ng Vietnamese voices, with the accent each one reads in."""

RATE_RANGE = (80, 450)  # espeak-ng clamps outside this; we refuse instead, so a typo is not silently fixed
PITCH_RANGE = (0, 100)

# From espeak-ng's speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000  # without it a failed initialise calls exit(1) and takes the controller down
_ESPEAK_RATE = 1
_ESPEAK_PITCH = 3
_CHARS_UTF8 = 1
_EE_OK = 0
_SAMPLE_WIDTH = 2  # espeak-ng always produces 16-bit mono
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


def _no_voice(name: str) -> BadVoiceRequest:
    return BadVoiceRequest(
        f"espeak-ng has no voice {name!r}",
        f"Không có giọng đọc '{name}'. Hãy chọn một trong các giọng: {', '.join(VOICES)}.",
    )


class _Library:
    """The process-wide libespeak-ng. Its state is global, so it is loaded once and used under one lock."""

    lock: ClassVar[threading.Lock] = threading.Lock()
    _instance: ClassVar[_Library | None] = None

    def __init__(self) -> None:
        import espeakng_loader

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,  # text
            ctypes.c_size_t,  # size
            ctypes.c_uint,  # position
            ctypes.c_int,  # position_type
            ctypes.c_uint,  # end_position
            ctypes.c_uint,  # flags
            ctypes.c_void_p,  # unique_identifier
            ctypes.c_void_p,  # user_data
        ]
        data_path = espeakng_loader.get_data_path().encode()
        sample_rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, _INITIALIZE_DONT_EXIT)
        if sample_rate <= 0:
            raise AudioError(
                f"espeak-ng failed to initialise (status {sample_rate})", "Không khởi động được bộ đọc espeak-ng."
            )
        self.sample_rate: int = sample_rate
        self._chunks: list[bytes] = []
        # C keeps a pointer to this callback, so it must live as long as the library: keep a reference.
        self._callback: Any = _SYNTH_CALLBACK(self._collect)
        lib.espeak_SetSynthCallback(self._callback)
        self.lib = lib

    def _collect(self, wav: Any, samples: int, _events: Any) -> int:
        if wav and samples > 0:
            self._chunks.append(ctypes.string_at(wav, samples * _SAMPLE_WIDTH))
        return 0  # 0: go on synthesising

    @classmethod
    def get(cls) -> _Library:
        """The loaded library. Call with `lock` held."""
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def synth(self, text: str, voice: Voice) -> bytes:
        """Speak `text` in `voice` into 16-bit PCM. Call with `lock` held."""
        if self.lib.espeak_SetVoiceByName(voice.name.encode()) != _EE_OK:
            raise _no_voice(voice.name)
        for parameter, value in ((_ESPEAK_RATE, voice.rate_wpm), (_ESPEAK_PITCH, voice.pitch)):
            if self.lib.espeak_SetParameter(parameter, value, 0) != _EE_OK:
                raise AudioError(
                    f"espeak_SetParameter({parameter}, {value}) failed", "Không đặt được tốc độ hoặc độ cao giọng đọc."
                )
        data = ctypes.create_string_buffer(text.encode("utf-8", errors="replace"))
        self._chunks = []
        try:
            # Synchronous mode: returns once the whole text is spoken, after every callback has run.
            status = self.lib.espeak_Synth(data, len(data), 0, 0, 0, _CHARS_UTF8, None, None)
            if status != _EE_OK:
                raise AudioError(
                    f"espeak_Synth failed with status {status}", "Bộ đọc espeak-ng gặp lỗi khi đọc văn bản."
                )
            return b"".join(self._chunks)
        finally:
            self._chunks = []


class EspeakEngine:
    """espeak-ng voices: `vi` (northern), `vi-vn-x-central` and `vi-vn-x-south`. 22.05 kHz, 16-bit, mono.

    Instances are cheap and share one library, loaded on first use. Calls from several threads take turns.
    """

    name = "espeak-ng"

    def synthesize(self, text: str, voice: Voice) -> Synthesis:
        text = check_text(text)
        check_voice_engine(self.name, voice)
        if voice.name not in VOICES:
            raise _no_voice(voice.name)
        if not RATE_RANGE[0] <= voice.rate_wpm <= RATE_RANGE[1]:
            raise BadVoiceRequest(
                f"espeak-ng rate {voice.rate_wpm} wpm outside {RATE_RANGE}",
                f"Tốc độ đọc {voice.rate_wpm} không hợp lệ; hãy chọn từ {RATE_RANGE[0]} đến {RATE_RANGE[1]}.",
            )
        if not PITCH_RANGE[0] <= voice.pitch <= PITCH_RANGE[1]:
            raise BadVoiceRequest(
                f"espeak-ng pitch {voice.pitch} outside {PITCH_RANGE}",
                f"Độ cao giọng {voice.pitch} không hợp lệ; hãy chọn từ {PITCH_RANGE[0]} đến {PITCH_RANGE[1]}.",
            )
        with _Library.lock:
            library = _Library.get()
            pcm = library.synth(text, voice)
            sample_rate = library.sample_rate
        if not pcm:
            raise AudioError("espeak-ng produced no audio", "Bộ đọc không tạo ra âm thanh nào.")
        return Synthesis(
            pcm=pcm,
            sample_rate=sample_rate,
            channels=1,
            sample_width=_SAMPLE_WIDTH,
            engine=self.name,
            voice=voice.name,
        )
