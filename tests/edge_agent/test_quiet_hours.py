"""Quiet hours as the agent reads them: a window in local time that may span midnight."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from protocol import Priority
from protocol.quiet import QuietHours

NIGHT = QuietHours.parse("21:00", "05:00", "Asia/Ho_Chi_Minh")


def hcm(hour: int, minute: int = 0) -> datetime:
    """An instant given in Asia/Ho_Chi_Minh wall time (UTC+7) on 27 May 2026, as UTC."""
    return datetime(2026, 5, 27, (hour - 7) % 24, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("hour", "minute", "quiet"),
    [
        (3, 15, True),
        (21, 0, True),
        (23, 59, True),
        (0, 0, True),
        (4, 59, True),
        (5, 0, False),
        (5, 30, False),
        (17, 0, False),
        (20, 59, False),
    ],
)
def test_window_spans_midnight_in_local_time(hour: int, minute: int, quiet: bool) -> None:
    assert NIGHT.contains(hcm(hour, minute)) is quiet


def test_only_emergency_passes_inside_the_window() -> None:
    at_0315 = hcm(3, 15)
    assert NIGHT.refuses(Priority.NORMAL, at_0315)
    assert NIGHT.refuses(Priority.PRIORITY, at_0315)
    assert not NIGHT.refuses(Priority.EMERGENCY, at_0315)
    assert not NIGHT.refuses(Priority.NORMAL, hcm(17, 0))


def test_a_daytime_window_and_a_disabled_one() -> None:
    noon = QuietHours.parse("11:30", "13:30", "Asia/Ho_Chi_Minh")
    assert noon.contains(hcm(12, 0)) and not noon.contains(hcm(3, 15))
    off = QuietHours.parse("00:00", "00:00", "Asia/Ho_Chi_Minh")
    assert not off.enabled and not off.contains(hcm(3, 15))
