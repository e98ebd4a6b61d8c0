"""Dates and clock times.

A date always reads "ngày D tháng M năm Y"; a "ngày" (or "tháng") the officer already typed
is kept and never doubled. Leading zeros are dropped, month 4 reads "tư" and month 1 "một"
(not "giêng"). "D/M" is read as a date when D ≤ 31 and M ≤ 12, "M/YYYY" as month and year
when M ≤ 12. "1-15/7/2026" reads "từ ngày một đến ngày mười lăm tháng bảy năm ..." and a range of years
"2021-2026" reads "... đến ...".

Dates written with dots or dashes ("27.9", "15-4") are read as dates after a word that
introduces one (ngày, từ, đến, dịp, hôm, sáng, chiều, tối, đêm); elsewhere "27.9" could be a
measurement. A range across months, "28/02-03/3/2023", reads "từ ngày hai mươi tám tháng hai đến
ngày ba tháng ba năm ..."; a list of days, "ngày 13,14 tháng 8" or "các ngày 13, 14/8", reads
"ngày mười ba, mười bốn tháng tám" (never a decimal).

Clock times: "17h30", "17h30p", "7:30" and "5 giờ 30" read "H giờ M phút"; "17h" and "7h00"
read "H giờ"; "17h30-18h" reads "... đến ...". Any one- or two-digit number before "h" is hours,
so a duration like "48h" reads "bốn mươi tám giờ". An hour range that ends in "h", "11-14h",
reads "mười một đến mười bốn giờ".
"""

from __future__ import annotations

import re

from controller.text.numbers import read_month, read_number

_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_BEFORE = r"(?<![\w/.,:-])"
_AFTER = r"(?![\w/]|[.,:-]\d)"

DATE_RANGE = re.compile(
    rf"{_BEFORE}(?:(?P<tu>(?i:từ))\s+)?(?:(?P<ngay>(?i:ngày))\s+)?(?P<first>{_DAY})\s*[-–]\s*"
    rf"(?P<last>{_DAY})/(?P<month>{_MONTH})(?:/(?P<year>\d{{4}}))?{_AFTER}"
)
FULL_DATE = re.compile(
    rf"{_BEFORE}(?:(?P<ngay>(?i:ngày))\s+)?(?P<day>{_DAY})(?P<sep>[/.-])(?P<month>{_MONTH})(?P=sep)(?P<year>\d{{4}}){_AFTER}"
)
MONTH_YEAR = re.compile(rf"{_BEFORE}(?:(?P<thang>(?i:tháng))\s+)?(?P<month>{_MONTH})/(?P<year>\d{{4}}){_AFTER}")
DAY_MONTH = re.compile(rf"{_BEFORE}(?:(?P<ngay>(?i:ngày))\s+)?(?P<day>{_DAY})/(?P<month>{_MONTH}){_AFTER}")
_DATE_WORD = r"(?i:ngày|từ|đến|dịp|hôm|sáng|chiều|tối|đêm|trưa|đến hết ngày)"
SHORT_DATE = re.compile(
    rf"(?<!\w)(?P<lead>{_DATE_WORD})\s+(?P<day>{_DAY})(?P<sep>[.-])(?P<month>{_MONTH})"
    rf"(?:(?P=sep)(?P<year>\d{{4}}))?(?![\w/]|[.,-]\d|\s*[-–]\s*\d|\s+tháng)"
)
CROSS_MONTH_RANGE = re.compile(
    rf"{_BEFORE}(?:(?P<tu>(?i:từ))\s+)?(?:(?P<ngay>(?i:ngày))\s+)?(?P<d1>{_DAY})/(?P<m1>{_MONTH})(?:/(?P<y1>\d{{4}}))?"
    rf"\s*[-–]\s*(?P<d2>{_DAY})/(?P<m2>{_MONTH})(?:/(?P<y2>\d{{4}}))?{_AFTER}"
)
DAY_LIST = re.compile(
    rf"(?<!\w)(?P<ngay>(?i:ngày))\s+(?P<days>{_DAY}(?:\s*,\s*{_DAY})*(?:\s*,?\s+(?:và)\s+{_DAY})?)"
    rf"(?P<month>\s+(?i:tháng)\s+{_MONTH}|/{_MONTH}(?:/\d{{4}})?){_AFTER}"
)
YEAR_RANGE = re.compile(rf"{_BEFORE}(?P<first>(?:19|20)\d\d)\s*[-–]\s*(?P<last>(?:19|20)\d\d){_AFTER}")
ROUND_THE_CLOCK = re.compile(r"(?<=\s)24/7(?![\w/]|[.,]\d)")
MONTH_NAME = re.compile(rf"(?<!\w)(?P<thang>(?i:tháng))\s+(?P<month>{_MONTH}){_AFTER}")

