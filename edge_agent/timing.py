"""Waiting on the agent's clock, interruptibly: the one place warm-ups, cooldowns and LED steps wait."""

from __future__ import annotations

import asyncio
from datetime import datetime

from common.clock import Clock


async def wait_until_or(clock: Clock, instant: datetime, *events: asyncio.Event) -> bool:
    """Wait until `instant` on `clock`, or until any of `events` is set. True if an event came first.

    With `SystemClock` the wait is coarse then fine, so a play starts on its instant; with
    `ManualClock` it ends when the test moves the clock, so tests never sleep.
    """
    if any(e.is_set() for e in events):
        return True
    if instant <= clock.now():
        return False
    sleeper = asyncio.ensure_future(clock.sleep_until(instant))
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait([sleeper, *waiters], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sleeper, *waiters):
            task.cancel()
        await asyncio.gather(sleeper, *waiters, return_exceptions=True)
    return any(e.is_set() for e in events)
