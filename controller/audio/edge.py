"""Microsoft's online neural voices through edge-tts: chunked, retried, bounded, decoded to PCM.

The network sits behind one seam, `EdgeStream`: an async callable `(text, voice, rate, pitch)` yielding MP3
bytes. The default, `edge_stream`, is `edge_tts.Communicate(...).stream()`; tests pass a stand-in for the
Microsoft service. Any failure to get audio (unreachable, refused, timed out, nothing returned, bytes that
are not MP3) ends in `EngineUnavailable`, which `render_text` answers with the offline espeak-ng voice.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from controller.audio.engine import (
    DEFAULT_PITCH,
    DEFAULT_RATE_WPM,
    BadVoiceRequest,
    EngineUnavailable,
    Synthesis,
    Voice,
    check_text,
    check_voice_engine,
)
from controller.audio.ffmpeg import decode_to_pcm
from controller.errors import AudioError

log = logging.getLogger(__name__)

VOICES = {"vi-VN-HoaiMyNeural": "giọng nữ, miền Bắc", "vi-VN-NamMinhNeural": "giọng nam, miền Bắc"}
"""The Vietnamese edge-tts voices, with who reads."""

SAMPLE_RATE = 24000  # edge-tts always sends 24 kHz, 48 kbps, mono MP3
RATE_RANGE = (60, 240)  # words a minute as for espeak-ng: half to twice the default speed
PITCH_RANGE = (0, 100)  # as for espeak-ng; 50 is the voice's own pitch
CHUNK_BYTES = 2000  # UTF-8 bytes a request; edge-tts's own limit is 4096 after XML escaping
CHUNK_TIMEOUT_S = 30.0
ATTEMPTS = 3
BACKOFF_S = 0.5  # then 1 s: three attempts stay within a few seconds when the service is down
MAX_CONCURRENCY = 4  # the service refuses clients with many parallel sessions (403, 503)

EdgeStream = Callable[[str, str, str, str], AsyncIterator[bytes]]
"""`(text, voice, rate, pitch) -> MP3 bytes`, e.g. `("...", "vi-VN-HoaiMyNeural", "+0%", "+0Hz")`."""

_SENTENCE_END = re.compile(r"(?<=[.!?…;:])\s+|\s*\n\s*")
_CLAUSE_END = re.compile(r"(?<=[,;])\s+")
T = TypeVar("T")


def edge_stream_factory(proxy: str | None = None) -> EdgeStream:
    """The real Microsoft service through edge-tts, optionally through an HTTP proxy."""

    async def edge_stream(text: str, voice: str, rate: str, pitch: str) -> AsyncIterator[bytes]:
        import edge_tts

        communicate = edge_tts.Communicate(
            text, voice, rate=rate, pitch=pitch, proxy=proxy, connect_timeout=10, receive_timeout=int(CHUNK_TIMEOUT_S)
        )
        async for message in communicate.stream():
            if message["type"] == "audio":
                yield message["data"]

    return edge_stream


def rate_percent(rate_wpm: int) -> str:
    """edge-tts's rate string: the default 120 wpm is the voice's own speed, "+0%"."""
    return f"{round((rate_wpm / DEFAULT_RATE_WPM - 1) * 100):+d}%"


def pitch_hertz(pitch: int) -> str:
    """edge-tts's pitch string: espeak-ng's 0..100 scale around 50, one step a hertz ("-50Hz".."+50Hz")."""
    return f"{pitch - DEFAULT_PITCH:+d}Hz"


def chunk_text(text: str, max_bytes: int = CHUNK_BYTES) -> list[str]:
    """Split `text` into pieces of at most `max_bytes` UTF-8 bytes, at sentence ends where possible,
    then at commas, then between words."""
    chunks: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(text):
        for part in _fit(sentence.strip(), max_bytes):
            joined = f"{current} {part}" if current else part
            if len(joined.encode()) <= max_bytes:
                current = joined
            else:
                chunks.append(current)
                current = part
    if current:
        chunks.append(current)
    return chunks


def _fit(piece: str, max_bytes: int) -> list[str]:
    if len(piece.encode()) <= max_bytes:
        return [piece] if piece else []
    for splitter in (_CLAUSE_END, re.compile(r"\s+")):
        parts = [p for p in splitter.split(piece) if p]
        if len(parts) > 1:
            return [fitted for p in parts for fitted in _fit(p, max_bytes)]
    out, current = [], ""  # one "word" longer than a chunk: cut between characters
    for char in piece:
        if len((current + char).encode()) > max_bytes:
            out.append(current)
            current = ""
        current += char
    return [*out, current] if current else out


def run_in_own_loop(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion in a new event loop, from sync code: in this thread if it has no
    running loop, else in a short-lived worker thread (so a caller inside a loop is not blocked by ours)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="edge-tts") as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


class _NoAudio(Exception):
    """The service closed the stream without sending audio."""


class EdgeTtsEngine:
    """Microsoft's neural voices `vi-VN-HoaiMyNeural` (female) and `vi-VN-NamMinhNeural` (male), online.

    Text is sent in sentence-aligned chunks (at most `chunk_bytes`), at most `concurrency` (<= 4) at once;
    each chunk has `chunk_timeout_s` and `attempts` tries with exponential backoff, except that a failed
    DNS lookup (offline) fails at once. Output is 24 kHz, 16-bit mono PCM. `synthesize` runs its own event
    loop, so it is safe to call from any thread, including one that already runs a loop.
    """

    name = "edge-tts"

    def __init__(
        self,
        stream: EdgeStream | None = None,
        *,
        proxy: str | None = None,
        chunk_bytes: int = CHUNK_BYTES,
        chunk_timeout_s: float = CHUNK_TIMEOUT_S,
        attempts: int = ATTEMPTS,
        backoff_s: float = BACKOFF_S,
        concurrency: int = MAX_CONCURRENCY,
    ) -> None:
        self._stream = stream or edge_stream_factory(proxy)
        self.chunk_bytes = chunk_bytes
        self.chunk_timeout_s = chunk_timeout_s
        self.attempts = max(1, attempts)
        self.backoff_s = backoff_s
        self.concurrency = min(MAX_CONCURRENCY, max(1, concurrency))

    def synthesize(self, text: str, voice: Voice) -> Synthesis:
        text = check_text(text)
        check_voice_engine(self.name, voice)
        if voice.name not in VOICES:
            raise BadVoiceRequest(
                f"edge-tts has no voice {voice.name!r}",
                f"Không có giọng đọc '{voice.name}'. Hãy chọn một trong các giọng: {', '.join(VOICES)}.",
            )
        if not RATE_RANGE[0] <= voice.rate_wpm <= RATE_RANGE[1]:
            raise BadVoiceRequest(
                f"edge-tts rate {voice.rate_wpm} wpm outside {RATE_RANGE}",
                f"Tốc độ đọc {voice.rate_wpm} không hợp lệ; hãy chọn từ {RATE_RANGE[0]} đến {RATE_RANGE[1]}.",
            )
        if not PITCH_RANGE[0] <= voice.pitch <= PITCH_RANGE[1]:
            raise BadVoiceRequest(
                f"edge-tts pitch {voice.pitch} outside {PITCH_RANGE}",
                f"Độ cao giọng {voice.pitch} không hợp lệ; hãy chọn từ {PITCH_RANGE[0]} đến {PITCH_RANGE[1]}.",
            )
        chunks = chunk_text(text, self.chunk_bytes)
        rate, pitch = rate_percent(voice.rate_wpm), pitch_hertz(voice.pitch)
        parts = run_in_own_loop(lambda: self._speak_all(chunks, voice.name, rate, pitch))
        pcm = b"".join(parts)
        if not pcm:  # never hand on empty audio
            raise self._unavailable(f"no audio for {len(chunks)} chunks", "Dịch vụ đọc edge-tts không trả về âm thanh.")
        return Synthesis(
            pcm=pcm, sample_rate=SAMPLE_RATE, channels=1, sample_width=2, engine=self.name, voice=voice.name
        )

    async def _speak_all(self, chunks: list[str], voice: str, rate: str, pitch: str) -> list[bytes]:
        slots = asyncio.Semaphore(self.concurrency)
        tasks = [
            asyncio.create_task(self._speak(i, len(chunks), c, voice, rate, pitch, slots)) for i, c in enumerate(chunks)
        ]
        try:
            return list(await asyncio.gather(*tasks))
        finally:  # one chunk failed for good: stop the others rather than wait for them
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _speak(
        self, index: int, total: int, text: str, voice: str, rate: str, pitch: str, slots: asyncio.Semaphore
    ) -> bytes:
        """One chunk as PCM, with retries. Raises `EngineUnavailable` when every attempt failed."""
        import aiohttp
        from edge_tts.exceptions import EdgeTTSException

        where = f"chunk {index + 1}/{total}"
        for attempt in range(1, self.attempts + 1):
            async with slots:
                try:
                    mp3 = await asyncio.wait_for(self._collect(text, voice, rate, pitch), self.chunk_timeout_s)
                    if not mp3:
                        raise _NoAudio("the service sent no audio")
                    pcm = await asyncio.to_thread(decode_to_pcm, mp3, "mp3", SAMPLE_RATE, "mp3")
                    if not pcm:
                        raise _NoAudio("the audio decoded to nothing")
                    return pcm
                except aiohttp.ClientConnectorDNSError as exc:
                    raise self._unavailable(
                        f"edge-tts unreachable ({where}): {exc}",
                        "Không kết nối được dịch vụ đọc edge-tts của Microsoft (không có Internet?).",
                    ) from exc
                except TimeoutError as exc:
                    failure: Exception = exc
                    reason = f"no answer within {self.chunk_timeout_s:g}s"
                except (aiohttp.ClientError, EdgeTTSException, _NoAudio, AudioError) as exc:
                    failure, reason = exc, f"{type(exc).__name__}: {exc}"
            log.info("edge-tts %s attempt %d/%d failed: %s", where, attempt, self.attempts, reason)
            if attempt < self.attempts:
                await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
        if isinstance(failure, TimeoutError):
            message_vi = "Dịch vụ đọc edge-tts không trả lời kịp."
        elif isinstance(failure, _NoAudio | AudioError):
            message_vi = "Dịch vụ đọc edge-tts không trả về âm thanh dùng được."
        else:
            message_vi = "Không kết nối được dịch vụ đọc edge-tts của Microsoft."
        raise self._unavailable(f"edge-tts failed {self.attempts} times ({where}): {reason}", message_vi) from failure

    async def _collect(self, text: str, voice: str, rate: str, pitch: str) -> bytes:
        parts: list[bytes] = []
        stream = self._stream(text, voice, rate, pitch)
        try:
            async for part in stream:
                parts.append(part)
        finally:  # closed here, on time-out or cancellation too, not left to the garbage collector
            if isinstance(stream, AsyncGenerator):
                close: Callable[[], Awaitable[None]] = stream.aclose
                await close()
        return b"".join(parts)

    def _unavailable(self, message: str, message_vi: str) -> EngineUnavailable:
        return EngineUnavailable(message, message_vi)
