"""The amplifier relay on gpiozero mock pins, each agent with its own pin factory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gpiozero.pins.mock import MockFactory

from edge_agent import Amplifier


@pytest.fixture
def pins() -> Iterator[MockFactory]:
    factory = MockFactory()
    yield factory
    factory.close()


def test_low_trigger_relay_is_pulled_low_to_switch_on(pins: MockFactory) -> None:
    amp = Amplifier(17, pin_factory=pins)
    pin = pins.pin(17)
    assert (amp.is_on, pin.state) == (False, True)
    amp.power_on()
    assert (amp.is_on, pin.state) == (True, False)
    amp.power_off()
    assert (amp.is_on, pin.state) == (False, True)
    amp.close()
    assert amp.closed and not amp.is_on
    amp.power_off()  # harmless after close


def test_high_trigger_relay(pins: MockFactory) -> None:
    with Amplifier(22, pin_factory=pins, active_high=True) as amp:
        assert pins.pin(22).state is False
        amp.power_on()
        assert pins.pin(22).state is True
    assert pins.pin(22).state is False  # closing switches it off first


def test_close_switches_off(pins: MockFactory) -> None:
    amp = Amplifier(17, pin_factory=pins)
    amp.power_on()
    amp.close()
    assert pins.pin(17).state is True


def test_every_agent_has_its_own_factory() -> None:
    a, b = MockFactory(), MockFactory()
    try:
        amp_a, amp_b = Amplifier(17, pin_factory=a), Amplifier(17, pin_factory=b)  # same pin number, no conflict
        amp_a.power_on()
        assert (a.pin(17).state, b.pin(17).state) == (False, True)
        amp_a.close()
        amp_b.close()
    finally:
        a.close()
        b.close()
