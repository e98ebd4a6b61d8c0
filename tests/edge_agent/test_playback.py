"""The playback line on its own: priorities, warm-up, cooldown, stop, late plays, failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio
from gpiozero.pins.mock import MockFactory

from common.clock import SystemClock
from edge_agent import Amplifier, PlayStatus, VirtualPlayer
from edge_agent.confirmations import NO_FACTS, ConfirmationFacts
from edge_agent.playback import ItemKind, Playback, PlayItem
from edge_agent.player import PlayOutcome
from protocol import ManifestPlay, Priority
from tests.edge_agent.conftest import WAIT, Audio, make_play, wait_until


@dataclass
class Recorder:
    """Stands in for the agent's confirmations."""

    events: list[tuple[str, PlayStatus, str | None]] = field(default_factory=list)
    amp: Amplifier | None = None
    amp_when_started: list[bool] = field(default_factory=list)
    armed: list[str] = field(default_factory=list)

    def __call__(self, play: ManifestPlay, status: PlayStatus, facts: ConfirmationFacts = NO_FACTS) -> bool:
        if status is PlayStatus.ARMED:  # local only, not a confirmation
            self.armed.append(play.play_id)
            return True
        if status is PlayStatus.STARTED and self.amp is not None:
            self.amp_when_started.append(self.amp.is_on)
        self.events.append((play.play_id, status, facts.reason))
        return True

    def of(self, play: ManifestPlay) -> list[tuple[PlayStatus, str | None]]:
        return [(s, r) for p, s, r in self.events if p == play.play_id]


@dataclass
class Line:
    playback: Playback
    player: VirtualPlayer
    amp: Amplifier
    pins: MockFactory
    record: Recorder
    path: Path

    def item(self, play: ManifestPlay, kind: ItemKind = ItemKind.NOW) -> PlayItem:
        return PlayItem(kind, play=play, path=self.path)

    def amp_history(self) -> list[bool]:
        return [not s.state for s in self.pins.pin(17).states]  # low-trigger: low means on


@pytest.fixture
def pins() -> Iterator[MockFactory]:
    factory = MockFactory()
    yield factory
    factory.close()


@pytest_asyncio.fixture
async def line(tmp_path: Path, pins: MockFactory) -> AsyncIterator[Line]:
    path = tmp_path / "a.mp3"
    path.write_bytes(b"ID3")
    amp = Amplifier(17, pin_factory=pins)
    pins.pin(17).clear_states()
    record = Recorder(amp=amp)
    player = VirtualPlayer()
    playback = Playback(
        player=player,
        amplifier=amp,
        clock=SystemClock(),
        report=record,
        volume=lambda: 70,
        warmup_s=0.3,
        cooldown_s=0.3,
        late_grace_s=60,
    )
    playback.start()
    try:
        yield Line(playback, player, amp, pins, record, path)
    finally:
        await playback.close()
        amp.close()


async def settle(line: Line) -> None:
    await wait_until(lambda: line.playback.current is None and not line.amp.is_on, WAIT)


@pytest.mark.asyncio
async def test_back_to_back_items_share_one_amplifier_session(line: Line, audio: Audio) -> None:
    a, b = make_play(audio, 0, duration_s=0.2), make_play(audio, 0, duration_s=0.2)
    await line.playback.submit(line.item(a))
    await line.playback.submit(line.item(b))
    await wait_until(lambda: len(line.record.of(b)) == 2)
    await settle(line)
    assert line.record.of(a) == [(PlayStatus.STARTED, None), (PlayStatus.FINISHED, None)]
    assert line.record.amp_when_started == [True, True]
    assert line.amp_history() == [False, True, False]


