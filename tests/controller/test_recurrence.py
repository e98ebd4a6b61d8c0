"""Recurrence rules and quiet hours: pure functions, checked across month and year boundaries."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from controller.scheduling.recurrence import Recurrence, RecurrenceKind, in_quiet_hours, span_touches_quiet_hours

Z = "Asia/Ho_Chi_Minh"


def test_daily_crosses_the_year_boundary_and_skips_holidays() -> None:
    rec = Recurrence(kind=RecurrenceKind.DAILY, except_dates=(date(2027, 1, 1),))
    days = rec.dates_between(date(2026, 12, 30), date(2027, 1, 2))
    assert days == [date(2026, 12, 30), date(2026, 12, 31), date(2027, 1, 2)]


def test_weekdays_cross_a_month_boundary() -> None:
    # 2026-05-29 is a Friday; 2026-06-01 a Monday
    days = Recurrence(kind=RecurrenceKind.WEEKDAYS).dates_between(date(2026, 5, 28), date(2026, 6, 2))
    assert days == [date(2026, 5, 28), date(2026, 5, 29), date(2026, 6, 1), date(2026, 6, 2)]


def test_chosen_weekdays_within_a_date_range() -> None:
    rec = Recurrence(kind=RecurrenceKind.DAYS, weekdays=(0, 3), start_date=date(2027, 2, 1), end_date=date(2027, 2, 28))
    days = rec.dates_between(date(2027, 1, 25), date(2027, 3, 8))
    assert days[0] == date(2027, 2, 1) and days[-1] == date(2027, 2, 25)
    assert {d.weekday() for d in days} == {0, 3} and len(days) == 8


def test_single_dates_across_a_leap_day() -> None:
    rec = Recurrence(kind=RecurrenceKind.DATES, dates=(date(2028, 2, 29), date(2028, 3, 1)))
    assert rec.dates_between(date(2028, 2, 1), date(2028, 3, 31)) == [date(2028, 2, 29), date(2028, 3, 1)]


@pytest.mark.parametrize(
    "fields",
    [{"kind": "days"}, {"kind": "dates"}, {"start_date": "2026-05-02", "end_date": "2026-05-01"}, {"kind": "hourly"}],
)
def test_inconsistent_rules_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Recurrence.model_validate(fields)


def test_describe_in_vietnamese() -> None:
    rec = Recurrence(
        kind=RecurrenceKind.DAYS, weekdays=(0, 2), end_date=date(2026, 12, 31), except_dates=(date(2026, 9, 2),)
    )
    assert rec.describe_vi() == "Thứ Hai, Thứ Tư đến 31/12/2026, trừ 02/09/2026"


@pytest.mark.parametrize(
    ("utc", "quiet"),
    [
        (datetime(2026, 5, 26, 20, 15, tzinfo=UTC), True),  # 03:15 local: Trung Lộc
        (datetime(2026, 5, 26, 14, 0, tzinfo=UTC), True),  # 21:00 local, first quiet minute
        (datetime(2026, 5, 26, 13, 59, tzinfo=UTC), False),  # 20:59
        (datetime(2026, 5, 26, 22, 0, tzinfo=UTC), False),  # 05:00, first allowed minute
        (datetime(2026, 5, 26, 22, 30, tzinfo=UTC), False),  # 05:30 morning slot
    ],
)
def test_quiet_hours_wrap_midnight(utc: datetime, quiet: bool) -> None:
    assert in_quiet_hours(utc, "21:00", "05:00", Z) is quiet


def test_a_span_that_runs_into_quiet_hours_touches_them() -> None:
    start = datetime(2026, 5, 26, 13, 50, tzinfo=UTC)  # 20:50 local
    assert not span_touches_quiet_hours(start, 9 * 60, "21:00", "05:00", Z)
    assert span_touches_quiet_hours(start, 11 * 60, "21:00", "05:00", Z)
    assert not span_touches_quiet_hours(start, 11 * 60, "00:00", "00:00", Z)  # equal ends: none
