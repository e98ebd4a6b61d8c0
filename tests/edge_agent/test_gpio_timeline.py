"""Pins and player state in time, on an injected ManualClock: warm-up, cooldown, kill switch, emergency
preemption (skip and resume), quiet hours, LED patterns and the stop button. Nothing sleeps for real.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from gpiozero.pins.mock import MockFactory

from common.clock import ManualClock
from edge_agent import Amplifier, PlayStatus, VirtualPlayer
from edge_agent.confirmations import NO_FACTS, ConfirmationFacts
from edge_agent.hardware import LedPattern, StatusLed, StopButton
from edge_agent.playback import STOPPED, ItemKind, Playback, PlayItem
from protocol import InterruptPolicy, ManifestPlay, Priority
from protocol.quiet import QUIET_HOURS, QuietHours

DAY = datetime(2026, 5, 27, 10, 0, tzinfo=UTC)  # 17:00 in Asia/Ho_Chi_Minh: a normal broadcast slot
NIGHT = datetime(2026, 5, 26, 20, 15, tzinfo=UTC)  # 03:15 in Asia/Ho_Chi_Minh: the Trung Lộc hour
AMP, LED, BUTTON = 17, 27, 22


async def settle() -> None:
    """Let every task that the clock or a pin woke run to its next wait."""
    for _ in range(200):
        await asyncio.sleep(0)


@dataclass
class Event:
    t: float
    play_id: str
    status: PlayStatus
    reason: str | None
    facts: ConfirmationFacts


@dataclass
class Bench:
    """A playback line on mock pins and a manual clock, recording confirmations and snapshots in clock time."""

    clock: ManualClock
    playback: Playback
    player: VirtualPlayer
    amp: Amplifier
    pins: MockFactory
    path: Path
    events: list[Event] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    armed: list[tuple[float, str]] = field(default_factory=list)
    origin: datetime = field(init=False)
    """Clock time zero of the bench, set once the line is built."""

    @property
    def t(self) -> float:
        return (self.clock.now() - self.start).total_seconds()

    @property
    def start(self) -> datetime:
        return self.origin

    def report(self, play: ManifestPlay, status: PlayStatus, facts: ConfirmationFacts = NO_FACTS) -> bool:
        if status is PlayStatus.ARMED:  # local only, not a confirmation
            self.armed.append((self.t, play.play_id))
        else:
            self.events.append(Event(self.t, play.play_id, status, facts.reason, facts))
        return True

    def of(self, play: ManifestPlay) -> list[Event]:
        return [e for e in self.events if e.play_id == play.play_id]

    def amp_switches(self) -> list[bool]:
        """Every state the relay pin went through, read as amplifier on/off (low-trigger board)."""
        return [not s.state for s in self.pins.pin(AMP).states]

    def play(
        self,
        at: float,
        *,
        duration_s: float = 5.0,
        priority: Priority = Priority.NORMAL,
        interrupted: InterruptPolicy = InterruptPolicy.SKIP,
        name: str = "p",
    ) -> ManifestPlay:
        return ManifestPlay(
            play_id=f"{name}{len(self.events):02d}{int(at * 10):06d}".ljust(16, "0"),
            starts_at=self.start + timedelta(seconds=at),
            bulletin_id="b1",
            audio_url="http://x/media/a.mp3",
            sha256="a" * 64,
            size_bytes=3,
            duration_s=duration_s,
            priority=priority,
            interrupted=interrupted,
        )

    def item(self, play: ManifestPlay, kind: ItemKind = ItemKind.NOW) -> PlayItem:
        return PlayItem(kind, play=play, path=self.path)

    async def to(self, t: float) -> None:
        """Move the clock to `t` seconds after the start, in small steps, letting everything react."""
        await settle()
        while self.t < t - 1e-9:
            self.clock.advance(min(0.05, t - self.t))
            await settle()


def make_bench(tmp_path: Path, pins: MockFactory, start: datetime, quiet: QuietHours | None = None) -> Bench:
    clock = ManualClock(start)
    path = tmp_path / "a.mp3"
    path.write_bytes(b"ID3")
    amp = Amplifier(AMP, pin_factory=pins)
    pins.pin(AMP).clear_states()
    player = VirtualPlayer(clock=clock)
    bench = Bench(clock, None, player, amp, pins, path)  # type: ignore[arg-type]
    bench.origin = start
    bench.playback = Playback(
        player=player,
        amplifier=amp,
        clock=clock,
        report=bench.report,
        volume=lambda: 70,
        warmup_s=2.0,
        cooldown_s=3.0,
        late_grace_s=60,
        quiet_hours=(lambda: quiet) if quiet else None,
        on_refused=lambda item, reason: bench.refused.append((item.describe(), reason)),
    )
    return bench


@pytest.fixture
def pins() -> Iterator[MockFactory]:
    factory = MockFactory()
    yield factory
    factory.close()


@pytest_asyncio.fixture
async def bench(tmp_path: Path, pins: MockFactory) -> AsyncIterator[Bench]:
    b = make_bench(tmp_path, pins, DAY, QuietHours.parse("21:00", "05:00", "Asia/Ho_Chi_Minh"))
    b.playback.start()
    try:
        yield b
    finally:
        await b.playback.close()
        b.amp.close()


# -- warm-up and cooldown ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_amp_on_a_warm_up_before_the_instant_and_off_a_cooldown_after_the_end(bench: Bench) -> None:
    play = bench.play(10.0, duration_s=5.0)
    await bench.to(8.0)  # the scheduler hands a play over one warm-up early
    await bench.playback.submit(bench.item(play, ItemKind.SCHEDULED))
    await settle()
    assert bench.amp.is_on and not bench.player.is_playing
    await bench.to(9.95)
    assert bench.amp.is_on and not bench.player.is_playing  # warming up: the relay is on, no audio yet
    await bench.to(10.0)
    assert bench.player.is_playing
    await bench.to(14.95)
    assert bench.player.is_playing
    await bench.to(15.0)
    assert not bench.player.is_playing and bench.amp.is_on  # cooldown: in case another item is due
    await bench.to(17.95)
    assert bench.amp.is_on
    await bench.to(18.0)
    assert not bench.amp.is_on
    started, finished = bench.of(play)
    assert bench.armed == [(8.0, play.play_id)]  # recorded durably as the warm-up began, not at the instant
    assert (started.status, started.t) == (PlayStatus.STARTED, 10.0)
    assert (finished.status, finished.t) == (PlayStatus.FINISHED, 15.0)
    assert finished.facts.started_at == play.starts_at
    assert finished.facts.duration_played_s == 5.0
    assert finished.facts.ended_at == play.starts_at + timedelta(seconds=5)
    assert bench.amp_switches() == [False, True, False]  # off, on once, off once: never left on


@pytest.mark.asyncio
async def test_back_to_back_items_share_one_amplifier_session(bench: Bench) -> None:
    first, second = bench.play(0, duration_s=2, name="a"), bench.play(0, duration_s=2, name="b")
    await bench.playback.submit(bench.item(first))
    await bench.playback.submit(bench.item(second))
    await bench.to(2.0 + 2.0 + 2.0 + 3.0)
    assert [e.status for e in bench.of(first)] == [PlayStatus.STARTED, PlayStatus.FINISHED]
    assert [e.t for e in bench.of(second)] == [4.0, 6.0]
    assert bench.amp_switches() == [False, True, False]


# -- the kill switch --------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_kill_switch_during_warm_up_silences_at_once_and_drops_what_was_due(bench: Bench) -> None:
    first, queued = bench.play(0, name="a"), bench.play(0, name="b")
    await bench.playback.submit(bench.item(first))
    await bench.playback.submit(bench.item(queued))
    await bench.to(0.5)
    assert bench.amp.is_on and not bench.player.is_playing
    affected = await bench.playback.stop(None)
    assert not bench.amp.is_on  # off within the stop call, not after the warm-up
    assert sorted(affected) == sorted([first.play_id, queued.play_id])
    await bench.to(10.0)
    assert bench.player.history == []  # nothing ever sounded
    assert [(e.status, e.reason) for e in bench.of(first)] == [(PlayStatus.SKIPPED, STOPPED)]
    assert [(e.status, e.reason) for e in bench.of(queued)] == [(PlayStatus.SKIPPED, STOPPED)]
    assert bench.amp_switches() == [False, True, False]


@pytest.mark.asyncio
async def test_kill_switch_mid_play_cuts_the_amp_then_the_player(bench: Bench) -> None:
    play = bench.play(0, duration_s=30)
    await bench.playback.submit(bench.item(play))
    await bench.to(5.0)  # 2 s warm-up, 3 s of audio
    assert bench.player.is_playing
    await bench.playback.stop(None, reason="stopped: local stop button")
    assert not bench.amp.is_on
    await settle()
    assert not bench.player.is_playing
    skipped = bench.of(play)[-1]
    assert (skipped.status, skipped.reason) == (PlayStatus.SKIPPED, "stopped: local stop button")
    assert skipped.facts.duration_played_s == pytest.approx(3.0)
    # The next item after a kill starts a fresh session, with its own warm-up.
    later = bench.play(20, duration_s=1, name="l")
    await bench.to(18.0)
    await bench.playback.submit(bench.item(later, ItemKind.SCHEDULED))
    await bench.to(20.0)
    assert bench.player.is_playing
    assert bench.amp_switches() == [False, True, False, True]


# -- emergency preemption ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_emergency_with_skip_policy_ends_the_interrupted_play(bench: Bench) -> None:
    normal = bench.play(0, duration_s=10, name="n")
    emergency = bench.play(0, duration_s=4, priority=Priority.EMERGENCY, name="e")
    await bench.playback.submit(bench.item(normal))
    await bench.to(5.0)  # 3 s into the bulletin
    await bench.playback.submit(bench.item(emergency))
    await settle()
    assert bench.amp.is_on and bench.player.is_playing
    assert bench.playback.current is not None and bench.playback.current.play_id == emergency.play_id
    ended = bench.of(normal)[-1]
    assert (ended.status, ended.t) == (PlayStatus.SKIPPED, 5.0)
    assert ended.reason == f"preempted by emergency play {emergency.play_id}"
    assert ended.facts.duration_played_s == pytest.approx(3.0)
    assert bench.of(emergency)[0].t == 5.0  # no second warm-up: the amp was already on
    await bench.to(9.0 + 3.0)
    assert [e.status for e in bench.of(emergency)] == [PlayStatus.STARTED, PlayStatus.FINISHED]
    assert [r.path for r in bench.player.history] == [bench.path, bench.path]
    assert bench.amp_switches() == [False, True, False]  # the amplifier stayed on throughout


@pytest.mark.asyncio
async def test_emergency_with_resume_policy_plays_the_interrupted_one_again_afterwards(bench: Bench) -> None:
    normal = bench.play(0, duration_s=10, name="n")
    emergency = bench.play(0, duration_s=4, priority=Priority.EMERGENCY, interrupted=InterruptPolicy.RESUME, name="e")
    await bench.playback.submit(bench.item(normal))
    await bench.to(5.0)
    await bench.playback.submit(bench.item(emergency))
    await bench.to(9.0)  # the emergency ends; the bulletin starts again from the beginning
    assert bench.player.is_playing and bench.playback.current is not None
    assert bench.playback.current.play_id == normal.play_id
    await bench.to(19.0)
    events = bench.of(normal)
    assert [e.status for e in events] == [PlayStatus.STARTED, PlayStatus.FINISHED]  # one start, one end
    finished = events[-1]
    assert finished.t == 19.0
    assert finished.facts.resumed_after == emergency.play_id
    assert finished.facts.preempted_played_s == pytest.approx(3.0)
    assert finished.facts.started_at == DAY + timedelta(seconds=9)
    assert finished.facts.duration_played_s == 10.0
    outcomes = [(r.duration_s, r.outcome.completed) for r in bench.player.history]
    assert outcomes == [(10, False), (4, True), (10, True)]
    await bench.to(22.0)
    assert bench.amp_switches() == [False, True, False]


# -- quiet hours ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_quiet_hours_refuse_normal_plays_before_the_amp_is_touched(tmp_path: Path, pins: MockFactory) -> None:
    bench = make_bench(tmp_path, pins, NIGHT, QuietHours.parse("21:00", "05:00", "Asia/Ho_Chi_Minh"))
    bench.playback.start()
    try:
        normal, priority = bench.play(0, name="n"), bench.play(0, priority=Priority.PRIORITY, name="p")
        await bench.playback.submit(bench.item(normal))
        await bench.playback.submit(bench.item(priority))
        await bench.to(10.0)
        assert [(e.status, e.reason) for e in bench.of(normal)] == [(PlayStatus.SKIPPED, QUIET_HOURS)]
        assert [(e.status, e.reason) for e in bench.of(priority)] == [(PlayStatus.SKIPPED, QUIET_HOURS)]
        assert bench.amp_switches() == [False]  # the relay never clicked at 03:15
        assert [r for _, r in bench.refused] == [QUIET_HOURS, QUIET_HOURS]

        emergency = bench.play(10, duration_s=1, priority=Priority.EMERGENCY, name="e")
        await bench.playback.submit(bench.item(emergency))
        await bench.to(13.0)
        assert [e.status for e in bench.of(emergency)] == [PlayStatus.STARTED, PlayStatus.FINISHED]
    finally:
        await bench.playback.close()
        bench.amp.close()


# -- the status LED and the stop button ---------------------------------------------------------------


@pytest.mark.asyncio
async def test_led_patterns_in_time(pins: MockFactory) -> None:
    clock = ManualClock(DAY)
    led = StatusLed(LED, pin_factory=pins, clock=clock)
    led.start()

    async def lit_at(offsets: list[float]) -> list[bool]:
        start, seen = clock.now(), []
        for offset in offsets:
            clock.set(start + timedelta(seconds=offset))
            await settle()
            seen.append(led.is_lit)
        return seen

    try:
        led.show(LedPattern.IDLE)
        assert await lit_at([0, 1, 5, 60]) == [True, True, True, True]  # steady
        led.show(LedPattern.PLAYING)
        assert await lit_at([0, 0.125, 0.25, 0.375, 0.5]) == [True, False, True, False, True]  # 4 Hz
        led.show(LedPattern.OFFLINE)
        assert await lit_at([0, 1.0, 2.0, 3.0]) == [True, False, True, False]  # 1 s on, 1 s off
        led.show(LedPattern.ERROR)
        assert await lit_at([0, 0.15, 0.3, 0.45, 1.2]) == [True, False, True, False, True]  # double flash
        assert led.pattern is LedPattern.ERROR
    finally:
        await led.close()
    assert not pins.pin(LED).state


@pytest.mark.asyncio
async def test_stop_button_press_runs_the_callback_on_the_loop(pins: MockFactory) -> None:
    presses: list[bool] = []
    button = StopButton(BUTTON, pin_factory=pins, on_press=lambda: presses.append(True))
    try:
        pin = pins.pin(BUTTON)
        assert not button.is_pressed
        pin.drive_low()  # wired to ground: pressed
        await settle()
        assert presses == [True] and button.is_pressed
        pin.drive_high()
        await settle()
        assert presses == [True]
    finally:
        button.close()
