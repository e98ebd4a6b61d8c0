"""Dates typed the Vietnamese way (ngày/tháng/năm), whatever the browser's language; ISO dates also pass."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from controller.errors import InvalidInput

_SEPARATORS = re.compile(r"[\s,;]+")
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


def parse_date(text: str) -> date | None:
    """`"27/5/2026"` (or `"2026-05-27"`) to a date; empty text is None. Refuses anything else in Vietnamese."""
    value = text.strip()
    if not value:
        return None
    try:
        found = _DMY.match(value)
        if found:
            day, month, year = (int(g) for g in found.groups())
            return date(year, month, day)
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"bad date {value!r}", f"Ngày “{value}” không hợp lệ. Hãy viết theo dạng ngày/tháng/năm, ví dụ 27/05/2026."
        ) from None


def parse_dates(text: str) -> tuple[date, ...]:
    """Several dates, separated by commas, spaces or lines, in order and without repeats."""
    found = {parse_date(part) for part in _SEPARATORS.split(text) if part.strip()}
    return tuple(sorted(d for d in found if d is not None))


def format_date(value: date | str | None) -> str:
    """A date as the form shows it: 27/05/2026 (an ISO string is converted; anything else is kept as typed)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value).strftime("%d/%m/%Y")
        except ValueError:
            return value
    return value.strftime("%d/%m/%Y")


def format_dates(values: Iterable[date]) -> str:
    return ", ".join(format_date(d) for d in sorted(values))
