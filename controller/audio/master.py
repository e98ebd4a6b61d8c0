"""Broadcast mastering, the same for every bulletin whatever made the speech.

Trim silence at both ends, normalise the speech to -16 LUFS integrated with a 4x-oversampled limiter,
add the optional intro and outro jingles (at 3 LU under the speech), encode mono MP3 at 32 kbps, then
measure the MP3 as a player decodes it and correct once or twice if it missed the loudness window or the
true-peak ceiling. Every step runs in the bundled ffmpeg.

Why not `loudnorm` alone: its linear mode is a plain gain, and it silently switches to its dynamic mode
(192 kHz, audible pumping) whenever that gain would push the true peak over the ceiling, which it does for
every espeak-ng render (peaks at 0 dBFS, -19 LUFS). So we take the same two passes ourselves, measure then
apply one linear gain, and catch the peaks with `alimiter` run at 4x the sample rate.
"""

from __future__ import annotations

import logging
import math
import tempfile
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

with warnings.catch_warnings():
    # pydub imports audioop (deprecated since 3.11) and warns at import when no system ffmpeg is on PATH;
    # we point it at imageio-ffmpeg's binary before any use, so neither warning applies.
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", RuntimeWarning)
    from pydub import AudioSegment, silence

from controller.audio.ffmpeg import (
    SILENT_LUFS,
    Loudness,
    decode_to_pcm,
    measure,
    measure_mp3,
    parse_loudness,
    pcm_input,
    run_ffmpeg,
)
from controller.errors import AudioError

log = logging.getLogger(__name__)

PIPELINE_VERSION = "trim-r128-16lufs-tp1.5-jingles-mp3-32k/2"
"""Changes whenever mastering changes what identical input produces. Part of the service's render cache key."""

SAMPLE_RATE = 22050
BITRATE = "32k"  # speech over horns: 4 kB a second, so five minutes stay under 1.2 MB on a poor 4G link
TARGET_LUFS = -16.0
TRUE_PEAK_CEILING_DBTP = -1.5
LUFS_TOLERANCE = 0.5  # a render further than this from the target is corrected and re-encoded
JINGLE_UNDER_SPEECH_LU = 3.0
JINGLE_GAP_MS = 400
JINGLES_DIR = Path(__file__).resolve().parents[2] / "bulletins" / "jingles"
"""Shipped jingles; `LoudnessMastering(intro=..., outro=...)` names files in here."""

SILENCE_BELOW_AVERAGE_DB = 30.0  # quieter than the average level by this much counts as silence at the ends
SILENCE_CHUNK_MS = 10
LEAD_IN_MS = 100  # keep a breath of silence so the first syllable is not clipped when the amplifier settles
TAIL_MS = 150

_OVERSAMPLE = 4  # the limiter runs at 88.2 kHz, so it sees the peaks between samples
_HIGHPASS_HZ = 60  # horns reproduce nothing below; removes rumble and DC from uploads
_LOWPASS_HZ = 5500  # libmp3lame cuts about here at 32 kbps; cutting first (4 poles) keeps its overshoot small
_LIMITER_CEILING_DB = -3.0  # sample peak at 4x; the 32 kbps MP3 adds up to about 1 dB of overshoot
_MP3_LOSS_LU = 0.4  # the MP3 at 32 kbps reads this much quieter than the PCM it was made from
_NORMALISE_PASSES = 5
_NORMALISE_TOLERANCE_LU = 0.15
_MAX_GAIN_DB = 40.0
_MIN_MEASURABLE_MS = 1500
_JINGLE_FORMATS = {".wav": "wav", ".mp3": "mp3", ".ogg": "ogg", ".flac": "flac"}


@dataclass(frozen=True)
class EncodedAudio:
    """A broadcast MP3, the length of the audio it holds, and its measured loudness and true peak."""

    data: bytes
    duration_s: float
    lufs: float | None = None
    true_peak_dbtp: float | None = None


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


def export_mp3(segment: AudioSegment) -> bytes:
    """Mono MP3 at 32 kbps, 22.05 kHz, by the bundled ffmpeg's libmp3lame."""
    segment = segment.set_sample_width(2)
    args = [*pcm_input(segment.frame_rate, segment.channels), "-c:a", "libmp3lame", "-b:a", BITRATE]
    # No ID3 tag: players need none, and five minutes then stay within 1.2 MB.
    args += ["-ac", "1", "-ar", str(SAMPLE_RATE), "-map_metadata", "-1", "-id3v2_version", "0", "-write_id3v1", "0"]
    # To a file, not a pipe: ffmpeg rewrites the Xing/LAME header at the end (length, encoder delay and
    # padding), so players know the exact duration and play no extra silence.
    with tempfile.TemporaryDirectory(prefix="loa-mp3-") as tmp:
        path = Path(tmp) / "out.mp3"
        run_ffmpeg([*args, "-f", "mp3", str(path)], segment.raw_data)
        data = path.read_bytes()
    if not data:
        raise AudioError("MP3 encoding produced no bytes", "Không mã hóa được tệp âm thanh MP3.")
    return data


