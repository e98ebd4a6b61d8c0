"""Document numbers, Roman numerals and headings.

An announcer reads a document number as its number, its year and its issuer, never the slash
and never the kind of document again (the sentence already said "Quyết định", "Kế hoạch"):

    54/KH-UBND          → "năm mươi tư của Ủy ban nhân dân"
    13/2023/NĐ-CP       → "mười ba năm hai nghìn không trăm hai mươi ba của Chính phủ"
    24/2018/QH14        → "hai mươi tư năm hai nghìn không trăm mười tám của Quốc hội khóa mười bốn"
    45-KH/TĐTN          → "bốn mươi lăm của Thành đoàn" (the Party's "số-loại/cơ quan" order)
    QCVN 2:2021/BKHCN   → "QCVN hai năm hai nghìn không trăm hai mươi mốt của Bộ Khoa học và Công nghệ"

The symbol's parts are split at "-" and "/": parts that name a kind of document (`DOCUMENT_KINDS`)
are dropped, the first remaining part is the issuer, read from the abbreviation table, and the
parts after it (the issuer's department, "UBND-VX") are dropped. An issuer the table does not
know is left out rather than spelled letter by letter. "của <issuer>" is also left out when the
sentence itself goes on with "của ..." (after an optional "ngày <date>"), so it is never said twice.

Roman numerals are read after a heading word (Quý, Phần, Chương, Mục, Khóa, Đợt, Tập, Kỳ), after
words that count levels or rounds (lần thứ, kỳ họp thứ, thế kỷ, khu vực, vùng, loại, nhóm, giai
đoạn, báo động, cấp, Đại hội) and at the start of a line followed by "." or ")". After "thứ" they
are ordinals: "lần thứ I" is "lần thứ nhất", "lần thứ IV" "lần thứ tư".
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from controller.text.numbers import read_number, read_ordinal, roman_to_int

DOCUMENT_KINDS = frozenset(
    {
        "QĐ", "KH", "NĐ", "NQ", "TT", "TTLT", "CT", "TB", "CV", "BC", "HD", "CĐ", "TTr", "GM", "KL", "QC",
        "QyĐ", "BB", "HĐ", "PA", "ĐA", "CTr", "TC", "DS",
    }
)  # fmt: skip
"""Symbol parts that name the kind of document; the sentence already says it, so they are not read."""

_SYMBOL_PART = r"[A-ZĐ][A-Za-zĐđ0-9&]*"
_SYMBOL = rf"{_SYMBOL_PART}(?:-{_SYMBOL_PART})*"
DOCUMENT_NUMBER = re.compile(
    rf"(?<![\w/.,])(?P<number>\d+)(?:/(?P<year>\d{{4}}))?/(?P<symbol>{_SYMBOL})(?![\w/])"
    rf"|(?<![\w/.,-])(?P<pnumber>\d+)-(?P<pkind>{_SYMBOL_PART})/(?P<psymbol>{_SYMBOL})(?![\w/])"
)
STANDARD = re.compile(
    r"(?<![\w/])(?P<kind>QCVN|TCVN)\s*(?P<number>\d+(?:-\d+)?)\s*:\s*(?P<year>\d{4})"
    rf"(?:/(?P<issuer>{_SYMBOL_PART}))?(?![\w/])"
)
_PART_WITH_NUMBER = re.compile(r"(?P<letters>.*?[^\d])(?P<number>\d+)")
_OWNER_FOLLOWS = re.compile(r"\s*,?\s*(?:(?i:ngày)\s+\S+\s+)?của(?!\w)")

_HEADING_WORDS = r"(?i:quý|phần|chương|mục|khóa|khoá|đợt|tập|kỳ)"
_LEVEL_WORDS = r"(?i:thế kỷ|thế kỉ|khu vực|vùng|loại|nhóm|giai đoạn|báo động|cấp|cấp độ|đại hội|mức|phân khu|nhiệm kỳ)"
_ROMAN = r"[IVX]+"
QUARTER_YEAR = re.compile(r"(?P<word>(?i:quý))\s+(?P<quarter>[1-4]|IV|I{1,3})\s*/\s*(?P<year>\d{4})(?![\w/])")
ROMAN_AFTER_WORD = re.compile(rf"(?<!\w)(?P<word>{_HEADING_WORDS})\s+(?P<roman>[IVXLC]+)(?![\w])")
ROMAN_ORDINAL = re.compile(rf"(?<!\w)(?P<word>(?i:thứ))\s+(?P<roman>{_ROMAN})(?![\w])")
ROMAN_LEVELS = re.compile(
    rf"(?<!\w)(?P<word>{_LEVEL_WORDS})\s+(?P<list>{_ROMAN}(?:(?:\s*,\s*|\s+(?:và|hoặc|đến)\s+)"
    rf"(?:{_LEVEL_WORDS}\s+)?{_ROMAN})*)(?![\w])"
)
ROMAN_HEADING = re.compile(r"^(?P<roman>[IVXLC]+)(?P<mark>[.)])(?=\s)", re.MULTILINE)


def _numbered_part(part: str, table: Mapping[str, str]) -> str | None:
    """Read "QH14" as "Quốc hội khóa mười bốn" and "BCĐ389" as "Ban Chỉ đạo ba trăm tám mươi chín"."""
    match = _PART_WITH_NUMBER.fullmatch(part)
    if not match or match.group("letters") not in table:
        return None
    letters = match.group("letters")
    joiner = " khóa " if letters == "QH" else " "
    return table[letters] + joiner + read_number(int(match.group("number")))


def issuer(parts: list[str], table: Mapping[str, str]) -> str | None:
    """The issuing body among a symbol's parts, or None when the table does not know it."""
    for part in parts:
        if part in DOCUMENT_KINDS:
            continue
        return table.get(part) or _numbered_part(part, table)
    return None


