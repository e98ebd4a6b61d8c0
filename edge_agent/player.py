"""Audio players: the `Player` interface, the real ALSA one, and the virtual one the simulator uses.

Players are asyncio-native: `play()` returns when the audio ended, failed or was stopped, and
`stop()` may be called from another task at any time. Neither blocks the event loop, so
thousands of virtual players can share one process.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import math
import sys
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from common.clock import Clock, utcnow
from edge_agent.errors import AgentError
from edge_agent.timing import wait_until_or

STOPPED = "stopped"
"""The `PlayOutcome.error` of a play ended by `Player.stop()`."""
MISSING_FILE = "missing-file"
DEVICE_BUSY = "device-busy"
DEVICE_UNAVAILABLE = "device-unavailable"
DECODE_ERROR = "decode-error"
PLAYER_NOT_FOUND = "player-not-found"
PLAYER_ERROR = "player-error"
"""Reason codes a failed play's confirmation starts with (`code` or `code: detail`)."""


class PlayerBusy(AgentError):
    """`play()` was called while the player was already playing."""


@dataclass(frozen=True)
class PlayOutcome:
    """How one play ended. `duration_played_s` is seconds of audio played, even for a virtual player."""

    completed: bool
    started_at: datetime
    ended_at: datetime
    duration_played_s: float
    error: str | None = None

    @property
    def stopped(self) -> bool:
        return self.error == STOPPED


@runtime_checkable
class Player(Protocol):
    """Plays one item at a time."""

    async def play(self, path: Path, *, volume: int, duration_s: float) -> PlayOutcome:
        """Play an audio file to the end; `duration_s` is its length, as the manifest says."""
        ...

    async def tone(self, *, seconds: float, frequency_hz: int, volume: int) -> PlayOutcome:
        """Play a sine test tone."""
        ...

    async def stop(self) -> None:
        """End the current play or tone at once; its `play()` returns an outcome with error `stopped`."""
        ...


def _outcome(started: datetime, played_s: float, *, completed: bool, error: str | None = None) -> PlayOutcome:
    played_s = max(0.0, played_s)
    return PlayOutcome(completed, started, started + timedelta(seconds=played_s), played_s, error)


@dataclass(frozen=True)
class PlayRecord:
    """One play a `VirtualPlayer` made, kept for tests and the simulator."""

    kind: Literal["audio", "tone"]
    path: Path | None
    volume: int
    duration_s: float
    outcome: PlayOutcome