_ALWAYS_ON_WORDS = frozenset({"trực", "động", "vụ", "việc", "trợ", "tuyến"})
_HOUR = r"\d\d?"
_MINUTE = r"[0-5]\d"
_CLOCK = rf"(?P<{{p}}hour>{_HOUR})(?:h(?P<{{p}}min>{_MINUTE})?(?:\s?(?:phút|ph|p|')(?!\w))?|:(?P<{{p}}colon>{_MINUTE}))"
_TIME_BEFORE = r"(?<![\w/.,:])"
_TIME_AFTER = r"(?![\w:]|[.,]\d)"
TIME_RANGE = re.compile(_TIME_BEFORE + _CLOCK.format(p="a") + r"\s*[-–]\s*" + _CLOCK.format(p="b") + _TIME_AFTER)
TIME = re.compile(_TIME_BEFORE + _CLOCK.format(p="") + _TIME_AFTER)
HOUR_RANGE = re.compile(rf"{_TIME_BEFORE}(?P<a>{_HOUR})\s*[-–]\s*(?P<b>{_HOUR})h(?![\w:]|[.,]\d)")
HOUR_WORD_MINUTES = re.compile(
    rf"{_TIME_BEFORE}(?P<hour>{_HOUR})\s+giờ\s+(?P<min>{_MINUTE}|\d)(?!\s*phút)(?![\w]|[.,:]\d)"
)


def read_date(day: int | None, month: int, year: int | None, *, ngay: str | None = "ngày") -> str:
    """Read a date; `ngay` is the word that introduces the day, as the officer wrote it."""
    words = []
    if day is not None:
        words.append(f"{ngay or 'ngày'} {read_number(day)}")
    words.append(f"tháng {read_month(month)}")
    if year is not None:
        words.append(f"năm {read_number(year)}")
    return " ".join(words)


def _date_range(m: re.Match[str]) -> str:
    tu = m.group("tu") or ("Từ" if (m.group("ngay") or "").startswith("N") else "từ")
    year = int(m.group("year")) if m.group("year") else None
    last = read_date(int(m.group("last")), int(m.group("month")), year)
    return f"{tu} ngày {read_number(int(m.group('first')))} đến {last}"


def _short_date(m: re.Match[str]) -> str:
    year = int(m.group("year")) if m.group("year") else None
    lead = m.group("lead")
    day, month = int(m.group("day")), int(m.group("month"))
    if m.group("sep") == "-" and lead.lower() in ("từ", "đến") and year is None and day <= month:
        return m.group(0)  # "từ 3-5 ngày" is a range, not the 3rd of May
    if lead.lower() == "ngày":
        return read_date(int(m.group("day")), int(m.group("month")), year, ngay=lead)
    return f"{lead} {read_date(int(m.group('day')), int(m.group('month')), year)}"


def _cross_month_range(m: re.Match[str]) -> str:
    tu = m.group("tu") or ("Từ" if (m.group("ngay") or "").startswith("N") else "từ")
    first = read_date(int(m.group("d1")), int(m.group("m1")), int(m.group("y1")) if m.group("y1") else None)
    last = read_date(int(m.group("d2")), int(m.group("m2")), int(m.group("y2")) if m.group("y2") else None)
    return f"{tu} {first} đến {last}"


