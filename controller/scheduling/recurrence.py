"""Recurrence rules for programmes, and their expansion into local dates. Pure functions, no database."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from protocol import quiet

Weekday = Annotated[int, Field(ge=0, le=6)]
"""Monday is 0, as in `date.weekday()`."""

WEEKDAY_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")


class RecurrenceKind(StrEnum):
    DAILY = "daily"
    WEEKDAYS = "weekdays"
    """Monday to Friday."""
    DAYS = "days"
    """Chosen weekdays."""
    DATES = "dates"
    """Only the listed dates."""


class Recurrence(BaseModel):
    """When a programme airs: a pattern, bounded by optional first and last dates, minus exceptions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: RecurrenceKind = RecurrenceKind.DAILY
    weekdays: tuple[Weekday, ...] = ()
    dates: tuple[date, ...] = ()
    start_date: date | None = None
    end_date: date | None = None
    except_dates: tuple[date, ...] = ()
    """Holidays and other days off, skipped whatever the pattern says."""

    @model_validator(mode="after")
    def _consistent(self) -> Recurrence:
        if self.kind is RecurrenceKind.DAYS and not self.weekdays:
            raise ValueError("chọn ít nhất một ngày trong tuần")
        if self.kind is RecurrenceKind.DATES and not self.dates:
            raise ValueError("chọn ít nhất một ngày phát")
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("ngày kết thúc phải sau ngày bắt đầu")
        return self

    def matches(self, day: date) -> bool:
        if day in self.except_dates:
            return False
        if (self.start_date and day < self.start_date) or (self.end_date and day > self.end_date):
            return False
        match self.kind:
            case RecurrenceKind.DAILY:
                return True
            case RecurrenceKind.WEEKDAYS:
                return day.weekday() < 5
            case RecurrenceKind.DAYS:
                return day.weekday() in self.weekdays
            case RecurrenceKind.DATES:
                return day in self.dates
        return False  # pragma: no cover - exhaustive

    def dates_between(self, first: date, last: date) -> list[date]:
        """Every matching local date from `first` to `last`, inclusive."""
        days = (last - first).days
        return [d for d in (first + timedelta(n) for n in range(days + 1)) if self.matches(d)]

    def describe_vi(self) -> str:
        match self.kind:
            case RecurrenceKind.DAILY:
                text = "Hằng ngày"
            case RecurrenceKind.WEEKDAYS:
                text = "Thứ Hai đến Thứ Sáu"
            case RecurrenceKind.DAYS:
                text = ", ".join(WEEKDAY_VI[d] for d in sorted(self.weekdays))
            case RecurrenceKind.DATES:
                text = "Các ngày " + ", ".join(d.strftime("%d/%m/%Y") for d in sorted(self.dates))
        if self.start_date:
            text += f", từ {self.start_date:%d/%m/%Y}"
        if self.end_date:
            text += f" đến {self.end_date:%d/%m/%Y}"
        if self.except_dates:
            text += ", trừ " + ", ".join(d.strftime("%d/%m/%Y") for d in sorted(self.except_dates))
        return text


def parse_hhmm(value: str) -> time:
    """`"05:30"` to a time, by the protocol's one parser. Raises ValueError with a Vietnamese message."""
    try:
        return quiet.parse_hhmm(value)
    except quiet.InvalidQuietHours:
        raise ValueError(f"giờ '{value}' không đúng dạng GG:PP, ví dụ 05:30") from None


def local_instant(day: date, at: time, zone: str) -> datetime:
    """The aware instant of a local wall-clock time (Vietnam has no daylight saving, but zones are honoured)."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(zone))


def in_quiet_hours(moment: datetime, start: str, end: str, zone: str) -> bool:
    """Whether `moment` falls in the half-open quiet window [start, end) local time (see `protocol.quiet`)."""
    return quiet.QuietHours.parse(start, end, zone).contains(moment)


def span_touches_quiet_hours(start: datetime, seconds: float, quiet_start: str, quiet_end: str, zone: str) -> bool:
    """Whether the half-open span [start, start + seconds) meets the quiet window (see `protocol.quiet`)."""
    return quiet.QuietHours.parse(quiet_start, quiet_end, zone).overlaps(start, seconds)