class VirtualPlayer:
    """A player that plays nothing: it waits for the audio's length divided by `speed`.

    A product feature, like gpiozero's MockFactory: the simulator runs thousands of these.
    `duration_played_s` and `ended_at` are in simulated seconds, so a broadcast log made at 30x
    speed still shows the bulletin's real length. It waits with `asyncio.sleep`, or, given a
    `clock` (a test's `ManualClock`), until that clock passes the end. It records every play in `history`.
    """

    def __init__(self, speed: float = 1.0, *, clock: Clock | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self.clock = clock
        self.history: list[PlayRecord] = []
        self._stop: asyncio.Event | None = None

    def _now(self) -> datetime:
        return self.clock.now() if self.clock is not None else utcnow()

    @property
    def is_playing(self) -> bool:
        return self._stop is not None

    @property
    def last(self) -> PlayRecord | None:
        return self.history[-1] if self.history else None

    async def play(self, path: Path, *, volume: int, duration_s: float) -> PlayOutcome:
        if not path.is_file():
            outcome = _outcome(self._now(), 0.0, completed=False, error=f"{MISSING_FILE}: {path}")
        else:
            outcome = await self._run(duration_s)
        self.history.append(PlayRecord("audio", path, volume, duration_s, outcome))
        return outcome

    async def tone(self, *, seconds: float, frequency_hz: int, volume: int) -> PlayOutcome:
        outcome = await self._run(seconds)
        self.history.append(PlayRecord("tone", None, volume, seconds, outcome))
        return outcome

    async def _run(self, seconds: float) -> PlayOutcome:
        if self._stop is not None:
            raise PlayerBusy("the virtual player is already playing")
        stop = self._stop = asyncio.Event()
        if self.clock is not None:
            clock = self.clock
            started = clock.now()
            try:
                stopped = await wait_until_or(clock, started + timedelta(seconds=seconds / self.speed), stop)
            finally:
                self._stop = None
            if not stopped:
                return _outcome(started, seconds, completed=True)
            played = min(seconds, (clock.now() - started).total_seconds() * self.speed)
            return _outcome(started, played, completed=False, error=STOPPED)
        loop = asyncio.get_running_loop()
        started, t0 = utcnow(), loop.time()
        try:
            await asyncio.wait_for(stop.wait(), timeout=seconds / self.speed)
        except TimeoutError:
            return _outcome(started, seconds, completed=True)
        finally:
            self._stop = None
        played = min(seconds, (loop.time() - t0) * self.speed)
        return _outcome(started, played, completed=False, error=STOPPED)

    async def stop(self) -> None:
        if self._stop is not None:
            self._stop.set()


DEFAULT_COMMAND: tuple[str, ...] = ("mpg123", "-q", "-o", "alsa", "-a", "{device}", "-f", "{scale}", "{file}")
"""mpg123 pinned to ALSA (it would otherwise try JACK and PulseAudio first), with software volume."""
DEFAULT_TONE_COMMAND: tuple[str, ...] = ("aplay", "-q", "-D", "{device}", "{file}")
TONE_SAMPLE_RATE = 22_050


class AlsaPlayer:
    """Plays through ALSA by running a decoder as an asyncio subprocess (mpg123 by default).

    `command` and `tone_command` are argument lists with placeholders: `{file}`, `{device}`,
    `{volume}` (0-100), `{scale}` (mpg123's output scale, 0-32768) and `{duration}` (seconds,
    from the manifest). `stop()` terminates the process. A non-zero exit becomes a specific
    reason: `missing-file`, `device-busy`, `device-unavailable`, `decode-error`, or
    `player-error` with the exit code and the decoder's last line. A completed play reports the
    audio's length as played (the ALSA device paces the decoder); a stopped one, the time it ran.

    With `alsa_device = "null"` it decodes for real into ALSA's null sink, which is how the
    agent runs on a machine without a sound card (and how its tests run).
    """

    def __init__(
        self,
        device: str = "default",
        command: Sequence[str] | None = None,
        *,
        tone_command: Sequence[str] | None = None,
        tone_dir: Path | None = None,
        stop_timeout_s: float = 2.0,
    ) -> None:
        self.device = device
        self.command = tuple(command or DEFAULT_COMMAND)
        self.tone_command = tuple(tone_command or DEFAULT_TONE_COMMAND)
        self.tone_dir = tone_dir or Path(tempfile.gettempdir()) / "loa-agent-tones"
        self.stop_timeout_s = stop_timeout_s
        self._proc: asyncio.subprocess.Process | None = None
        self._stopping = False

    def argv(self, template: Sequence[str], file: Path, volume: int, duration_s: float = 0.0) -> list[str]:
        values = {
            "{file}": str(file),
            "{duration}": f"{duration_s:g}",
            "{device}": self.device,
            "{volume}": str(volume),
            "{scale}": str(round(32768 * max(0, min(100, volume)) / 100)),
        }
        out = []
        for arg in template:
            for key, value in values.items():
                arg = arg.replace(key, value)
            out.append(arg)
        return out

    async def play(self, path: Path, *, volume: int, duration_s: float) -> PlayOutcome:
        if not path.is_file():
            return _outcome(utcnow(), 0.0, completed=False, error=f"{MISSING_FILE}: {path}")
        return await self._run(self.argv(self.command, path, volume, duration_s), duration_s)

    async def tone(self, *, seconds: float, frequency_hz: int, volume: int) -> PlayOutcome:
        path = await asyncio.to_thread(write_tone, self.tone_dir, seconds, frequency_hz, volume)
        return await self._run(self.argv(self.tone_command, path, volume, seconds), seconds)

    async def _run(self, argv: list[str], duration_s: float) -> PlayOutcome:
        if self._proc is not None:
            raise PlayerBusy("the ALSA player is already playing")
        loop = asyncio.get_running_loop()
        started, t0 = utcnow(), loop.time()
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
        except FileNotFoundError:
            return _outcome(started, 0.0, completed=False, error=f"{PLAYER_NOT_FOUND}: {argv[0]}")
        except OSError as exc:
            return _outcome(started, 0.0, completed=False, error=f"{PLAYER_ERROR}: cannot start {argv[0]}: {exc}")
        self._proc, self._stopping = proc, False
        try:
            _, stderr = await proc.communicate()
        except asyncio.CancelledError:
            await self._terminate(proc)
            raise
        finally:
            self._proc = None
        played = min(loop.time() - t0, duration_s) if duration_s > 0 else loop.time() - t0
        if self._stopping:
            return _outcome(started, played, completed=False, error=STOPPED)
        if proc.returncode == 0:
            return _outcome(started, duration_s or played, completed=True)
        return _outcome(started, played, completed=False, error=failure_reason(proc.returncode, stderr))

    async def stop(self) -> None:
        proc = self._proc
        if proc is not None:
            self._stopping = True
            await self._terminate(proc)

    async def _terminate(self, proc: asyncio.subprocess.Process) -> None:
        if proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), timeout=self.stop_timeout_s)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


