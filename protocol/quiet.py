"""Quiet hours: the one rule both sides apply. No normal or priority audio at night.

A controller bug, a mis-set schedule or a compromised controller must not wake a village at
03:15 (Trung Lộc, Nghệ An, December 2025). The controller refuses to book into quiet hours and
the agent refuses to play into them; both ask this module, so they cannot disagree.

Every interval here is half-open: the window `[start, end)` includes its start minute and excludes
its end minute, and a span of audio `[begin, begin + seconds)` excludes its end instant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from protocol.errors import ProtocolError
from protocol.messages import Priority

QUIET_HOURS = "quiet-hours"
"""The reason on a play's `skipped` confirmation, and on the security event, when quiet hours refuse it."""

_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_DAY = timedelta(days=1)


class InvalidQuietHours(ProtocolError):
    """A local time that is not HH:MM (two digits each, 00:00 to 23:59), or an unknown time zone."""


def parse_hhmm(text: str) -> time:
    """`"21:00"` to `time(21, 0)`. Refuses `"21:5"`, `"9:00"` and `"24:00"` with InvalidQuietHours."""
    match = _HHMM.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise InvalidQuietHours(f"expected a local time as HH:MM, got {text!r}")
    return time(int(match[1]), int(match[2]))


@dataclass(frozen=True)
class QuietHours:
    """A daily window `[start, end)` in local time, e.g. 21:00-05:00 in Asia/Ho_Chi_Minh.

    `start > end` means the window spans midnight; `start == end` means there are no quiet hours.
    """

    start: time
    end: time
    zone: ZoneInfo

    @classmethod
    def parse(cls, start: str, end: str, zone: str) -> QuietHours:
        """Build from the `HH:MM` strings and IANA zone name both sides store. Raises InvalidQuietHours."""
        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidQuietHours(f"unknown time zone {zone!r}") from None
        return cls(parse_hhmm(start), parse_hhmm(end), tz)

    @property
    def enabled(self) -> bool:
        return self.start != self.end

    def contains(self, instant: datetime) -> bool:
        """Whether the aware `instant` falls inside `[start, end)` local wall time."""
        if not self.enabled:
            return False
        local = instant.astimezone(self.zone).time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # the window spans midnight

    def overlaps(self, begin: datetime, seconds: float) -> bool:
        """Whether the half-open span `[begin, begin + seconds)` shares any instant with a quiet window.

        Computed on intervals: each window that could meet the span is built as `[start, end)` on its
        local day and compared with the span. An empty span (`seconds <= 0`) overlaps nothing.
        """
        if not self.enabled or seconds <= 0:
            return False
        if seconds >= _DAY.total_seconds():
            return True  # a whole day meets every window
        span_begin = begin.astimezone(UTC)
        span_end = span_begin + timedelta(seconds=seconds)
        first_day = begin.astimezone(self.zone).date() - _DAY  # a window spanning midnight began the day before
        last_day = span_end.astimezone(self.zone).date()
        day = first_day
        while day <= last_day:
            window_begin = datetime.combine(day, self.start, tzinfo=self.zone).astimezone(UTC)
            end_day = day if self.start < self.end else day + _DAY
            window_end = datetime.combine(end_day, self.end, tzinfo=self.zone).astimezone(UTC)
            if window_begin < span_end and span_begin < window_end:
                return True
            day += _DAY
        return False

    def refuses(self, priority: Priority, instant: datetime) -> bool:
        """True when a play of `priority` must not sound at `instant`: only emergencies pass."""
        return priority is not Priority.EMERGENCY and self.contains(instant)

    def describe(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M} {self.zone.key}"