def _silent(loudness: Loudness) -> bool:
    return loudness.integrated_lufs < SILENT_LUFS


def _no_sound() -> AudioError:
    return AudioError("the audio is silent", "Âm thanh không có tiếng nói hay tiếng động nào nghe được.")


def _limit(segment: AudioSegment, gain_db: float, ceiling_db: float) -> tuple[AudioSegment, Loudness]:
    """One pass: band-limit, gain, 4x-oversampled limiter, back to 22.05 kHz mono; measured on the way out."""
    limit = 10 ** (ceiling_db / 20)
    chain = (
        f"highpass=f={_HIGHPASS_HZ},lowpass=f={_LOWPASS_HZ},lowpass=f={_LOWPASS_HZ},"
        f"volume={gain_db:.3f}dB,aresample={SAMPLE_RATE * _OVERSAMPLE},"
        f"alimiter=limit={limit:.5f}:level=0:attack=5:release=50,aresample={SAMPLE_RATE},"
        "ebur128=framelog=quiet"
    )
    args = [*pcm_input(segment.frame_rate, segment.channels), "-af", chain]
    done = run_ffmpeg([*args, "-f", "s16le", "-ac", "1", "-ar", str(SAMPLE_RATE), "pipe:1"], segment.raw_data)
    out = AudioSegment(data=done.stdout, sample_width=2, frame_rate=SAMPLE_RATE, channels=1)
    return out, parse_loudness(done.stderr, true_peak=False)


def normalise_loudness(segment: AudioSegment, target_lufs: float, ceiling_db: float) -> AudioSegment:
    """Bring mono 16-bit `segment` to `target_lufs` with sample peaks (at 4x) under `ceiling_db`.

    Pass one measures; each further pass applies one linear gain through the limiter and measures the
    result. The limiter takes loudness off the peaks, so the gain is refined by the secant method until the
    result is within 0.15 LU (two or three passes for speech).
    """
    segment = segment.set_sample_width(2)
    if 0 < len(segment) < _MIN_MEASURABLE_MS:
        # EBU R128 gates in 400 ms blocks, so a clip this short reads as silence; a repeated clip has the
        # same loudness as one copy, so normalise the repetition and keep the first copy.
        repeated = segment * math.ceil(_MIN_MEASURABLE_MS / len(segment))
        return normalise_loudness(repeated, target_lufs, ceiling_db)[: len(segment)]
    loudness = measure(pcm_input(segment.frame_rate, segment.channels), segment.raw_data, true_peak=False)
    if _silent(loudness):
        raise _no_sound()
    gain = target_lufs - loudness.integrated_lufs
    previous: tuple[float, float] | None = None
    out = segment
    for _ in range(_NORMALISE_PASSES):
        out, loudness = _limit(segment, gain, ceiling_db)
        error = target_lufs - loudness.integrated_lufs
        if abs(error) <= _NORMALISE_TOLERANCE_LU:
            break
        slope = 1.0
        if previous is not None and gain != previous[0]:
            slope = (loudness.integrated_lufs - previous[1]) / (gain - previous[0])
        previous = (gain, loudness.integrated_lufs)
        gain = min(_MAX_GAIN_DB, gain + error / min(1.0, max(0.2, slope)))
    return out


@lru_cache(maxsize=8)
def _jingle(path: Path, modified_ns: int, target_lufs: float, ceiling_db: float) -> AudioSegment:
    """A jingle decoded and normalised; cached per file version, so it is prepared once, not per bulletin."""
    pcm = decode_to_pcm(path, _JINGLE_FORMATS[path.suffix.lower()], SAMPLE_RATE)
    return normalise_loudness(
        AudioSegment(data=pcm, sample_width=2, frame_rate=SAMPLE_RATE, channels=1), target_lufs, ceiling_db
    )


