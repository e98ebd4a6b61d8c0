"""The playback line: one item at a time through the amplifier, highest priority first.

Scheduled plays arrive one warm-up before they are due, commands (PlayNow, test tones) at
once. The worker switches the amplifier on, waits for it to warm up, plays (a scheduled play
starts on its instant), and keeps it on for the cooldown in case another item is due; then it
switches it off. Every path out, including errors and cancellation, switches the amplifier off.
Every wait is on the injected clock, so tests drive warm-up and cooldown without sleeping.

Right before a play sounds, the agent's own quiet hours are checked: a normal or priority play
(or a test tone) inside them is refused, whatever the controller said. Emergencies pass.

The kill switch (a Stop command without a play id, or the local stop button) switches the
amplifier off at once, even mid warm-up, ends what plays, and drops every item already queued.

An emergency interrupts a lower-priority play. The emergency's `interrupted` policy decides the
fate of the interrupted play: `skip` ends it (`skipped`, `preempted by ...`); `resume` plays it
again from its beginning right after, without a second `started`, and its `finished`
confirmation carries `resumed_after` and `preempted_played_s`.

What a play's confirmation says when it does not finish (reason codes, docs/protocol.md):

- `skipped`: `late`, `stopped`, `preempted by <priority> play <id>`, `quiet-hours`;
- `failed`: `interrupted` (shut down or crashed while it played), `amplifier-error: ...`, or the
  player's reason: `missing-file`, `device-busy`, `device-unavailable`, `decode-error`,
  `player-not-found`, `player-error`.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from common.clock import Clock
from edge_agent.confirmations import ConfirmationFacts
from edge_agent.faults import MID_PLAY, fault_point
from edge_agent.hardware import Amplifier
from edge_agent.player import Player, PlayOutcome
from edge_agent.state import PlayStatus
from edge_agent.timing import wait_until_or
from protocol.messages import InterruptPolicy, ManifestPlay, Priority, TestTone
from protocol.quiet import QUIET_HOURS, QuietHours

log = logging.getLogger(__name__)

PRIORITY_RANK = {Priority.NORMAL: 0, Priority.PRIORITY: 1, Priority.EMERGENCY: 2}
LATE = "late"
STOPPED = "stopped"
STOPPED_LOCALLY = "stopped: local stop button"
INTERRUPTED = "interrupted"
PREEMPTED = "preempted"


class ItemKind(StrEnum):
    SCHEDULED = "scheduled"
    NOW = "now"
    TONE = "tone"


@dataclass
class PlayItem:
    """Something for the playback line: a play (scheduled or PlayNow) with its audio, or a test tone."""

    kind: ItemKind
    play: ManifestPlay | None = None
    path: Path | None = None
    tone: TestTone | None = None
    seq: int = field(default=0)
    resumed_after: str | None = None
    """Set when this play was preempted under the `resume` policy and waits to be played again."""
    preempted_played_s: float | None = None
    armed: bool = False
    """Recorded as about to start (`PlayStatus.ARMED`)."""

    @property
    def rank(self) -> int:
        return PRIORITY_RANK[self.play.priority] if self.play else 0

    @property
    def play_id(self) -> str | None:
        return self.play.play_id if self.play else None

    def sort_key(self) -> tuple[int, int, float, int]:
        """Highest priority first; within a priority, commands before scheduled plays, then by start."""
        immediate = 0 if self.kind is not ItemKind.SCHEDULED else 1
        start = self.play.starts_at.timestamp() if self.play and self.kind is ItemKind.SCHEDULED else 0.0
        return (-self.rank, immediate, start, self.seq)

    @property
    def priority(self) -> Priority:
        return self.play.priority if self.play else Priority.NORMAL

    def describe(self) -> str:
        if self.play is None:
            return "test tone"
        return f"{self.play.priority.value} play {self.play.play_id}"


class Report(Protocol):
    """How the playback line records what happened to a play. Returns False if nothing changed."""

    def __call__(self, play: ManifestPlay, status: PlayStatus, facts: ConfirmationFacts = ..., /) -> bool: ...


Refused = Callable[["PlayItem", str], None]
"""Told about an item refused for a security reason (quiet hours), to raise a security event."""


class Playback:
    """Plays queued items one at a time through `amplifier`. Start with `start()`, end with `close()`."""

    def __init__(
        self,
        *,
        player: Player,
        amplifier: Amplifier,
        clock: Clock,
        report: Report,
        volume: Callable[[], int],
        warmup_s: float,
        cooldown_s: float,
        late_grace_s: float,
        quiet_hours: Callable[[], QuietHours] | None = None,
        on_refused: Refused | None = None,
        on_change: Callable[[], None] | None = None,
        logger: logging.Logger | logging.LoggerAdapter[logging.Logger] | None = None,
    ) -> None:
        self.log = logger or log
        self._player = player
        self._amp = amplifier
        self._clock = clock
        self._report = report
        self._volume = volume
        self.warmup_s = warmup_s
        self.cooldown_s = cooldown_s
        self.late_grace = timedelta(seconds=late_grace_s)
        self._heap: list[tuple[tuple[int, int, float, int], PlayItem]] = []
        self._changed = asyncio.Event()
        self._seq = itertools.count()
        self._current: PlayItem | None = None
        self._playing = False
        self._interrupt: tuple[PlayStatus, str] | None = None
        self._preemptor: PlayItem | None = None
        self._quiet = quiet_hours
        self._on_refused = on_refused
        self._on_change = on_change
        self._kill = asyncio.Event()  # the kill switch, for the current amplifier session
        self._urgent = asyncio.Event()  # something outranking the current item arrived
        self._in_session = False
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    # -- what other parts of the agent ask ------------------------------------------------------

    @property
    def current(self) -> PlayItem | None:
        """The item being played, or warming up to play."""
        return self._current

    def queued_plays(self) -> list[ManifestPlay]:
        return [item.play for _, item in self._heap if item.play is not None]

    def queued_play_ids(self) -> set[str]:
        return {play.play_id for play in self.queued_plays()}

    @property
    def is_playing(self) -> bool:
        """True while audio or a tone is actually coming out (not during warm-up or cooldown)."""
        return self._playing

    @property
    def quiet_hours(self) -> QuietHours | None:
        """The quiet hours in force now (a config reload may change them)."""
        return self._quiet() if self._quiet is not None else None

    @property
    def alive(self) -> bool:
        """False once the worker task died: the watchdog then stops pinging systemd."""
        return self._task is not None and not self._task.done()

    def set_late_grace(self, seconds: float) -> None:
        self.late_grace = timedelta(seconds=seconds)

    def busy_with(self, play_id: str) -> bool:
        """True while `play_id` is queued or playing."""
        return (self._current is not None and self._current.play_id == play_id) or play_id in self.queued_play_ids()

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="playback")

    async def close(self, timeout: float = 5.0) -> None:
        """Stop playing (the current play is confirmed `failed`/`interrupted`), switch the amp off, end."""
        self._closing = True
        self._changed.set()
        if self._current is not None and self._interrupt is None:
            self._interrupt = (PlayStatus.FAILED, INTERRUPTED)
        if self._playing:
            await self._player.stop()
        task, self._task = self._task, None
        if task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout)
            except TimeoutError:
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._safe_power_off()

    # -- adding and removing items ---------------------------------------------------------------

    async def submit(self, item: PlayItem) -> None:
        """Queue an item. One that outranks the item now playing interrupts it."""
        item.seq = next(self._seq)
        heapq.heappush(self._heap, (item.sort_key(), item))
        self._changed.set()
        current = self._current
        if current is not None and item.rank > current.rank and self._interrupt is None:
            self._urgent.set()
            if self._playing:
                self.log.info("%s preempts %s", item.describe(), current.describe())
                self._interrupt = (PlayStatus.SKIPPED, f"{PREEMPTED} by {item.describe()}")
                self._preemptor = item
                await self._player.stop()

    def discard(self, play_id: str) -> PlayItem | None:
        """Take a queued (not playing) play out of the queue."""
        for i, (_, item) in enumerate(self._heap):
            if item.play_id == play_id:
                self._heap.pop(i)
                heapq.heapify(self._heap)
                return item
        return None

    async def stop(self, play_id: str | None, *, reason: str = STOPPED) -> list[str]:
        """Carry out a Stop command. Returns the play ids it ended or dropped.

        With a `play_id`: stop that play if it is playing, or drop it from the queue. Without, the
        kill switch: switch the amplifier off first (silence at once, even mid warm-up), then stop
        whatever plays (a tone too) and drop every item already queued, so it does not simply
        start the next due item. Plays not yet due keep their schedule.
        """
        affected: list[str] = []
        current = self._current
        if play_id is None and self._in_session:
            self._kill.set()
            self._safe_power_off()
        if current is not None and (play_id is None or current.play_id == play_id):
            if self._interrupt is None:
                self._interrupt = (PlayStatus.SKIPPED, reason)
            if current.play_id:
                affected.append(current.play_id)
            if self._playing:
                await self._player.stop()
        if play_id is None:
            dropped, self._heap = [item for _, item in self._heap], []
        else:
            found = self.discard(play_id)
            dropped = [found] if found else []
        for item in dropped:
            if item.play is not None:
                self._report(item.play, PlayStatus.SKIPPED, ConfirmationFacts(reason=reason))
                affected.append(item.play.play_id)
        return affected

    # -- the worker ------------------------------------------------------------------------------

    async def _take(self, timeout: float | None) -> PlayItem | None:
        """The next item to play, skipping late ones; None after `timeout` seconds (on the clock),
        when closing, or, within a session, after the kill switch."""
        deadline = None if timeout is None else self._clock.now() + timedelta(seconds=timeout)
        while not self._closing and not (deadline is not None and self._kill.is_set()):
            if self._heap:
                _, item = heapq.heappop(self._heap)
                if self._is_late(item):
                    assert item.play is not None
                    self.log.warning(
                        "play %s skipped: it could not start by %s + grace", item.play_id, item.play.starts_at
                    )
                    self._report(item.play, PlayStatus.SKIPPED, ConfirmationFacts(reason=LATE))
                    continue
                if self._refused_by_quiet_hours(item):
                    continue  # refused before the amplifier is even switched on
                return item
            self._changed.clear()
            if deadline is None:
                await self._changed.wait()
            elif not await wait_until_or(self._clock, deadline, self._changed, self._kill):
                return None
        return None

    def _is_late(self, item: PlayItem) -> bool:
        return (
            item.kind is ItemKind.SCHEDULED
            and item.resumed_after is None
            and item.play is not None
            and self._clock.now() > item.play.starts_at + self.late_grace
        )

    async def _run(self) -> None:
        while not self._closing:
            item = await self._take(None)
            if item is None:
                continue
            try:
                await self._session(item)
            except Exception:
                self.log.exception("the playback line failed; carrying on with the next item")

    async def _session(self, first: PlayItem) -> None:
        """One amplifier session: on, warm up, play items until the cooldown passes idle, off."""
        item: PlayItem | None = first
        self._current = first
        self._kill.clear()
        self._in_session = True
        try:
            try:
                self._amp.power_on()
            except Exception as exc:
                self._end(first, PlayStatus.FAILED, f"amplifier-error: {exc}")
                raise
            self._changed_state()
            self._arm(first)
            # The kill switch cuts the warm-up short; an urgent item does not: the amp must warm up.
            await wait_until_or(self._clock, self._clock.now() + timedelta(seconds=self.warmup_s), self._kill)
            while item is not None:
                await self._perform(item)
                if self._kill.is_set():
                    break
                item = await self._take(self.cooldown_s)
                self._current = item
        finally:
            self._in_session = False
            self._current = None
            self._interrupt = None
            self._preemptor = None
            self._safe_power_off()
            self._changed_state()

    def _arm(self, item: PlayItem) -> None:
        """Record durably that a scheduled play is about to start, while the amplifier warms up, so
        that at its instant the audio starts without waiting on the disk (see `edge_agent.state`)."""
        if item.kind is ItemKind.SCHEDULED and item.play is not None and item.resumed_after is None and not item.armed:
            self._report(item.play, PlayStatus.ARMED)
            item.armed = True

    async def _perform(self, item: PlayItem) -> None:
        """Play one item and report it. Raises only CancelledError."""
        self._current = item
        try:
            if item.kind is ItemKind.SCHEDULED and item.play is not None and item.resumed_after is None:
                # It was handed over a warm-up early; the kill switch or an urgent item ends the wait.
                self._arm(item)
                self._urgent.clear()
                await wait_until_or(self._clock, item.play.starts_at, self._kill, self._urgent)
            if self._heap and self._heap[0][1].rank > item.rank and self._interrupt is None:
                # Something more urgent arrived while the amplifier warmed up: it goes first.
                _, urgent = heapq.heappop(self._heap)
                item.seq = next(self._seq)
                heapq.heappush(self._heap, (item.sort_key(), item))
                item = self._current = urgent
            await self._perform_current(item)
        finally:
            self._current = None

    async def _perform_current(self, item: PlayItem) -> None:  # noqa: C901 - the play's life: warm-up, play, preempt, cooldown
        if self._closing:
            return
        if self._interrupt is not None:
            # Stopped or preempted before it could start.
            self._end(item, *self._interrupt)
            self._interrupt = None
            return
        now = self._clock.now()
        if self._refused_by_quiet_hours(item):
            return
        volume = self._volume()
        if item.tone is not None:
            await self._play_tone(item.tone, volume)
            return
        assert item.play is not None and item.path is not None
        play = item.play
        started_at = now
        # An armed play starts its audio first and is recorded `started` just after (no fsync: the
        # armed record is durable). Anything else is recorded durably before a sound is made.
        armed_start = item.armed and item.resumed_after is None
        if item.resumed_after is None and not armed_start and not self._start(play, started_at):
            return
        outcome: PlayOutcome | None = None
        error = ""
        self._set_playing(True)
        playing: asyncio.Future[PlayOutcome] | None = None
        try:
            if not armed_start:
                fault_point(MID_PLAY)
            playing = asyncio.ensure_future(self._player.play(item.path, volume=volume, duration_s=play.duration_s))
            if armed_start:
                await asyncio.sleep(0)  # the player's first step runs now: the audio is under way
                if not self._start(play, started_at):
                    playing.cancel()
                    return
                fault_point(MID_PLAY)
            outcome = await playing
        except asyncio.CancelledError:
            if playing is not None:
                playing.cancel()
            raise  # the play stays `started` (or armed); recovery at the next start reports it interrupted
        except Exception as exc:
            self.log.exception("player failed on play %s", play.play_id)
            error = f"player-error: {type(exc).__name__}: {exc}"
        finally:
            self._set_playing(False)
        interrupt, self._interrupt = self._interrupt, None
        preemptor, self._preemptor = self._preemptor, None
        played = outcome.duration_played_s if outcome else 0.0
        reason: str | None
        if outcome is not None and outcome.completed:
            status, reason = PlayStatus.FINISHED, None
        elif interrupt is not None:
            if preemptor is not None and preemptor.play is not None and self._resumes(preemptor):
                item.resumed_after = preemptor.play.play_id
                item.preempted_played_s = (item.preempted_played_s or 0.0) + played
                item.seq = next(self._seq)
                heapq.heappush(self._heap, (item.sort_key(), item))
                self.log.info(
                    "play %s preempted after %.1fs by %s; it plays again from the start afterwards",
                    play.play_id,
                    played,
                    preemptor.describe(),
                )
                return
            status, reason = interrupt
        else:
            status, reason = PlayStatus.FAILED, (outcome.error if outcome else error) or "player-error"
            self.log.warning("play %s failed: %s", play.play_id, reason)
        facts = ConfirmationFacts(
            reason=reason,
            started_at=started_at,
            ended_at=started_at + timedelta(seconds=played),
            duration_played_s=played,
            resumed_after=item.resumed_after,
            preempted_played_s=item.preempted_played_s,
        )
        self._report(play, status, facts)

    def _start(self, play: ManifestPlay, started_at: datetime) -> bool:
        if self._report(play, PlayStatus.STARTED, ConfirmationFacts(started_at=started_at)):
            return True
        self.log.warning("play %s was already started or ended; not playing it again", play.play_id)
        return False

    def _refused_by_quiet_hours(self, item: PlayItem) -> bool:
        """Refuse (and report) a non-emergency item that would sound inside quiet hours."""
        quiet = self.quiet_hours
        if quiet is None:
            return False
        at = self._clock.now()
        if item.kind is ItemKind.SCHEDULED and item.play is not None and item.resumed_after is None:
            at = max(at, item.play.starts_at)
        if not quiet.refuses(item.priority, at):
            return False
        self.log.warning("%s refused: %s is inside quiet hours %s", item.describe(), at, quiet.describe())
        self._end(item, PlayStatus.SKIPPED, QUIET_HOURS)
        if self._on_refused is not None:
            self._on_refused(item, QUIET_HOURS)
        return True

    def _resumes(self, preemptor: PlayItem) -> bool:
        return preemptor.play is not None and preemptor.play.interrupted is InterruptPolicy.RESUME

    def _set_playing(self, playing: bool) -> None:
        self._playing = playing
        self._changed_state()

    def _changed_state(self) -> None:
        if self._on_change is not None:
            try:
                self._on_change()
            except Exception:
                self.log.exception("the playback state listener failed")

    async def _play_tone(self, tone: TestTone, volume: int) -> None:
        self._set_playing(True)
        try:
            outcome = await self._player.tone(seconds=tone.seconds, frequency_hz=tone.frequency_hz, volume=volume)
        except asyncio.CancelledError:
            raise
        except Exception:
            self.log.exception("test tone failed")
            return
        finally:
            self._set_playing(False)
            self._interrupt = None
            self._preemptor = None
        if outcome.completed:
            self.log.info("test tone of %gs at %d Hz played", tone.seconds, tone.frequency_hz)
        else:
            self.log.warning("test tone ended early: %s", outcome.error)

    def _end(self, item: PlayItem, status: PlayStatus, reason: str) -> None:
        if item.play is not None:
            self._report(item.play, status, ConfirmationFacts(reason=reason))

    def _safe_power_off(self) -> None:
        try:
            self._amp.power_off()
        except Exception:
            self.log.critical("could not switch the amplifier off", exc_info=True)
