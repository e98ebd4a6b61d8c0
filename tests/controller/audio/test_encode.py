"""Mastering and MP3 encoding with the bundled ffmpeg: what comes out is broadcast-ready speech."""

from __future__ import annotations

import struct

import pytest

from controller.audio import EspeakEngine, Synthesis, decode_mp3, encode_mp3, probe_mp3_duration
from controller.errors import AudioError
from tests.controller.audio.loudness import TRUE_PEAK_CEILING, assert_broadcast_ready
from tests.controller.audio.samples import TEXT_30_S, espeak_voice

MPEG2_LAYER3_KBPS = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
MPEG2_RATES = (22050, 24000, 16000)


def mp3_frames(data: bytes) -> list[tuple[int, int, bool]]:
    """(kbps, sample rate, mono) of each MPEG-2 Layer III frame, walking frame by frame after the ID3 tag."""
    pos = 0
    if data[:3] == b"ID3":
        size = data[6:10]
        pos = 10 + (size[0] << 21 | size[1] << 14 | size[2] << 7 | size[3])
    frames = []
    while pos + 4 <= len(data):
        (header,) = struct.unpack(">I", data[pos : pos + 4])
        assert header >> 21 == 0x7FF, f"lost frame sync at byte {pos}"
        assert (header >> 19) & 3 == 2 and (header >> 17) & 3 == 1, "not MPEG-2 Layer III"
        kbps = MPEG2_LAYER3_KBPS[(header >> 12) & 15]
        rate = MPEG2_RATES[(header >> 10) & 3]
        padding = (header >> 9) & 1
        frames.append((kbps, rate, (header >> 6) & 3 == 3))
        pos += 72 * kbps * 1000 // rate + padding
    return frames


@pytest.fixture(scope="module")
def speech(espeak: EspeakEngine) -> Synthesis:
    return espeak.synthesize(TEXT_30_S, espeak_voice())


def padded(synthesis: Synthesis, seconds: float) -> Synthesis:
    silence = bytes(int(seconds * synthesis.sample_rate) * synthesis.channels * synthesis.sample_width)
    return Synthesis(
        pcm=silence + synthesis.pcm + silence,
        sample_rate=synthesis.sample_rate,
        channels=synthesis.channels,
        sample_width=synthesis.sample_width,
        engine=synthesis.engine,
        voice=synthesis.voice,
    )


def test_mp3_is_mono_32kbps_at_22khz_and_decodes_to_its_duration(speech: Synthesis) -> None:
    encoded = encode_mp3(speech)
    frames = mp3_frames(encoded.data)
    assert {(rate, mono) for _, rate, mono in frames} == {(22050, True)}
    assert {kbps for kbps, _, _ in frames[1:]} == {32}  # the first frame is the Xing/Info header
    decoded = decode_mp3(encoded.data)
    assert (decoded.channels, decoded.frame_rate) == (1, 22050)
    assert len(decoded) / 1000 == pytest.approx(encoded.duration_s, abs=0.05)
    assert len(encoded.data) / encoded.duration_s == pytest.approx(4000, rel=0.03)  # 5 min ≈ 1.2 MB
    assert encoded.data[:3] != b"ID3"  # no tag: every byte is audio


@pytest.mark.parametrize("factor", [1.0, 0.1], ids=["as-spoken", "20-dB-quieter"])
def test_speech_masters_to_minus_16_lufs_under_the_true_peak_ceiling(speech: Synthesis, factor: float) -> None:
    """A loud engine and a quiet one come out equally loud, and the MP3 itself never peaks over -1.5 dBTP."""
    source = Synthesis(
        pcm=_scaled(speech.pcm, factor),
        sample_rate=speech.sample_rate,
        channels=1,
        sample_width=2,
        engine=speech.engine,
        voice=speech.voice,
    )
    encoded = encode_mp3(source)
    lufs, peak = assert_broadcast_ready(encoded.data, encoded.duration_s)
    assert encoded.lufs == pytest.approx(lufs, abs=0.15)  # what we report is what an independent analyser reads
    assert encoded.true_peak_dbtp == pytest.approx(peak, abs=0.15)
    assert decode_mp3(encoded.data).max_dBFS <= TRUE_PEAK_CEILING


def _scaled(pcm: bytes, factor: float) -> bytes:
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm)
    return struct.pack(f"<{len(samples)}h", *(int(s * factor) for s in samples))


def test_silence_at_both_ends_is_trimmed_to_a_short_lead_in_and_tail(speech: Synthesis) -> None:
    plain = encode_mp3(speech).duration_s
    padded_result = encode_mp3(padded(speech, 3.0)).duration_s
    assert padded_result == pytest.approx(plain, abs=0.3)  # 6 s of added silence gone, 0.25 s kept


def test_stereo_48khz_input_comes_out_mono_22khz(speech: Synthesis) -> None:
    samples = struct.unpack(f"<{len(speech.pcm) // 2}h", speech.pcm)
    # Stereo at twice the rate: each sample twice in time, on both channels (4 copies a sample).
    stereo = struct.pack(f"<{len(samples) * 4}h", *(s for s in samples for _ in range(4)))
    source = Synthesis(stereo, 44100, 2, 2, "upload", "stereo")
    encoded = encode_mp3(source)
    decoded = decode_mp3(encoded.data)
    assert (decoded.channels, decoded.frame_rate) == (1, 22050)
    assert encoded.duration_s == pytest.approx(encode_mp3(speech).duration_s, abs=0.05)


def test_the_mastering_step_can_be_replaced(speech: Synthesis) -> None:
    """The `master=` seam: it gets the PCM, its result is what is encoded, and the MP3 is still measured."""
    encoded = encode_mp3(speech, master=lambda segment: segment.set_channels(1)[:2000])
    assert encoded.duration_s == 2.0
    assert probe_mp3_duration(encoded.data) == pytest.approx(2.0, abs=0.05)
    assert encoded.lufs is not None and encoded.lufs < -16.5  # unmastered espeak-ng reads about -19 LUFS


def test_probe_reads_the_duration_back_without_ffprobe(speech: Synthesis, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_ffprobe(*args: object, **kwargs: object) -> None:
        raise AssertionError("pydub tried to run ffprobe, which imageio-ffmpeg does not ship")

    monkeypatch.setattr("pydub.audio_segment.mediainfo_json", no_ffprobe)
    encoded = encode_mp3(speech)
    assert probe_mp3_duration(encoded.data) == pytest.approx(encoded.duration_s, abs=0.05)


@pytest.mark.parametrize("data", [b"", b"this is not an mp3 at all" * 100])
def test_undecodable_bytes_raise_audio_error_in_vietnamese(data: bytes) -> None:
    with pytest.raises(AudioError) as info:
        probe_mp3_duration(data)
    assert "MP3 bị hỏng" in info.value.message_vi
