"""Document numbers, Roman numerals and headings.

Document numbers follow one convention: the number is read as a cardinal, a four-digit year
between slashes is introduced by "năm", the slash before the issuing symbol is read "trên",
and the symbol's parts (split at "-") are expanded from the abbreviation table, with their
hyphens dropped. A part with a trailing number ("QH14") reads the number after it, with
"khóa" for the National Assembly. Parts not in the table are spelled letter by letter.

    1369/QĐ-UBND   → "một nghìn ba trăm sáu mươi chín trên quyết định Ủy ban nhân dân"
    24/2018/QH14   → "hai mươi tư năm hai nghìn không trăm mười tám trên Quốc hội khóa mười bốn"
    13/2023/NĐ-CP  → "mười ba năm hai nghìn không trăm hai mươi ba trên nghị định Chính phủ"

Roman numerals are read only after a heading word (Quý, Phần, Chương, Mục, Khóa, Đợt, Tập, Kỳ)
or at the start of a line followed by "." or ")", so ordinary words are never touched.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from controller.text.abbreviations import spell
from controller.text.numbers import read_number, roman_to_int

_SYMBOL_PART = r"[A-ZĐ][A-Za-zĐđ0-9&]*"
DOCUMENT_NUMBER = re.compile(
    rf"(?<![\w/.,])(?P<number>\d+)(?:/(?P<year>\d{{4}}))?/(?P<symbol>{_SYMBOL_PART}(?:-{_SYMBOL_PART})*)(?![\w/])"
)
_PART_WITH_NUMBER = re.compile(r"(?P<letters>.*?[^\d])(?P<number>\d+)")

_HEADING_WORDS = r"(?i:quý|phần|chương|mục|khóa|khoá|đợt|tập|kỳ)"
QUARTER_YEAR = re.compile(r"(?P<word>(?i:quý))\s+(?P<quarter>[1-4]|IV|I{1,3})\s*/\s*(?P<year>\d{4})(?![\w/])")
ROMAN_AFTER_WORD = re.compile(rf"(?<!\w)(?P<word>{_HEADING_WORDS})\s+(?P<roman>[IVXLC]+)(?![\w])")
ROMAN_HEADING = re.compile(r"^(?P<roman>[IVXLC]+)(?P<mark>[.)])(?=\s)", re.MULTILINE)


def _symbol_part(part: str, table: Mapping[str, str]) -> str:
    if part in table:
        return table[part]
    match = _PART_WITH_NUMBER.fullmatch(part)
    if match:
        letters = match.group("letters")
        joiner = " khóa " if letters == "QH" else " "
        return _symbol_part(letters, table) + joiner + read_number(int(match.group("number")))
    return spell(part)


def read_document_number(number: str, year: str | None, symbol: str, table: Mapping[str, str]) -> str:
    """Read "1369", None, "QĐ-UBND" as the module docstring describes."""
    words = [read_number(int(number))]
    if year:
        words.append(f"năm {read_number(int(year))}")
    words.append("trên")
    words.extend(_symbol_part(part, table) for part in symbol.split("-"))
    return " ".join(words)


def read_document_numbers(text: str, table: Mapping[str, str]) -> str:
    """Replace every document number ("1369/QĐ-UBND", "24/2018/QH14") by its reading."""
    return DOCUMENT_NUMBER.sub(
        lambda m: read_document_number(m.group("number"), m.group("year"), m.group("symbol"), table), text
    )


def _quarter_year(match: re.Match[str]) -> str:
    quarter = match.group("quarter")
    value = int(quarter) if quarter.isdigit() else roman_to_int(quarter)
    return f"{match.group('word')} {read_number(value or 0)} năm {read_number(int(match.group('year')))}"


def _roman_after_word(match: re.Match[str]) -> str:
    value = roman_to_int(match.group("roman"))
    if value is None:
        return match.group(0)
    return f"{match.group('word')} {read_number(value)}"


def _roman_heading(match: re.Match[str]) -> str:
    value = roman_to_int(match.group("roman"))
    if value is None:
        return match.group(0)
    return read_number(value) + match.group("mark")


def read_roman_numerals(text: str) -> str:
    """Read "Quý I/2026", "Chương III", "khóa XV" and "II. Nội dung" headings."""
    text = QUARTER_YEAR.sub(_quarter_year, text)
    text = ROMAN_AFTER_WORD.sub(_roman_after_word, text)
    return ROMAN_HEADING.sub(_roman_heading, text)
