"""A stand-in for Microsoft's speech service behind edge-tts's seam: the only fake in the audio tests.

It answers with real MP3 (espeak-ng speech of the requested text, encoded by the bundled ffmpeg at 24 kHz,
48 kbps, mono, as the service sends), and can fail, hang or send nothing on request.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from controller.audio import EspeakEngine, Voice
from controller.audio.ffmpeg import pcm_input, run_ffmpeg


@dataclass(frozen=True)
class Request:
    """What edge-tts would have sent: one chunk of text and its voice settings."""

    text: str
    voice: str
    rate: str
    pitch: str


def speech_mp3(text: str) -> bytes:
    """Real MP3 speech as Microsoft sends it: 24 kHz, 48 kbps, mono."""
    synthesis = EspeakEngine().synthesize(text, Voice(engine="espeak-ng", name="vi"))
    args = [*pcm_input(synthesis.sample_rate), "-c:a", "libmp3lame", "-b:a", "48k", "-ar", "24000", "-ac", "1"]
    return run_ffmpeg([*args, "-f", "mp3", "pipe:1"], synthesis.pcm).stdout


@dataclass
class FakeMicrosoft:
    """Call it as edge-tts's `EdgeStream`. `failures` raise (one per call, in order) before it answers."""

    failures: list[Callable[[], BaseException]] = field(default_factory=list)
    hang_s: float = 0.0
    silent: bool = False
    garbage: bool = False
    requests: list[Request] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0

    async def __call__(self, text: str, voice: str, rate: str, pitch: str) -> AsyncIterator[bytes]:
        self.requests.append(Request(text, voice, rate, pitch))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.01)  # a network round trip, so concurrent requests overlap
            if self.failures:
                raise self.failures.pop(0)()
            if self.hang_s:
                await asyncio.sleep(self.hang_s)
            if self.silent:
                return
            if self.garbage:
                yield b"<html>503 Service Unavailable</html>" * 50
                return
            data = await asyncio.to_thread(speech_mp3, text)
            for i in range(0, len(data), 4096):  # the service streams it in pieces
                yield data[i : i + 4096]
        finally:
            self.in_flight -= 1
