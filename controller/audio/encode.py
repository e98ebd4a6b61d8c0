"""From engine PCM to a broadcast MP3, through pydub and the ffmpeg binary bundled by imageio-ffmpeg.

No system ffmpeg and no ffprobe: every decode names its format and codec, so pydub never probes.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

with warnings.catch_warnings():
    # pydub imports audioop (deprecated since 3.11) and warns at import when no system ffmpeg is on PATH;
    # we point it at imageio-ffmpeg's binary before any use, so neither warning applies.
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", RuntimeWarning)
    from pydub import AudioSegment, effects, silence

from controller.audio.engine import Synthesis
from controller.errors import AudioError

SAMPLE_RATE = 22050
BITRATE = "32k"  # speech over horns: 4 kB a second, so five minutes stay under 1.2 MB on a poor 4G link
PEAK_HEADROOM_DB = 1.0
SILENCE_BELOW_AVERAGE_DB = 30.0  # quieter than the average level by this much counts as silence at the ends
SILENCE_CHUNK_MS = 10
LEAD_IN_MS = 100  # keep a breath of silence so the first syllable is not clipped when the amplifier settles
TAIL_MS = 150

Mastering = Callable[[AudioSegment], AudioSegment]
"""A mastering step: mono PCM in, mono PCM out. `encode_mp3` takes one, so the loudness issue can swap it."""


@dataclass(frozen=True)
class EncodedAudio:
    """A broadcast MP3 and the length of the audio it holds."""

    data: bytes
    duration_s: float


@cache
def ffmpeg_exe() -> str:
    """The bundled ffmpeg, installed as pydub's converter on first use (never at import)."""
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


def trim_silence(segment: AudioSegment) -> AudioSegment:
    """Cut silence at both ends, keeping a short lead-in and tail. Scans only the ends, so it is fast."""
    if segment.rms == 0:
        return segment
    threshold = segment.dBFS - SILENCE_BELOW_AVERAGE_DB
    start = silence.detect_leading_silence(segment, threshold, SILENCE_CHUNK_MS)
    end = len(segment) - silence.detect_leading_silence(segment.reverse(), threshold, SILENCE_CHUNK_MS)
    if start >= end:
        return segment
    return segment[max(0, start - LEAD_IN_MS) : min(len(segment), end + TAIL_MS)]


def master_speech(segment: AudioSegment) -> AudioSegment:
    """Minimum mastering: mono at 22.05 kHz, silence trimmed at both ends, peak-normalised to -1 dBFS.

    Peak normalisation evens out engines, not programmes; the bulletin-production issue replaces it with
    loudness normalisation (LUFS) and a limiter, passed to `encode_mp3` as `master=`.
    """
    segment = segment.set_channels(1).set_frame_rate(SAMPLE_RATE)
    return effects.normalize(trim_silence(segment), headroom=PEAK_HEADROOM_DB)


def encode_mp3(synthesis: Synthesis, master: Mastering = master_speech) -> EncodedAudio:
    """Master the synthesis and encode it as mono MP3 at 32 kbps, 22.05 kHz.

    `duration_s` is the length of the mastered audio, which is what the MP3 decodes back to.
    """
    ffmpeg_exe()
    mastered = master(to_segment(synthesis))
    if len(mastered) == 0:
        raise AudioError("mastering left no audio", "Sau khi xử lý, bản tin không còn âm thanh.")
    out = io.BytesIO()
    try:
        mastered.export(
            out, format="mp3", codec="libmp3lame", bitrate=BITRATE, parameters=["-ac", "1", "-ar", str(SAMPLE_RATE)]
        )
    except Exception as exc:
        raise AudioError(f"MP3 encoding failed: {exc}", "Không mã hóa được tệp âm thanh MP3.") from exc
    return EncodedAudio(data=out.getvalue(), duration_s=len(mastered) / 1000.0)


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