def jingle_path(name: str, directory: Path = JINGLES_DIR) -> Path:
    """The jingle file called `name` in `directory`. Raises `AudioError` in Vietnamese if there is none."""
    path = directory / name
    if Path(name).name != name or path.suffix.lower() not in _JINGLE_FORMATS or not path.is_file():
        raise AudioError(
            f"no jingle {name!r} in {directory}",
            f"Không tìm thấy nhạc hiệu '{name}'. Hãy chọn một tệp WAV, MP3, OGG hoặc FLAC trong thư mục nhạc hiệu.",
        )
    return path


def jingle_names(directory: Path = JINGLES_DIR) -> list[str]:
    """The jingles an officer can choose from."""
    return (
        sorted(p.name for p in directory.iterdir() if p.suffix.lower() in _JINGLE_FORMATS) if directory.is_dir() else []
    )


@dataclass(frozen=True)
class LoudnessMastering:
    """The broadcast mastering chain; an instance is a `Mastering` (callable on a segment) too.

    `intro` and `outro` name jingle files in `jingle_dir`; `None` leaves them out.
    `encode` is the full chain, with the MP3 measured and corrected; calling the instance gives the
    mastered PCM only (without the MP3 correction).
    """

    intro: str | None = None
    outro: str | None = None
    target_lufs: float = TARGET_LUFS
    true_peak_ceiling_dbtp: float = TRUE_PEAK_CEILING_DBTP
    jingle_dir: Path = field(default=JINGLES_DIR)

    def __post_init__(self) -> None:
        for name in (self.intro, self.outro):
            if name is not None:
                jingle_path(name, self.jingle_dir)

    def __call__(self, segment: AudioSegment) -> AudioSegment:
        return self._programme(self.prepare(segment), self.target_lufs + _MP3_LOSS_LU, _LIMITER_CEILING_DB)

    def prepare(self, segment: AudioSegment) -> AudioSegment:
        """Mono 16-bit, silence trimmed at both ends. Raises `AudioError` if nothing audible is left."""
        segment = trim_silence(segment.set_channels(1).set_sample_width(2))
        if len(segment) == 0 or segment.rms == 0:
            raise _no_sound()
        return segment

    def _programme(self, speech: AudioSegment, target_lufs: float, ceiling_db: float) -> AudioSegment:
        programme = normalise_loudness(speech, target_lufs, ceiling_db)
        gap = AudioSegment.silent(JINGLE_GAP_MS, SAMPLE_RATE)
        jingle_lufs = target_lufs - JINGLE_UNDER_SPEECH_LU
        if self.intro:
            programme = self._jingle(self.intro, jingle_lufs, ceiling_db) + gap + programme
        if self.outro:
            programme = programme + gap + self._jingle(self.outro, jingle_lufs, ceiling_db)
        return programme

    def _jingle(self, name: str, target_lufs: float, ceiling_db: float) -> AudioSegment:
        path = jingle_path(name, self.jingle_dir)
        return _jingle(path, path.stat().st_mtime_ns, round(target_lufs, 2), round(ceiling_db, 2))

    def encode(self, segment: AudioSegment) -> EncodedAudio:
        """Master and encode, then measure the MP3; if it misses -16 ±0.5 LU or the true-peak ceiling,
        retarget by what was missed and encode again (at most twice more)."""
        speech = self.prepare(segment)
        target, ceiling = self.target_lufs + _MP3_LOSS_LU, _LIMITER_CEILING_DB
        for attempt in range(3):
            programme = self._programme(speech, target, ceiling)
            data = export_mp3(programme)
            loudness = measure_mp3(data)
            peak = loudness.true_peak_dbtp if loudness.true_peak_dbtp is not None else 0.0
            missed_lufs = self.target_lufs - loudness.integrated_lufs
            over_peak = peak - self.true_peak_ceiling_dbtp
            if abs(missed_lufs) <= LUFS_TOLERANCE and over_peak <= 0:
                break
            if len(programme) < _MIN_MEASURABLE_MS:  # too short to measure as a whole; normalised as a loop
                break
            log.debug(
                "mastering attempt %d: %.1f LUFS, %.1f dBTP; correcting", attempt + 1, loudness.integrated_lufs, peak
            )
            target += missed_lufs
            ceiling -= max(0.0, over_peak + 0.3)
        else:
            log.warning("mastered audio at %.1f LUFS, %.1f dBTP after 3 attempts", loudness.integrated_lufs, peak)
        return EncodedAudio(
            data=data,
            duration_s=len(programme) / 1000.0,
            lufs=None if _silent(loudness) else loudness.integrated_lufs,
            true_peak_dbtp=loudness.true_peak_dbtp,
        )
