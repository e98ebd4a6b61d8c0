"""Money, percentages, units, ordinals and the numbers left over.

Numbers are written the Vietnamese way: "." groups thousands ("1.200.000") and "," marks the
decimal ("2,5" → "hai phẩy năm"). A number with a leading zero and three or more digits, or
longer than twelve digits, is a code (an ID card number, say) and is read digit by digit.
A slash left between two numbers once dates are read ("13/15 hộ") reads "trên"; "100-150" reads
"một trăm đến một trăm năm mươi"; "3x4" reads "ba nhân bốn"; "đồng/người" reads "đồng một người".
A fraction is read "một phần hai" only when a word like "số" or "diện tích" follows it
("1/2 số hộ"); any other "D/M" is taken for a date.
"""

from __future__ import annotations

import re

from controller.text.numbers import read_decimal, read_digits, read_number, read_ordinal

_NUMBER = r"(?P<int>\d{1,3}(?:\.\d{3})+|\d+)(?:,(?P<frac>\d+))?"
_BEFORE = r"(?<![\w.,])"

UNITS = {
    "km/h": "ki-lô-mét trên giờ",
    "m/s": "mét trên giây",
    "kWh": "ki-lô-oát giờ",
    "kVA": "ki-lô-vôn-ampe",
    "kV": "ki-lô-vôn",
    "MW": "mê-ga-oát",
    "hPa": "héc-tô-pa-xcan",
    "km²": "ki-lô-mét vuông",
    "km2": "ki-lô-mét vuông",
    "m²": "mét vuông",
    "m2": "mét vuông",
    "m³": "mét khối",
    "m3": "mét khối",
    "km": "ki-lô-mét",
    "kg": "ki-lô-gam",
    "ha": "héc-ta",
    "cm": "xen-ti-mét",
    "mm": "mi-li-mét",
    "ml": "mi-li-lít",
    "m": "mét",
    "°C": "độ C",
    "V": "vôn",
}
"""Unit symbols read after a number, and how they are spoken."""

_CURRENCY = r"(?:đồng|đ|VNĐ|VND|vnđ|vnd)"
MONEY = re.compile(rf"{_BEFORE}{_NUMBER}\s?{_CURRENCY}(?!\w)")
PERCENT = re.compile(rf"{_BEFORE}{_NUMBER}\s?%")
_UNIT_ALTERNATIVES = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
UNIT = re.compile(rf"{_BEFORE}{_NUMBER}\s?(?P<unit>{_UNIT_ALTERNATIVES})(?!\w)")
_FRACTION_OF = r"(?:số|tổng|diện tích|dân số|kinh phí|thời gian|khối lượng)"
FRACTION = re.compile(rf"(?<![\w.,/])(?P<a>\d{{1,2}})/(?P<b>\d{{1,2}})(?=\s+{_FRACTION_OF}(?!\w))")
PER = re.compile(rf"(?<=đồng|trăm)(?P<units>(?:/(?:{_UNIT_ALTERNATIVES}|[^\W\d_]+)(?!\w))+)")
RANGE = re.compile(rf"(?<![\w.,/-]){_NUMBER}\s*[-–]\s*(?=\d)")
TIMES = re.compile(r"(?<![\w.,])(?P<a>\d+)\s?[x×]\s?(?P<b>\d+)(?!\w|[.,]\d)")
ORDINAL = re.compile(r"(?<!\w)(?P<thu>(?i:thứ))\s+(?P<n>\d+)(?!\w|[.,]\d)")
CODE = re.compile(r"(?<![\w.,])(?:0\d{2,}|\d{13,})(?![\w]|[.,]\d)")
RATIO = re.compile(r"(?<![\w.,/])(?P<a>\d+)/(?P<b>\d+)(?![\w/]|[.,]\d)")
NUMBER = re.compile(rf"(?<![\d.,]){_NUMBER}(?![.,]\d)")
DOTTED = re.compile(r"(?<![\d.,])(?P<a>\d+)\.(?P<b>\d+)(?![.,]?\d)")


def read_amount(integer: str, fraction: str | None) -> str:
    """Read "1.200.000" or "2" with fraction "5"; dots group thousands."""
    integer = integer.replace(".", "")
    if fraction:
        return read_decimal(integer, fraction)
    return read_number(int(integer))


def _amount(m: re.Match[str]) -> str:
    return read_amount(m.group("int"), m.group("frac"))


def _number(m: re.Match[str]) -> str:
    """Read a bare number, keeping it a separate word from letters it touches ("F0", "5a")."""
    words = _amount(m)
    text = m.string
    if m.start() > 0 and text[m.start() - 1].isalpha():
        words = " " + words
    if m.end() < len(text) and text[m.end()].isalpha():
        words += " "
    return words


def read_fractions(text: str) -> str:
    """Read "1/2 số hộ" as "một phần hai số hộ"; it must run before the date rules see "1/2"."""
    return FRACTION.sub(lambda m: f"{read_number(int(m.group('a')))} phần {read_number(int(m.group('b')))}", text)


def _per(m: re.Match[str]) -> str:
    """Read "/người/năm" after "đồng" or "phần trăm" as " một người một năm"."""
    return "".join(f" một {UNITS.get(unit, unit)}" for unit in m.group("units").split("/")[1:])


def read_quantities(text: str) -> str:
    """Apply money, percentage, unit, ordinal and code rules, then read every remaining number."""
    text = MONEY.sub(lambda m: f"{_amount(m)} đồng", text)
    text = PER.sub(_per, text)
    text = RANGE.sub(lambda m: f"{_amount(m)} đến ", text)
    text = TIMES.sub(lambda m: f"{read_number(int(m.group('a')))} nhân {read_number(int(m.group('b')))}", text)
    text = PERCENT.sub(lambda m: f"{_amount(m)} phần trăm", text)
    text = PER.sub(_per, text)
    text = UNIT.sub(lambda m: f"{_amount(m)} {UNITS[m.group('unit')]}", text)
    text = ORDINAL.sub(lambda m: f"{m.group('thu')} {read_ordinal(int(m.group('n')))}", text)
    text = CODE.sub(lambda m: read_digits(m.group(0)), text)
    text = RATIO.sub(lambda m: f"{read_number(int(m.group('a')))} trên {read_number(int(m.group('b')))}", text)
    text = NUMBER.sub(_number, text)
    return DOTTED.sub(lambda m: f"{read_number(int(m.group('a')))} chấm {read_number(int(m.group('b')))}", text)
