"""From engine PCM to a speech MP3, through pydub and the ffmpeg binary bundled by imageio-ffmpeg."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from functools import cache

with warnings.catch_warnings():
    # pydub imports audioop (deprecated in 3.11) and looks for a system ffmpeg at import time;
    # we point it at imageio-ffmpeg's binary below, so neither warning applies.
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", RuntimeWarning)
    from pydub import AudioSegment, effects, silence

from controller.audio.engine import Synthesis
from controller.errors import AudioError

SPEECH_BITRATE = "32k"
SAMPLE_RATE = 22050
PEAK_HEADROOM_DB = 1.0


@dataclass(frozen=True)
class EncodedAudio:
    data: bytes
    duration_s: float


@cache
def ffmpeg() -> str:
    """Point pydub at the bundled ffmpeg; no system ffmpeg or ffprobe is needed."""
    import imageio_ffmpeg

    exe: str = imageio_ffmpeg.get_ffmpeg_exe()
    AudioSegment.converter = exe
    return exe


def to_segment(synthesis: Synthesis) -> AudioSegment:
    return AudioSegment(
        data=synthesis.pcm,
        sample_width=synthesis.sample_width,
        frame_rate=synthesis.sample_rate,
        channels=synthesis.channels,
    )


def master(segment: AudioSegment) -> AudioSegment:
    """Minimum mastering: trim silence at both ends, mono, peak-normalise with 1 dB headroom.

    Loudness normalisation to a LUFS target replaces the peak step in the bulletin-production issue.
    """
    segment = segment.set_channels(1).set_frame_rate(SAMPLE_RATE)
    ranges = silence.detect_nonsilent(segment, min_silence_len=200, silence_thresh=segment.dBFS - 30)
    if ranges:
        start = max(0, ranges[0][0] - 100)
        end = min(len(segment), ranges[-1][1] + 150)
        segment = segment[start:end]
    return effects.normalize(segment, headroom=PEAK_HEADROOM_DB)


def encode_mp3(synthesis: Synthesis) -> EncodedAudio:
    """Master and encode as mono MP3 at 32 kbps: about 240 kB a minute for poor 4G links."""
    ffmpeg()
    mastered = master(to_segment(synthesis))
    out = io.BytesIO()
    try:
        mastered.export(out, format="mp3", bitrate=SPEECH_BITRATE, parameters=["-ac", "1"])
    except Exception as exc:
        raise AudioError(f"MP3 encoding failed: {exc}", "Không mã hóa được tệp âm thanh MP3.") from exc
    return EncodedAudio(data=out.getvalue(), duration_s=len(mastered) / 1000.0)


def decode_mp3(data: bytes) -> AudioSegment:
    """Decode MP3 bytes with an explicit format and codec, so pydub never calls ffprobe."""
    ffmpeg()
    try:
        return AudioSegment.from_file(io.BytesIO(data), format="mp3", codec="mp3")
    except Exception as exc:
        raise AudioError(f"MP3 decoding failed: {exc}", "Tệp âm thanh MP3 bị hỏng.") from exc
