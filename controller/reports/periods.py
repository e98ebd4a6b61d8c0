"""Reporting periods: a quarter, a half-year (6 months) or a year, bounded at local midnight."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from controller.errors import InvalidInput


class PeriodKind(StrEnum):
    """How long a reporting period is. The province reports each quarter, each 6 months and each year."""

    QUARTER = "quarter"
    HALF = "half"
    YEAR = "year"

    @property
    def months(self) -> int:
        return {PeriodKind.QUARTER: 3, PeriodKind.HALF: 6, PeriodKind.YEAR: 12}[self]

    @property
    def per_year(self) -> int:
        """How many periods of this kind a year holds."""
        return 12 // self.months

    @property
    def label_vi(self) -> str:
        return {PeriodKind.QUARTER: "Quý", PeriodKind.HALF: "6 tháng", PeriodKind.YEAR: "Năm"}[self]


@dataclass(frozen=True)
class Period:
    """One reporting period: `index` is the quarter (1-4), the half (1-2), or 1 for a year."""

    kind: PeriodKind
    year: int
    index: int = 1

    def __post_init__(self) -> None:
        if not 2000 <= self.year <= 2100:
            raise InvalidInput(f"year out of range: {self.year}", "Năm không hợp lệ.")
        if not 1 <= self.index <= self.kind.per_year:
            raise InvalidInput(
                f"{self.kind} index must be 1-{self.kind.per_year}, got {self.index}",
                f"{self.kind.label_vi} phải từ 1 đến {self.kind.per_year}."
                if self.kind is not PeriodKind.YEAR
                else "Kỳ báo cáo năm không hợp lệ.",
            )

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        return cls(PeriodKind.QUARTER, year, quarter)

    @classmethod
    def containing(cls, instant: datetime, kind: PeriodKind, tz: ZoneInfo) -> Period:
        """The period of this kind that holds `instant`, in local time."""
        local = instant.astimezone(tz)
        return cls(kind, local.year, (local.month - 1) // kind.months + 1)

    @property
    def first_month(self) -> int:
        return (self.index - 1) * self.kind.months + 1

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) in UTC, with both boundaries at local midnight on the first of a month."""
        start = datetime.combine(date(self.year, self.first_month, 1), time(0), tz)
        end_month = self.first_month + self.kind.months
        end_year = self.year + (end_month - 1) // 12
        end_month = (end_month - 1) % 12 + 1
        end = datetime.combine(date(end_year, end_month, 1), time(0), tz)
        return start.astimezone(UTC), end.astimezone(UTC)

    @property
    def label_vi(self) -> str:
        if self.kind is PeriodKind.QUARTER:
            return f"Quý {_roman(self.index)} năm {self.year}"
        if self.kind is PeriodKind.HALF:
            return f"6 tháng {'đầu' if self.index == 1 else 'cuối'} năm {self.year}"
        return f"Năm {self.year}"

    @property
    def slug(self) -> str:
        """A short, file-name-safe name: 2026-q2, 2026-h1, 2026."""
        if self.kind is PeriodKind.QUARTER:
            return f"{self.year}-q{self.index}"
        if self.kind is PeriodKind.HALF:
            return f"{self.year}-h{self.index}"
        return str(self.year)


def _roman(n: int) -> str:
    return ("I", "II", "III", "IV")[n - 1]


def period_or_current(kind: str | None, year: int | None, index: int | None, now: datetime, tz: ZoneInfo) -> Period:
    """The period a query names, filling what it leaves out from the period that holds `now`."""
    try:
        period_kind = PeriodKind(kind) if kind else PeriodKind.QUARTER
    except ValueError:
        raise InvalidInput(f"unknown period kind {kind!r}", "Loại kỳ báo cáo không hợp lệ.") from None
    current = Period.containing(now, period_kind, tz)
    return Period(period_kind, year or current.year, index or (current.index if year in (None, current.year) else 1))
