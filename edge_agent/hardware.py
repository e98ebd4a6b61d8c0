"""The amplifier relay, driven through gpiozero with a pin factory chosen per agent."""

from __future__ import annotations

from typing import Any

from gpiozero import OutputDevice


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

    def power_on(self) -> None:
        self._device.on()

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
