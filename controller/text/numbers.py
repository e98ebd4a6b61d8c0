"""Vietnamese readings of numbers, digit strings and Roman numerals.

Conventions: "linh" (never "lẻ") for a zero tens digit, "mốt"/"tư"/"lăm" for 1/4/5 after
"mươi", "nghìn" (never "ngàn"), and an inner group of three digits is read in full with
"không trăm" (1005 → "một nghìn không trăm linh năm"). Groups that are all zero are skipped.
"""

from __future__ import annotations

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")

_SCALES = ((10**9, "tỷ"), (10**6, "triệu"), (10**3, "nghìn"))

_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}


def _read_tens(n: int) -> str:
    """Read 0 < n < 100 with the spoken variants of 1, 4 and 5."""
    tens, units = divmod(n, 10)
    if tens == 0:
        return DIGITS[units]
    head = "mười" if tens == 1 else f"{DIGITS[tens]} mươi"
    if units == 0:
        return head
    if units == 5:
        tail = "lăm"
    elif units == 1 and tens > 1:
        tail = "mốt"
    elif units == 4 and tens > 1:
        tail = "tư"
    else:
        tail = DIGITS[units]
    return f"{head} {tail}"


def _read_group(n: int, *, full: bool) -> str:
    """Read 0 < n < 1000; `full` reads "không trăm" and "linh" as an inner group needs."""
    hundreds, rest = divmod(n, 100)
    if hundreds == 0 and not full:
        return _read_tens(rest)
    words = [f"{DIGITS[hundreds]} trăm"]
    if 0 < rest < 10:
        words.append(f"linh {DIGITS[rest]}")
    elif rest:
        words.append(_read_tens(rest))
    return " ".join(words)


def _read_below_billion(n: int, *, full: bool) -> list[str]:
    words: list[str] = []
    for scale, name in _SCALES[1:]:
        group, n = divmod(n, scale)
        if group:
            words.append(f"{_read_group(group, full=full)} {name}")
            full = True
    if n:
        words.append(_read_group(n, full=full))
    return words


def read_number(n: int) -> str:
    """Vietnamese cardinal reading of a non-negative integer: 2026 → "hai nghìn không trăm hai mươi sáu"."""
    if n < 0:
        return f"âm {read_number(-n)}"
    if n == 0:
        return DIGITS[0]
    billions, rest = divmod(n, 10**9)
    words: list[str] = []
    if billions:
        words.append(f"{read_number(billions)} tỷ")
    words.extend(_read_below_billion(rest, full=bool(billions)))
    return " ".join(words)


def read_digits(s: str) -> str:
    """Read a string of digits one by one: "0912" → "không chín một hai"."""
    if not s or not s.isascii() or not s.isdigit():
        raise ValueError(f"expected ASCII digits, got {s!r}")
    return " ".join(DIGITS[int(c)] for c in s)


def read_decimal(integer: str, fraction: str) -> str:
    """Read a decimal with a comma: ("2", "5") → "hai phẩy năm"; leading zeros of the fraction are spoken."""
    zeros = len(fraction) - len(fraction.lstrip("0"))
    words = [read_number(int(integer)), "phẩy"]
    words.extend([DIGITS[0]] * zeros)
    if fraction.strip("0") or not zeros:
        words.append(read_number(int(fraction)))
    return " ".join(words)


def read_month(month: int) -> str:
    """Name of a month as said after "tháng": 1 → "một", 4 → "tư"."""
    return "tư" if month == 4 else read_number(month)


def read_ordinal(n: int) -> str:
    """Reading after "thứ": 1 → "nhất", 4 → "tư", otherwise the cardinal."""
    return {1: "nhất", 4: "tư"}.get(n, read_number(n))


def roman_to_int(numeral: str) -> int | None:
    """Value of a well-formed Roman numeral up to 399, or None if `numeral` is not one."""
    if not numeral or any(c not in _ROMAN for c in numeral):
        return None
    total = 0
    for i, c in enumerate(numeral):
        value = _ROMAN[c]
        if i + 1 < len(numeral) and _ROMAN[numeral[i + 1]] > value:
            total -= value
        else:
            total += value
    return total if int_to_roman(total) == numeral else None


def int_to_roman(n: int) -> str:
    """Canonical Roman numeral for 0 < n < 400."""
    parts = ((100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
    out = []
    for value, symbol in parts:
        count, n = divmod(n, value)
        out.append(symbol * count)
    return "".join(out)
