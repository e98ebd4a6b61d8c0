"""An independent loudness check: ffmpeg's `loudnorm` analyser (not the `ebur128` one the code measures with)."""

from __future__ import annotations

import json

from controller.audio.ffmpeg import run_ffmpeg

TARGET_LUFS = -16.0
TRUE_PEAK_CEILING = -1.5
BYTES_PER_SECOND = 4000  # 32 kbps: 1,200,000 bytes for five minutes
HEADER_BYTES = 1000  # the Xing/LAME frame and the encoder's delay and padding frames, once per file


def loudnorm_analysis(mp3: bytes) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of an MP3 as decoded, by loudnorm's first pass."""
    args = ["-f", "mp3", "-i", "pipe:0", "-af", "loudnorm=I=-16:TP=-1.5:print_format=json", "-f", "null", "-"]
    log = run_ffmpeg(args, mp3).stderr.decode()
    report = json.loads(log[log.rindex("{") : log.rindex("}") + 1])
    return float(report["input_i"]), float(report["input_tp"])


def assert_broadcast_ready(mp3: bytes, duration_s: float) -> tuple[float, float]:
    """-16 LUFS ±1 LU, true peak at or under -1.5 dBTP, and 1.2 MB for five minutes plus one header."""
    lufs, peak = loudnorm_analysis(mp3)
    assert abs(lufs - TARGET_LUFS) <= 1.0, lufs
    assert peak <= TRUE_PEAK_CEILING, peak
    assert len(mp3) <= duration_s * BYTES_PER_SECOND + HEADER_BYTES, len(mp3)
    return lufs, peak
