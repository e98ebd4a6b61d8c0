"""The post's hardware through gpiozero, each device on the pin factory chosen for its agent:
the amplifier relay, the status LED and the local stop button."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum
from typing import Any

from gpiozero import Button, OutputDevice

from common.clock import Clock
from edge_agent.timing import wait_until_or


class Amplifier:
    """The relay that powers a loudspeaker cluster's amplifier.

    Wraps gpiozero's `OutputDevice`, as `Button.is_pressed` wraps `is_active`. Pass the pin
    factory explicitly: the simulator gives every agent its own `MockFactory`, and only a lone
    agent on a Pi passes None for gpiozero's default. The relay starts released (amplifier off).
    """

    def __init__(self, pin: int | str, *, pin_factory: Any, active_high: bool = False) -> None:
        self._device = OutputDevice(pin, active_high=active_high, initial_value=False, pin_factory=pin_factory)
        self.pin = pin
        self.active_high = active_high
        self.switched_on = 0
        """How many times the relay was switched on: telemetry and tests count sessions with it."""

    def power_on(self) -> None:
        self._device.on()
        self.switched_on += 1

    def power_off(self) -> None:
        """Release the relay. Safe to call at any time, also after `close()`."""
        if not self._device.closed:
            self._device.off()

    @property
    def is_on(self) -> bool:
        return (not self._device.closed) and bool(self._device.is_active)

    @property
    def closed(self) -> bool:
        return bool(self._device.closed)

    def close(self) -> None:
        """Switch the amplifier off and free the pin."""
        self.power_off()
        self._device.close()

    def __enter__(self) -> Amplifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else ("on" if self.is_on else "off")
        return f"<Amplifier pin={self.pin} active_high={self.active_high} {state}>"


class LedPattern(StrEnum):
    """What the status LED says, from afar, to a technician at the foot of the pole."""

    OFF = "off"
    IDLE = "online-idle"
    """Steady on: connected, nothing playing."""
    PLAYING = "playing"
    """Fast blink, 4 Hz."""
    OFFLINE = "offline"
    """Slow blink, 1 s on, 1 s off: no broker. Scheduled plays still play from the cache."""
    ERROR = "error"
    """Double flash every 1.2 s: the last play or the amplifier failed; see the journal."""


LED_STEPS: dict[LedPattern, tuple[tuple[bool, float], ...]] = {
    LedPattern.OFF: ((False, 0.0),),
    LedPattern.IDLE: ((True, 0.0),),
    LedPattern.PLAYING: ((True, 0.125), (False, 0.125)),
    LedPattern.OFFLINE: ((True, 1.0), (False, 1.0)),
    LedPattern.ERROR: ((True, 0.15), (False, 0.15), (True, 0.15), (False, 0.75)),
}
"""Each pattern as (lit, seconds) steps, repeated; a single step with 0 s is held steady."""


class StatusLed:
    """The post's status LED, blinking its pattern from an asyncio task on the agent's clock.

    gpiozero's own `blink()` runs a thread per LED; a simulator with thousands of agents cannot
    afford that, and a thread would not follow an injected test clock.
    """

    def __init__(self, pin: int | str, *, pin_factory: Any, clock: Clock, active_high: bool = True) -> None:
        self._device = OutputDevice(pin, active_high=active_high, initial_value=False, pin_factory=pin_factory)
        self.pin = pin
        self._clock = clock
        self._pattern = LedPattern.OFF
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def pattern(self) -> LedPattern:
        return self._pattern

    @property
    def is_lit(self) -> bool:
        return (not self._device.closed) and bool(self._device.is_active)

    def show(self, pattern: LedPattern) -> None:
        """Switch to `pattern` at once (the blinking task picks it up on its next step)."""
        if pattern is not self._pattern:
            self._pattern = pattern
            first_lit = LED_STEPS[pattern][0][0]
            self._set(first_lit)
            self._changed.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"status-led-{self.pin}")

    async def _run(self) -> None:
        while True:
            self._changed.clear()
            pattern = self._pattern
            steps = LED_STEPS[pattern]
            if len(steps) == 1:
                self._set(steps[0][0])
                await self._changed.wait()
                continue
            for lit, seconds in steps:
                self._set(lit)
                if await wait_until_or(self._clock, self._clock.now() + timedelta(seconds=seconds), self._changed):
                    break

    def _set(self, lit: bool) -> None:
        if self._device.closed:
            return
        if lit:
            self._device.on()
        else:
            self._device.off()

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if not self._device.closed:
            self._device.off()
            self._device.close()


class StopButton:
    """The local stop button: the physical kill switch. `on_press` runs on the agent's event loop."""

    def __init__(
        self,
        pin: int | str,
        *,
        pin_factory: Any,
        on_press: Callable[[], None],
        pull_up: bool = True,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._loop = loop or asyncio.get_running_loop()
        self._on_press = on_press
        self._button = Button(pin, pull_up=pull_up, pin_factory=pin_factory)
        # gpiozero calls back on its own thread on a Pi (and on the caller's with MockFactory).
        self._button.when_pressed = self._pressed
        self.pin = pin

    def _pressed(self) -> None:
        self._loop.call_soon_threadsafe(self._on_press)

    @property
    def is_pressed(self) -> bool:
        return (not self._button.closed) and bool(self._button.is_pressed)

    def close(self) -> None:
        self._button.when_pressed = None
        self._button.close()