def read_document_number(number: str, year: str | None, symbol: str, table: Mapping[str, str]) -> str:
    """Read "54", None, "KH-UBND" as "năm mươi tư của Ủy ban nhân dân"."""
    words = [read_number(int(number))]
    if year:
        words.append(f"năm {read_number(int(year))}")
    body = issuer(re.split(r"[-/]", symbol), table)
    if body:
        words.append(f"của {body}")
    return " ".join(words)


def _document_number(m: re.Match[str], table: Mapping[str, str]) -> str:
    if m.group("number") is not None:
        number, year, symbol = m.group("number"), m.group("year"), m.group("symbol")
    else:
        number, year, symbol = m.group("pnumber"), None, f"{m.group('pkind')}-{m.group('psymbol')}"
    if _OWNER_FOLLOWS.match(m.string, m.end()):
        symbol = ""
    return read_document_number(number, year, symbol, table)


def _standard(m: re.Match[str], table: Mapping[str, str]) -> str:
    """Read "QCVN 2:2021/BKHCN" as "QCVN hai năm hai nghìn không trăm hai mươi mốt của Bộ Khoa học và Công nghệ"."""
    number = " ".join(read_number(int(n)) for n in m.group("number").split("-"))
    words = f"{m.group('kind')} {number} năm {read_number(int(m.group('year')))}"
    body = issuer([m.group("issuer")], table) if m.group("issuer") else None
    return f"{words} của {body}" if body else words


def read_document_numbers(text: str, table: Mapping[str, str]) -> str:
    """Replace every document number ("1369/QĐ-UBND", "24/2018/QH14", "12-HD/TU") by its reading."""
    text = STANDARD.sub(lambda m: _standard(m, table), text)
    return DOCUMENT_NUMBER.sub(lambda m: _document_number(m, table), text)


def _quarter_year(match: re.Match[str]) -> str:
    quarter = match.group("quarter")
    value = int(quarter) if quarter.isdigit() else roman_to_int(quarter)
    return f"{match.group('word')} {read_number(value or 0)} năm {read_number(int(match.group('year')))}"


def _roman_after_word(match: re.Match[str]) -> str:
    value = roman_to_int(match.group("roman"))
    if value is None:
        return match.group(0)
    return f"{match.group('word')} {read_number(value)}"


def _roman_ordinal(match: re.Match[str]) -> str:
    value = roman_to_int(match.group("roman"))
    if value is None:
        return match.group(0)
    return f"{match.group('word')} {read_ordinal(value)}"


def _roman_levels(match: re.Match[str]) -> str:
    """Read every numeral of "loại I, II, III" or "vùng II, vùng III và vùng IV"."""
    numerals = re.findall(rf"(?<!\w){_ROMAN}(?!\w)", match.group("list"))
    if any(roman_to_int(n) is None for n in numerals):
        return match.group(0)
    spoken = re.sub(
        rf"(?<!\w){_ROMAN}(?!\w)", lambda n: read_number(roman_to_int(n.group(0)) or 0), match.group("list")
    )
    return f"{match.group('word')} {spoken}"


def _roman_heading(match: re.Match[str]) -> str:
    value = roman_to_int(match.group("roman"))
    if value is None:
        return match.group(0)
    return read_number(value) + match.group("mark")


def read_roman_numerals(text: str) -> str:
    """Read "Quý I/2026", "Chương III", "khóa XV", "lần thứ XIV", "thế kỷ XXI" and "II. Nội dung" headings."""
    text = QUARTER_YEAR.sub(_quarter_year, text)
    text = ROMAN_AFTER_WORD.sub(_roman_after_word, text)
    text = ROMAN_ORDINAL.sub(_roman_ordinal, text)
    text = ROMAN_LEVELS.sub(_roman_levels, text)
    return ROMAN_HEADING.sub(_roman_heading, text)
