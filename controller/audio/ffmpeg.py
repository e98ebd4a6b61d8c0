"""The ffmpeg binary bundled by imageio-ffmpeg: decoding with an explicit format, and loudness measurement.

There is no system ffmpeg and no ffprobe. Every call names its input format (and codec where it matters),
runs as a subprocess with a timeout, and is safe to make from several threads at once.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from controller.errors import AudioError

TIMEOUT_S = 300.0
SILENT_LUFS = -60.0
"""Integrated loudness below this is treated as no audible sound (ebur128 reports -70 for digital silence)."""

_INTEGRATED = re.compile(r"^\s*I:\s+(-?[\d.]+|-?inf) LUFS", re.MULTILINE)
_TRUE_PEAK = re.compile(r"^\s*Peak:\s+(-?[\d.]+|-?inf) dBFS", re.MULTILINE)


@cache
def ffmpeg_exe() -> str:
    """The bundled ffmpeg, installed as pydub's converter on first use (never at import)."""
    import imageio_ffmpeg
    from pydub import AudioSegment

    exe: str = imageio_ffmpeg.get_ffmpeg_exe()
    AudioSegment.converter = exe
    return exe


@dataclass(frozen=True)
class Loudness:
    """EBU R128 figures: integrated loudness (LUFS) and, when measured, true peak (dBTP)."""

    integrated_lufs: float
    true_peak_dbtp: float | None = None


def run_ffmpeg(
    args: Sequence[str], data: bytes = b"", timeout: float = TIMEOUT_S
) -> subprocess.CompletedProcess[bytes]:
    """Run the bundled ffmpeg with `data` on stdin. Raises `AudioError` if it fails or takes too long."""
    command = [ffmpeg_exe(), "-hide_banner", "-nostats", "-nostdin", "-y", *args]
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise AudioError(f"ffmpeg took longer than {timeout:.0f}s", "Xử lý âm thanh mất quá nhiều thời gian.") from exc
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise AudioError(f"ffmpeg failed ({done.returncode}): {' / '.join(tail)}", "Không xử lý được tệp âm thanh.")
    return done


def pcm_input(sample_rate: int, channels: int = 1) -> list[str]:
    """ffmpeg input options for 16-bit little-endian PCM on stdin."""
    return ["-f", "s16le", "-ar", str(sample_rate), "-ac", str(channels), "-i", "pipe:0"]


def decode_to_pcm(
    source: bytes | Path,
    input_format: str,
    sample_rate: int,
    codec: str | None = None,
    max_seconds: float | None = None,
) -> bytes:
    """Decode `source` (bytes on stdin, or a file) read as `input_format` to mono 16-bit PCM.

    Raises `AudioError` if ffmpeg cannot read it as that format. `max_seconds` stops decoding early.
    """
    args = ["-f", input_format]
    if codec:
        args += ["-c:a", codec]
    if isinstance(source, Path):
        args += ["-protocol_whitelist", "file", "-i", str(source)]
        data = b""
    else:
        args += ["-i", "pipe:0"]
        data = source
    if max_seconds is not None:
        args += ["-t", f"{max_seconds:.3f}"]
    args += ["-vn", "-map", "0:a:0", "-f", "s16le", "-ac", "1", "-ar", str(sample_rate), "pipe:1"]
    return run_ffmpeg(args, data).stdout


def parse_loudness(stderr: bytes, true_peak: bool) -> Loudness:
    """The last ebur128 summary in ffmpeg's log."""
    log = stderr.decode("utf-8", "replace")
    integrated = _INTEGRATED.findall(log)
    peaks = _TRUE_PEAK.findall(log) if true_peak else []
    if not integrated or (true_peak and not peaks):
        raise AudioError("ffmpeg ebur128 printed no summary", "Không đo được độ to của âm thanh.")
    return Loudness(float(integrated[-1]), float(peaks[-1]) if peaks else None)


def measure(input_args: Sequence[str], data: bytes, true_peak: bool = True) -> Loudness:
    """Integrated loudness (and true peak, 4x oversampled) of whatever `input_args` read from `data`."""
    analysis = "ebur128=framelog=quiet" + (":peak=true" if true_peak else "")
    done = run_ffmpeg([*input_args, "-af", analysis, "-f", "null", "-"], data)
    return parse_loudness(done.stderr, true_peak)


def measure_mp3(data: bytes) -> Loudness:
    """Loudness and true peak of an MP3 as a player decodes it."""
    return measure(["-f", "mp3", "-c:a", "mp3", "-i", "pipe:0"], data)
