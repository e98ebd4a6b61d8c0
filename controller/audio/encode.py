"""From engine PCM to a broadcast MP3, through pydub and the ffmpeg binary bundled by imageio-ffmpeg.

No system ffmpeg and no ffprobe: every decode names its format and codec, so pydub never probes.
The mastering itself lives in `controller.audio.master`.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # pydub imports audioop; see controller.audio.master
    warnings.simplefilter("ignore", RuntimeWarning)
    from pydub import AudioSegment

from controller.audio.engine import Synthesis
from controller.audio.ffmpeg import ffmpeg_exe, measure_mp3
from controller.audio.master import (
    BITRATE,
    SAMPLE_RATE,
    EncodedAudio,
    LoudnessMastering,
    export_mp3,
    trim_silence,
)
from controller.errors import AudioError

__all__ = [
    "BITRATE",
    "SAMPLE_RATE",
    "EncodedAudio",
    "Mastering",
    "decode_mp3",
    "encode_mp3",
    "ffmpeg_exe",
    "master_speech",
    "probe_mp3_duration",
    "to_segment",
    "trim_silence",
]

Mastering = Callable[[AudioSegment], AudioSegment]
"""A mastering step: PCM in, mono PCM out. A `LoudnessMastering` is one, and `encode_mp3` knows it."""

master_speech: Mastering = LoudnessMastering()
"""The default mastering: silence trimmed, -16 LUFS integrated, true peak under -1.5 dBTP, no jingles."""


def to_segment(synthesis: Synthesis) -> AudioSegment:
    return AudioSegment(
        data=synthesis.pcm,
        sample_width=synthesis.sample_width,
        frame_rate=synthesis.sample_rate,
        channels=synthesis.channels,
    )


def encode_mp3(synthesis: Synthesis, master: Mastering = master_speech) -> EncodedAudio:
    """Master the synthesis and encode it as mono MP3 at 32 kbps, 22.05 kHz; measure the MP3.

    With a `LoudnessMastering` (the default) the MP3 is measured and corrected until it meets the loudness
    window and the true-peak ceiling. Any other `master` is applied as it is, then encoded and measured.
    `duration_s` is the length of the mastered audio, which is what the MP3 decodes back to.
    """
    ffmpeg_exe()
    segment = to_segment(synthesis)
    if isinstance(master, LoudnessMastering):
        return master.encode(segment)
    mastered = master(segment)
    if len(mastered) == 0:
        raise AudioError("mastering left no audio", "Sau khi xử lý, bản tin không còn âm thanh.")
    data = export_mp3(mastered)
    loudness = measure_mp3(data)
    return EncodedAudio(
        data=data,
        duration_s=len(mastered) / 1000.0,
        lufs=loudness.integrated_lufs,
        true_peak_dbtp=loudness.true_peak_dbtp,
    )


def decode_mp3(data: bytes) -> AudioSegment:
    """Decode MP3 bytes with an explicit format and codec, so pydub never calls ffprobe."""
    ffmpeg_exe()
    try:
        return AudioSegment.from_file(io.BytesIO(data), format="mp3", codec="mp3")
    except Exception as exc:
        raise AudioError(f"MP3 decoding failed: {exc}", "Tệp âm thanh MP3 bị hỏng hoặc không đọc được.") from exc


def probe_mp3_duration(data: bytes) -> float:
    """The playing time of an MP3 in seconds, by decoding it in full (exact, and about 0.2 s per 5 minutes)."""
    return len(decode_mp3(data)) / 1000.0