_FAILURES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (DEVICE_BUSY, ("device or resource busy", "resource busy", "device busy")),
    (
        DEVICE_UNAVAILABLE,
        (
            "unknown pcm",
            "no such device",
            "cannot open device",
            "failed to open device",
            "audio output",
            "failure loading driver module",
            "audio open error",
        ),
    ),
    (MISSING_FILE, ("no such file", "cannot open file", "failed to open file")),
    (
        DECODE_ERROR,
        (
            "decode",
            "mpeg header",
            "illegal audio",
            "not an mpeg",
            "cannot read",
            "invalid frame",
            "invalid data found",
            "not a wave file",
            "unsupported format",
        ),
    ),
)


def failure_reason(returncode: int | None, stderr: bytes) -> str:
    """Turn a decoder's exit into a specific reason for the confirmation."""
    text = stderr.decode("utf-8", errors="replace").strip()
    last = text.splitlines()[-1].strip()[:200] if text else ""
    lowered = text.lower()
    for reason, needles in _FAILURES:
        if any(n in lowered for n in needles):
            return f"{reason}: {last}" if last else reason
    if returncode is not None and returncode < 0:
        return f"{PLAYER_ERROR}: killed by signal {-returncode}"
    detail = f": {last}" if last else ""
    return f"{PLAYER_ERROR}: exit code {returncode}{detail}"


def write_tone(directory: Path, seconds: float, frequency_hz: int, volume: int) -> Path:
    """A 16-bit mono sine WAV with the volume baked in; cached by its parameters."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"tone-{frequency_hz}hz-{seconds:g}s-v{volume}.wav"
    if path.exists():
        return path
    amplitude = 0.5 * 32767 * max(0, min(100, volume)) / 100
    n = int(seconds * TONE_SAMPLE_RATE)
    step = 2 * math.pi * frequency_hz / TONE_SAMPLE_RATE
    samples = array.array("h", (int(amplitude * math.sin(i * step)) for i in range(n)))
    if sys.byteorder == "big":
        samples.byteswap()  # WAV is little-endian
    tmp = path.with_suffix(f".{id(samples)}.tmp")
    with wave.open(str(tmp), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(TONE_SAMPLE_RATE)
        out.writeframes(samples.tobytes())
    tmp.replace(path)
    return path
