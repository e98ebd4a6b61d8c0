"""Uploaded recordings: real MP3, WAV, M4A and OGG files made by the bundled ffmpeg, mastered like speech."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.audio import EspeakEngine, MediaStore, Synthesis, decode_upload, render_upload
from controller.audio.ffmpeg import pcm_input, run_ffmpeg
from controller.audio.upload import sniff
from controller.errors import AudioError, InvalidInput
from tests.controller.audio.loudness import assert_broadcast_ready
from tests.controller.audio.samples import TEXT_30_S, espeak_voice

# Each as a phone or recorder might make it: stereo, 44.1 or 48 kHz, and 6 dB quieter than espeak-ng.
FORMATS = {
    "ban-tin.mp3": ["-c:a", "libmp3lame", "-b:a", "96k", "-ar", "44100", "-f", "mp3"],
    "ban-tin.wav": ["-c:a", "pcm_s16le", "-ar", "44100", "-f", "wav"],
    "ban-tin.m4a": ["-c:a", "aac", "-b:a", "64k", "-ar", "48000", "-f", "ipod"],  # index at the end
    "ban-tin.ogg": ["-c:a", "libvorbis", "-q:a", "3", "-ar", "44100", "-f", "ogg"],
    "ghi-am-zalo.ogg": ["-c:a", "libopus", "-b:a", "32k", "-ar", "48000", "-f", "ogg"],
}


@pytest.fixture(scope="module")
def speech(espeak: EspeakEngine) -> Synthesis:
    return espeak.synthesize(TEXT_30_S, espeak_voice())


@pytest.fixture(scope="module")
def uploads(speech: Synthesis, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    directory = tmp_path_factory.mktemp("uploads")
    made = {}
    for name, options in FORMATS.items():
        path = directory / name
        run_ffmpeg([*pcm_input(speech.sample_rate), "-af", "volume=-6dB", "-ac", "2", *options, str(path)], speech.pcm)
        made[name] = path.read_bytes()
    return made


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_each_upload_format_is_mastered_like_speech(
    name: str, uploads: dict[str, bytes], speech: Synthesis, store: MediaStore
) -> None:
    rendered = render_upload(uploads[name], name, store)
    assert (rendered.engine, rendered.voice, rendered.fallback_from) == ("upload", name, None)
    assert rendered.duration_s == pytest.approx(speech.duration_s, abs=0.4)  # trimmed ends, codec padding
    lufs, peak = assert_broadcast_ready(rendered.path.read_bytes(), rendered.duration_s)
    assert rendered.lufs == pytest.approx(lufs, abs=0.15) and rendered.true_peak_dbtp == pytest.approx(peak, abs=0.15)


def test_the_type_is_read_from_the_content_not_the_name(uploads: dict[str, bytes]) -> None:
    assert {name: sniff(data) for name, data in uploads.items()} == {
        "ban-tin.mp3": "mp3",
        "ban-tin.wav": "wav",
        "ban-tin.m4a": "m4a",
        "ban-tin.ogg": "ogg",
        "ghi-am-zalo.ogg": "ogg",
    }
    renamed = decode_upload(uploads["ban-tin.wav"], "C:\\Users\\xa\\thong-bao.mp3")
    assert renamed.voice == "thong-bao.mp3" and renamed.duration_s > 20


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda u: b"", "trống"),
        (lambda u: b"%PDF-1.7 quyet-dinh" * 200, "không phải tệp âm thanh MP3, WAV, M4A hoặc OGG"),
        (lambda u: u["ban-tin.m4a"][:64] + b"\x00" * 4000, "bị hỏng hoặc không đọc được như tệp M4A"),
        (lambda u: u["ban-tin.wav"][: u["ban-tin.wav"].index(b"data") + 8 + 8000], "không có đủ âm thanh"),
        (lambda u: b"OggS" + b"\x00" * 3000, "bị hỏng hoặc không đọc được như tệp OGG"),
    ],
    ids=["empty", "pdf", "damaged-m4a", "45-ms-wav", "fake-ogg"],
)
def test_bad_uploads_are_refused_in_vietnamese(
    make: object, message: str, uploads: dict[str, bytes], store: MediaStore
) -> None:
    assert callable(make)
    with pytest.raises(InvalidInput) as info:
        render_upload(make(uploads), "ban-tin", store)
    assert message in info.value.message_vi
    assert list(store.root.iterdir()) == []


def test_an_upload_over_the_length_limit_is_refused_without_decoding_it_all(uploads: dict[str, bytes]) -> None:
    with pytest.raises(InvalidInput) as info:
        decode_upload(uploads["ban-tin.mp3"], "dai.mp3", max_seconds=10)
    assert info.value.message_vi == "Bản ghi 'dai.mp3' quá dài; tối đa 10 giây."
    with pytest.raises(InvalidInput) as info:
        decode_upload(uploads["ban-tin.mp3"], "dai.mp3", max_seconds=0.25 * 60)
    assert "quá dài; tối đa 15 giây" in info.value.message_vi


def test_a_silent_recording_is_refused(tmp_path: Path, store: MediaStore) -> None:
    path = tmp_path / "im-lang.wav"
    run_ffmpeg(["-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", "5", "-c:a", "pcm_s16le", str(path)])
    with pytest.raises(AudioError) as info:
        render_upload(path.read_bytes(), path.name, store)
    assert "không có tiếng" in info.value.message_vi
    assert list(store.root.iterdir()) == []
