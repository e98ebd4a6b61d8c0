"""Clocks that both the controller and the agents take by injection, so tests never sleep."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol


def utcnow() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return datetime.now(UTC)


class Clock(Protocol):
    """Source of the current instant, and a way to wait until a later one."""

    def now(self) -> datetime: ...

    async def sleep_until(self, instant: datetime) -> None: ...


class SystemClock:
    """Wall-clock time. Waits in a long sleep, then a short one, so plays start on the instant.

    The long sleep runs on the monotonic clock, so it ends `fine_window_s` early and the wall
    clock is read again: a step by chrony during a long wait moves the wake-up with it. The last
    short sleep is a single timer too, not polling: the event loop fires timers within about a
    millisecond, and a thousand simulated agents polling every few milliseconds would themselves
    make the loop late.
    """

    fine_window_s = 0.05

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return utcnow() + self.offset

    async def sleep_until(self, instant: datetime) -> None:
        while (remaining := (instant - self.now()).total_seconds()) > 0:
            await asyncio.sleep(remaining - self.fine_window_s if remaining > 2 * self.fine_window_s else remaining)


class ManualClock:
    """A clock the test moves by hand. `sleep_until` returns when the test advances past the instant."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._now = start
        self._waiters: list[tuple[datetime, asyncio.Future[None]]] = []

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta | float) -> None:
        if not isinstance(delta, timedelta):
            delta = timedelta(seconds=delta)
        self.set(self._now + delta)

    def set(self, instant: datetime) -> None:
        self._now = instant
        still: list[tuple[datetime, asyncio.Future[None]]] = []
        for due, fut in self._waiters:
            if due <= instant:
                if not fut.done():
                    fut.get_loop().call_soon_threadsafe(_resolve, fut)
            else:
                still.append((due, fut))
        self._waiters = still

    async def sleep_until(self, instant: datetime) -> None:
        if instant <= self._now:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((instant, fut))
        await fut


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)
