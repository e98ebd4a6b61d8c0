"""Quiet hours, enforced by the agent itself: no normal or priority audio at night, whatever it is told.

A controller bug, a mis-set schedule or a compromised controller must not wake a village at
03:15 (Trung Lộc, Nghệ An, December 2025). Only a signed emergency plays inside quiet hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from protocol.messages import Priority

QUIET_HOURS = "quiet-hours"
"""The reason on a play's `skipped` confirmation, and on the security event, when quiet hours refuse it."""


def parse_hhmm(text: str) -> time:
    """'21:00' -> time(21, 0). Raises ValueError naming the expected form."""
    try:
        hours, minutes = text.strip().split(":")
        if len(minutes) != 2:
            raise ValueError
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"expected a local time as HH:MM, got {text!r}") from None


@dataclass(frozen=True)
class QuietHours:
    """A nightly window in local time, e.g. 21:00-05:00 in Asia/Ho_Chi_Minh. `start == end` means none."""

    start: time
    end: time
    zone: ZoneInfo

    @classmethod
    def parse(cls, start: str, end: str, zone: str) -> QuietHours:
        return cls(parse_hhmm(start), parse_hhmm(end), ZoneInfo(zone))

    @property
    def enabled(self) -> bool:
        return self.start != self.end

    def contains(self, instant: datetime) -> bool:
        """True when `instant` (timezone-aware) falls inside the quiet window, start included, end excluded."""
        if not self.enabled:
            return False
        local = instant.astimezone(self.zone).time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # the window spans midnight

    def refuses(self, priority: Priority, instant: datetime) -> bool:
        """True when a play of `priority` must not sound at `instant`: only emergencies pass."""
        return priority is not Priority.EMERGENCY and self.contains(instant)

    def describe(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M} {self.zone.key}"
