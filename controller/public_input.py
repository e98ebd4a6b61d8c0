"""Input from the public side, made safe before it reaches SQL or a page: ids from URLs, plain text, local days.

Below both services/ and reports/, so the public page's reads and writes share one definition.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo


def key(value: str, limit: int = 64) -> str:
    """An id or code from a URL, safe to compare in SQL: empty when too long or holding control characters.

    PostgreSQL refuses NUL in text, and nothing we store has one, so such a value can only find nothing.
    """
    if len(value) > limit or any(ord(ch) < 32 or ch == "\x7f" for ch in value):
        return ""
    return value


def plain_text(value: str, limit: int, *, multiline: bool = False) -> str:
    """Citizen input as plain text: normalised, control characters dropped, trimmed and capped. Markup stays text."""
    value = unicodedata.normalize("NFC", value)
    keep = {"\n"} if multiline else set()
    cleaned = "".join(
        ch if ch in keep or unicodedata.category(ch)[0] != "C" else " " for ch in value.replace("\r\n", "\n")
    )
    if multiline:
        lines = [" ".join(line.split()) for line in cleaned.split("\n")]
        cleaned = "\n".join(lines)
        while "\n\n\n" in cleaned:
            cleaned = cleaned.replace("\n\n\n", "\n\n")
    else:
        cleaned = " ".join(cleaned.split())
    return cleaned.strip()[:limit]


def local_day(now: datetime, tz: ZoneInfo) -> str:
    return now.astimezone(tz).date().isoformat()
