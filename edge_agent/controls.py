"""The post's local controls: the status LED and the stop button, each optional."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from common.clock import Clock
from edge_agent.config import AgentConfig
from edge_agent.hardware import LedPattern, StatusLed, StopButton


class LocalControls:
    """Shows the agent's state on the LED and turns a press of the stop button into `on_stop()`.

    The LED exists from construction (it starts dark); it blinks after `start()`. The button is
    claimed by `start()`, so a press can only arrive once the agent can act on it.
    """

    def __init__(self, config: AgentConfig, *, pin_factory: Any, clock: Clock, on_stop: Callable[[], None]) -> None:
        self._config = config
        self._pin_factory = pin_factory
        self._on_stop = on_stop
        self.led: StatusLed | None = None
        if config.status_led_pin is not None:
            self.led = StatusLed(
                config.status_led_pin, pin_factory=pin_factory, clock=clock, active_high=config.status_led_active_high
            )
        self.button: StopButton | None = None

    def start(self) -> None:
        if self.led is not None:
            self.led.start()
        if self._config.stop_button_pin is not None:
            self.button = StopButton(
                self._config.stop_button_pin,
                pin_factory=self._pin_factory,
                pull_up=self._config.stop_button_pull_up,
                on_press=self._on_stop,
            )

    def show(self, *, error: bool, playing: bool, connected: bool) -> None:
        """The LED pattern for the agent's state: error first, then playing, online idle, offline."""
        if self.led is None:
            return
        if error:
            pattern = LedPattern.ERROR
        elif playing:
            pattern = LedPattern.PLAYING
        elif connected:
            pattern = LedPattern.IDLE
        else:
            pattern = LedPattern.OFFLINE
        self.led.show(pattern)

    def close_button(self) -> None:
        """Release the button first on the way down, so a press cannot reach a stopping agent."""
        if self.button is not None:
            self.button.close()
            self.button = None

    async def close(self) -> None:
        self.close_button()
        if self.led is not None:
            await self.led.close()
