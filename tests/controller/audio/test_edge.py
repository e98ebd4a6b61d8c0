"""edge-tts specifics against the stand-in Microsoft service, and the real client with no way out."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey
from edge_tts.exceptions import NoAudioReceived, WebSocketError
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from controller.audio import EdgeTtsEngine, EngineUnavailable, MediaStore, Voice, render_text
from controller.audio.edge import CHUNK_BYTES, chunk_text, pitch_hertz, rate_percent
from controller.errors import AudioError
from tests.controller.audio.loudness import assert_broadcast_ready
from tests.controller.audio.microsoft import FakeMicrosoft
from tests.controller.audio.samples import TEXT_30_S, TEXT_120_WORDS

SERVICE_URL = URL("wss://speech.platform.bing.com/consumer/speech/synthesize/readaloud/edge/v1")
SERVICE = aiohttp.RequestInfo(SERVICE_URL, "GET", CIMultiDictProxy(CIMultiDict()), SERVICE_URL)
HOAI_MY = Voice(engine="edge-tts", name="vi-VN-HoaiMyNeural")
SHORT = "Kính thưa bà con nhân dân trong xã."


def engine(service: FakeMicrosoft, **options: float) -> EdgeTtsEngine:
    return EdgeTtsEngine(stream=service, backoff_s=0.01, **options)  # type: ignore[arg-type]


def dns_failure() -> BaseException:
    """What aiohttp raises offline, as it raises it (see LIBRARIES.md)."""
    key = ConnectionKey("speech.platform.bing.com", 443, True, True, None, None, None)
    return aiohttp.ClientConnectorDNSError(key, OSError(-2, "Name or service not known"))


def test_rate_and_pitch_become_edge_strings_and_reach_the_service() -> None:
    assert (rate_percent(120), rate_percent(180), rate_percent(60), rate_percent(240)) == (
        "+0%",
        "+50%",
        "-50%",
        "+100%",
    )
    assert (pitch_hertz(50), pitch_hertz(70), pitch_hertz(0)) == ("+0Hz", "+20Hz", "-50Hz")
    service = FakeMicrosoft()
    engine(service).synthesize(SHORT, Voice("edge-tts", "vi-VN-NamMinhNeural", rate_wpm=150, pitch=40))
    assert [(r.voice, r.rate, r.pitch) for r in service.requests] == [("vi-VN-NamMinhNeural", "+25%", "-10Hz")]


def test_long_text_goes_in_sentence_chunks_at_most_four_at_a_time() -> None:
    text = " ".join([TEXT_120_WORDS] * 6)  # five minutes, 5.4 kB
    assert [len(c.encode()) <= CHUNK_BYTES for c in chunk_text(text)] == [True, True, True]
    chunks = chunk_text(text, max_bytes=600)
    assert len(chunks) > 8
    assert all(len(c.encode()) <= 600 for c in chunks)
    assert all(c.endswith(".") for c in chunks)  # cut at sentence ends only
    assert " ".join(chunks) == text  # nothing lost or reordered
    service = FakeMicrosoft()
    synthesis = engine(service, chunk_bytes=600).synthesize(text, HOAI_MY)
    assert sorted(r.text for r in service.requests) == sorted(chunks)
    assert service.max_in_flight == 4
    assert (synthesis.sample_rate, synthesis.channels, synthesis.engine) == (24000, 1, "edge-tts")


def test_a_sentence_longer_than_a_chunk_is_cut_at_commas_then_words() -> None:
    sentence = ", ".join(["bà con lưu ý không chuyển tiền cho người lạ"] * 80) + "."
    chunks = chunk_text(sentence, max_bytes=300)
    assert all(len(c.encode()) <= 300 for c in chunks)
    assert " ".join(chunks) == sentence
    assert chunk_text("x" * 700, max_bytes=300) == ["x" * 300, "x" * 300, "x" * 100]


@pytest.mark.parametrize(
    "failure",
    [
        lambda: aiohttp.ClientConnectionError("connection reset"),
        lambda: aiohttp.WSServerHandshakeError(SERVICE, (), status=403, message="Forbidden"),
        lambda: NoAudioReceived("No audio was received."),
        lambda: WebSocketError("503"),
    ],
    ids=["reset", "403", "no-audio", "websocket"],
)
def test_a_chunk_that_fails_twice_is_retried_and_spoken(failure: Callable[[], BaseException]) -> None:
    service = FakeMicrosoft(failures=[failure, failure])
    synthesis = engine(service).synthesize(SHORT, HOAI_MY)
    assert len(service.requests) == 3
    assert 1.0 < synthesis.duration_s < 6.0


def test_a_chunk_that_always_fails_makes_the_engine_unavailable_in_vietnamese() -> None:
    service = FakeMicrosoft(failures=[lambda: aiohttp.ClientConnectionError("reset")] * 10)
    with pytest.raises(EngineUnavailable) as info:
        engine(service, attempts=3).synthesize(SHORT, HOAI_MY)
    assert len(service.requests) == 3
    assert "3 times" in str(info.value) and "ClientConnectionError" in str(info.value)
    assert info.value.message_vi == "Không kết nối được dịch vụ đọc edge-tts của Microsoft."


def test_offline_dns_failure_is_not_retried() -> None:
    service = FakeMicrosoft(failures=[dns_failure] * 10)
    with pytest.raises(EngineUnavailable) as info:
        engine(service).synthesize(SHORT, HOAI_MY)
    assert len(service.requests) == 1
    assert "không có Internet" in info.value.message_vi


def test_a_service_that_hangs_times_out_per_chunk() -> None:
    service = FakeMicrosoft(hang_s=30)
    with pytest.raises(EngineUnavailable) as info:  # without the timeout each 30 s hang would end in success
        engine(service, chunk_timeout_s=0.3, attempts=2).synthesize(SHORT, HOAI_MY)
    assert len(service.requests) == 2
    assert info.value.message_vi == "Dịch vụ đọc edge-tts không trả lời kịp."
    assert service.in_flight == 0  # every hung stream was closed


@pytest.mark.parametrize("answer", ["silent", "garbage"])
def test_no_audio_or_non_audio_is_never_returned_or_stored(answer: str, store: MediaStore) -> None:
    service = FakeMicrosoft(silent=answer == "silent", garbage=answer == "garbage")
    with pytest.raises(EngineUnavailable) as info:
        engine(service, attempts=2).synthesize(SHORT, HOAI_MY)
    assert info.value.message_vi == "Dịch vụ đọc edge-tts không trả về âm thanh dùng được."
    with pytest.raises(EngineUnavailable):
        render_text(SHORT, HOAI_MY, store, engine=engine(service, attempts=1), fallback=False)
    assert list(store.root.iterdir()) == []


def test_request_errors_are_not_engine_failures() -> None:
    service = FakeMicrosoft()
    for voice, message in [
        (Voice("edge-tts", "vi-VN-Unknown"), "Không có giọng đọc 'vi-VN-Unknown'"),
        (Voice("edge-tts", "vi-VN-HoaiMyNeural", rate_wpm=500), "Tốc độ đọc 500 không hợp lệ"),
        (Voice("edge-tts", "vi-VN-HoaiMyNeural", pitch=101), "Độ cao giọng 101 không hợp lệ"),
    ]:
        with pytest.raises(AudioError) as info:
            engine(service).synthesize(SHORT, voice)
        assert not isinstance(info.value, EngineUnavailable)
        assert message in info.value.message_vi
    assert service.requests == []


def test_synthesize_works_from_inside_a_running_event_loop() -> None:
    """The service may call it from async code: edge-tts then gets a loop of its own in a worker thread."""

    async def from_async_code() -> float:
        return engine(FakeMicrosoft()).synthesize(SHORT, HOAI_MY).duration_s

    assert 1.0 < asyncio.run(from_async_code()) < 6.0


def test_edge_speech_renders_to_broadcast_loudness(store: MediaStore) -> None:
    rendered = render_text(TEXT_30_S, HOAI_MY, store, engine=engine(FakeMicrosoft()))
    assert (rendered.engine, rendered.voice, rendered.fallback_from) == ("edge-tts", "vi-VN-HoaiMyNeural", None)
    assert_broadcast_ready(rendered.path.read_bytes(), rendered.duration_s)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_real_edge_tts_client_with_no_way_out_fails_fast_and_the_render_falls_back(store: MediaStore) -> None:
    """No stand-in here: edge_tts.Communicate itself, pointed at a proxy port nobody listens on, so the
    test never reaches the network whether or not this machine is online."""
    real = EdgeTtsEngine(proxy=f"http://127.0.0.1:{_closed_port()}", backoff_s=0.1)
    with pytest.raises(EngineUnavailable) as info:
        real.synthesize(SHORT, HOAI_MY)
    assert "ClientProxyConnectionError" in str(info.value) or "ClientConnector" in str(info.value)

    rendered = render_text(SHORT, HOAI_MY, store, engine=real)
    assert (rendered.engine, rendered.voice) == ("espeak-ng", "vi")
    assert rendered.fallback_from == "edge-tts:vi-VN-HoaiMyNeural"
    assert rendered.fallback_reason is not None and "edge-tts failed" in rendered.fallback_reason
    assert rendered.notice_vi is not None and "giọng dự phòng espeak-ng" in rendered.notice_vi
    assert rendered.size_bytes > 0 and store.exists(rendered.sha256)