def _day_list(m: re.Match[str]) -> str:
    days = re.sub(r"\d+", lambda d: read_number(int(d.group(0))), m.group("days"))
    days = re.sub(r"\s*,\s*", ", ", days)
    month = m.group("month").strip()
    if month.startswith("/"):
        parts = month[1:].split("/")
        month_words = read_date(None, int(parts[0]), int(parts[1]) if len(parts) > 1 else None)
    else:
        month_words = f"tháng {read_month(int(month.split()[-1]))}"
    return f"{m.group('ngay')} {days} {month_words}"


def _round_the_clock(m: re.Match[str]) -> str:
    """Read "24/7" after a word like "trực" as day and night, not as 24 July."""
    before = m.string[: m.start()].rstrip().rsplit(" ", 1)[-1].lower()
    return "hai mươi tư trên bảy" if before in _ALWAYS_ON_WORDS else m.group(0)


def _full_date(m: re.Match[str]) -> str:
    return read_date(int(m.group("day")), int(m.group("month")), int(m.group("year")), ngay=m.group("ngay"))


def _month_year(m: re.Match[str]) -> str:
    text = read_date(None, int(m.group("month")), int(m.group("year")))
    thang = m.group("thang")
    return thang + text[len("tháng") :] if thang else text


def _day_month(m: re.Match[str]) -> str:
    return read_date(int(m.group("day")), int(m.group("month")), None, ngay=m.group("ngay"))


def _year_range(m: re.Match[str]) -> str:
    return f"{read_number(int(m.group('first')))} đến {read_number(int(m.group('last')))}"


def _month_name(m: re.Match[str]) -> str:
    return f"{m.group('thang')} {read_month(int(m.group('month')))}"


def read_clock(hour: int, minute: int | None) -> str:
    """Read a clock time: (17, 30) → "mười bảy giờ ba mươi phút"; zero minutes are not spoken."""
    if not minute:
        return f"{read_number(hour)} giờ"
    return f"{read_number(hour)} giờ {read_number(minute)} phút"


def _clock(m: re.Match[str], p: str = "") -> str:
    minute = m.group(f"{p}min") or m.group(f"{p}colon")
    return read_clock(int(m.group(f"{p}hour")), int(minute) if minute else None)


def _is_clock(m: re.Match[str], p: str = "") -> bool:
    """A bare "7:30" is a time; a bare number needs its "h"."""
    return "h" in m.group(0) or m.group(f"{p}colon") is not None


def _time_range(m: re.Match[str]) -> str:
    return f"{_clock(m, 'a')} đến {_clock(m, 'b')}"


def _time(m: re.Match[str]) -> str:
    return _clock(m) if _is_clock(m) else m.group(0)


def read_dates(text: str) -> str:
    """Apply the date rules: ranges, full dates, month/year, day/month, year ranges, then "tháng N"."""
    text = ROUND_THE_CLOCK.sub(_round_the_clock, text)
    text = CROSS_MONTH_RANGE.sub(_cross_month_range, text)
    text = DATE_RANGE.sub(_date_range, text)
    text = DAY_LIST.sub(_day_list, text)
    text = FULL_DATE.sub(_full_date, text)
    text = MONTH_YEAR.sub(_month_year, text)
    text = DAY_MONTH.sub(_day_month, text)
    text = YEAR_RANGE.sub(_year_range, text)
    text = SHORT_DATE.sub(_short_date, text)
    return MONTH_NAME.sub(_month_name, text)


def read_times(text: str) -> str:
    """Apply the clock-time rules: ranges first, then single times, then "5 giờ 30"."""
    text = TIME_RANGE.sub(lambda m: _time_range(m) if _is_clock(m, "a") and _is_clock(m, "b") else m.group(0), text)
    text = HOUR_RANGE.sub(lambda m: f"{read_number(int(m.group('a')))} đến {read_clock(int(m.group('b')), None)}", text)
    text = TIME.sub(_time, text)
    return HOUR_WORD_MINUTES.sub(lambda m: read_clock(int(m.group("hour")), int(m.group("min"))), text)
