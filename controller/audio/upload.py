"""Recorded bulletins uploaded by the officer: MP3, WAV, M4A or OGG, checked by content, decoded to PCM.

The type is read from the first bytes, never trusted from the file name, and the file is then decoded by
the bundled ffmpeg told exactly which format to expect, so a renamed or damaged file is refused with a
Vietnamese message rather than half-read. Decoding stops just past the length limit.
"""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePath

from controller.audio.engine import Synthesis
from controller.audio.ffmpeg import decode_to_pcm
from controller.errors import AudioError, InvalidInput

ENGINE = "upload"
SAMPLE_RATE = 22050
UPLOAD_FORMATS = {"mp3": "mp3", "wav": "wav", "m4a": "mov", "ogg": "ogg"}
"""Accepted uploads: our name for the type -> the ffmpeg demuxer that must read it."""
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
MAX_UPLOAD_SECONDS = 20 * 60.0
MIN_UPLOAD_SECONDS = 0.5
_ACCEPTED = "MP3, WAV, M4A hoặc OGG"


def sniff(data: bytes) -> str | None:
    """The upload type from the file's first bytes, or None if it is none of ours."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:4] == b"OggS":
        return "ogg"
    if data[4:8] == b"ftyp":
        return "m4a"
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


def upload_label(filename: str) -> str:
    """The file's own name without any directories, as recorded for the audio's `voice`."""
    name = PurePath(filename.replace("\\", "/")).name.strip()
    return name[:120] or "upload"


def decode_upload(data: bytes, filename: str, max_seconds: float = MAX_UPLOAD_SECONDS) -> Synthesis:
    """Check and decode an uploaded recording to 22.05 kHz mono PCM, ready for the same mastering as speech.

    Raises `InvalidInput` (Vietnamese for the officer) for an empty, unknown, damaged, too short or too
    long file.
    """
    label = upload_label(filename)
    if not data:
        raise InvalidInput(f"upload {label!r} is empty", f"Tệp '{label}' trống, không có dữ liệu.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(
            f"upload {label!r} too large: {len(data)} bytes",
            f"Tệp '{label}' quá lớn (trên {MAX_UPLOAD_BYTES // (1024 * 1024)} MB).",
        )
    kind = sniff(data)
    if kind is None:
        raise InvalidInput(
            f"upload {label!r} is not MP3, WAV, M4A or OGG",
            f"Tệp '{label}' không phải tệp âm thanh {_ACCEPTED}. Hãy tải lên bản ghi âm đúng định dạng.",
        )
    # A file, not a pipe: M4A from most recorders keeps its index at the end, which needs seeking.
    with tempfile.TemporaryDirectory(prefix="loa-upload-") as tmp:
        path = Path(tmp) / f"upload.{kind}"
        path.write_bytes(data)
        try:
            pcm = decode_to_pcm(path, UPLOAD_FORMATS[kind], SAMPLE_RATE, max_seconds=max_seconds + 1.0)
        except AudioError as exc:
            raise InvalidInput(
                f"upload {label!r} does not decode as {kind}: {exc}",
                f"Tệp '{label}' bị hỏng hoặc không đọc được như tệp {kind.upper()}.",
            ) from exc
    seconds = len(pcm) / (2 * SAMPLE_RATE)
    if seconds > max_seconds:
        raise InvalidInput(
            f"upload {label!r} longer than {max_seconds:.0f}s",
            f"Bản ghi '{label}' quá dài; tối đa {_spoken_length(max_seconds)}.",
        )
    if seconds < MIN_UPLOAD_SECONDS:
        raise InvalidInput(
            f"upload {label!r} has {seconds:.2f}s of audio",
            f"Tệp '{label}' không có đủ âm thanh (dưới {MIN_UPLOAD_SECONDS:g} giây).",
        )
    return Synthesis(pcm=pcm, sample_rate=SAMPLE_RATE, channels=1, sample_width=2, engine=ENGINE, voice=label)


def _spoken_length(seconds: float) -> str:
    return f"{seconds / 60:g} phút" if seconds >= 60 and seconds % 60 == 0 else f"{seconds:g} giây"