@pytest.mark.asyncio
async def test_an_emergency_arriving_during_warm_up_goes_first(line: Line, audio: Audio) -> None:
    normal = make_play(audio, 0, duration_s=0.2)
    storm = make_play(audio, 0, duration_s=0.2, priority=Priority.EMERGENCY)
    await line.playback.submit(line.item(normal))
    await asyncio.sleep(0.1)  # the amplifier is warming up for `normal`
    await line.playback.submit(line.item(storm))
    await wait_until(lambda: len(line.record.of(normal)) == 2)
    order = [(p, s) for p, s, _ in line.record.events if s is PlayStatus.STARTED]
    assert order == [(storm.play_id, PlayStatus.STARTED), (normal.play_id, PlayStatus.STARTED)]


@pytest.mark.asyncio
async def test_stop_during_warm_up_skips_without_starting(line: Line, audio: Audio) -> None:
    play = make_play(audio, 0, duration_s=5)
    await line.playback.submit(line.item(play))
    await asyncio.sleep(0.1)
    assert await line.playback.stop(None) == [play.play_id]
    await settle(line)
    assert line.record.of(play) == [(PlayStatus.SKIPPED, "stopped")]
    assert line.player.history == []


@pytest.mark.asyncio
async def test_a_scheduled_item_taken_too_late_is_skipped(line: Line, audio: Audio) -> None:
    late = make_play(audio, -61)
    await line.playback.submit(line.item(late, ItemKind.SCHEDULED))
    await wait_until(lambda: bool(line.record.of(late)))
    assert line.record.of(late) == [(PlayStatus.SKIPPED, "late")]
    assert line.amp_history() == [False]


@pytest.mark.asyncio
async def test_close_mid_play_reports_interrupted_and_switches_off(line: Line, audio: Audio) -> None:
    play = make_play(audio, 0, duration_s=30)
    await line.playback.submit(line.item(play))
    await wait_until(lambda: line.player.is_playing)
    await line.playback.close()
    assert line.record.of(play) == [(PlayStatus.STARTED, None), (PlayStatus.FAILED, "interrupted")]
    assert not line.amp.is_on


@pytest.mark.asyncio
async def test_player_errors_fail_the_play_and_the_line_carries_on(line: Line, audio: Audio) -> None:
    broken = make_play(audio, 0, duration_s=0.2)
    fine = make_play(audio, 0, duration_s=0.2)
    failures = [OSError("ALSA went away")]
    real_play = line.player.play

    async def flaky(path: Path, *, volume: int, duration_s: float) -> PlayOutcome:
        if failures:
            raise failures.pop()
        return await real_play(path, volume=volume, duration_s=duration_s)

    line.player.play = flaky  # type: ignore[method-assign]
    await line.playback.submit(line.item(broken))
    await line.playback.submit(line.item(fine))
    await wait_until(lambda: len(line.record.of(fine)) == 2)
    await settle(line)
    assert line.record.of(broken)[-1] == (PlayStatus.FAILED, "player-error: OSError: ALSA went away")
    assert line.record.of(fine)[-1] == (PlayStatus.FINISHED, None)


@pytest.mark.asyncio
async def test_amplifier_failure_fails_the_play(line: Line, audio: Audio) -> None:
    def broken() -> None:
        raise RuntimeError("relay board not answering")

    line.amp.power_on = broken  # type: ignore[method-assign]
    play = make_play(audio, 0)
    await line.playback.submit(line.item(play))
    await wait_until(lambda: bool(line.record.of(play)))
    assert line.record.of(play) == [(PlayStatus.FAILED, "amplifier-error: relay board not answering")]
    assert line.player.history == []


def test_sort_order_priority_then_commands_then_start(audio: Audio, tmp_path: Path) -> None:
    early = make_play(audio, 10)
    later = make_play(audio, 20)
    urgent = make_play(audio, 30, priority=Priority.EMERGENCY)
    items = [
        PlayItem(ItemKind.SCHEDULED, play=later, seq=1),
        PlayItem(ItemKind.SCHEDULED, play=early, seq=2),
        PlayItem(ItemKind.NOW, play=make_play(audio, 99), seq=3),
        PlayItem(ItemKind.SCHEDULED, play=urgent, seq=4),
    ]
    ordered = sorted(items, key=PlayItem.sort_key)
    assert [i.seq for i in ordered] == [4, 3, 2, 1]
