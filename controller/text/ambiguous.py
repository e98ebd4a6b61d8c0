"""Abbreviations with more than one reading, resolved by the words around them.

"CT" is "Chủ tịch" in "CT UBND xã" and "chỉ thị" elsewhere; "TT" is "Thường trực" before
"HĐND" and "Trung tâm" before "Y tế". Each reading lists the words that select it when they
appear among the few words before or after the abbreviation. When none does, the abbreviation is
spelled letter by letter and `unresolved_abbreviations` names it, so `loa bulletin check` and the
editor can ask the officer to write the words out or pin a reading. A commune's own abbreviation
file takes precedence: a key it defines is never treated as ambiguous.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from controller.text.abbreviations import SENTENCE_START, spell


@dataclass(frozen=True)
class Reading:
    """One reading of an ambiguous abbreviation and the neighbouring words that select it."""

    words: str
    before: frozenset[str] = frozenset()
    after: frozenset[str] = frozenset()


def _r(words: str, before: str = "", after: str = "") -> Reading:
    return Reading(words, frozenset(before.split()), frozenset(after.split()))


_BODIES = "UBND HĐND UBMTTQ UBMTTQVN MTTQ xã huyện tỉnh phường thị thành nước Hội Ủy"
AMBIGUOUS: dict[str, tuple[Reading, ...]] = {
    "CT": (_r("Chủ tịch", before="Đ/c đ/c ông bà", after=_BODIES),),
    "TT": (
        _r("Thường trực", after="Tỉnh Huyện Thành Đảng HĐND UBMTTQ MTTQ Hội"),
        _r("Trung tâm", after="Y Văn Dịch Phát Giáo Chính Hành Khuyến Kiểm"),
        _r("thị trấn", before="xã Xã phường"),
        _r("thông tư", before="Căn căn Theo theo tại các Các", after="hướng số liên này quy"),
    ),
    "KT": (
        _r("Ký thay", after="CHỦ GIÁM BỘ CHÁNH TRƯỞNG BÍ"),
        _r("Kinh tế", before="Lưu Phòng phòng"),
    ),
    "TC": (_r("Tài chính", before="Sở Phòng phòng Bộ"),),
    "TH": (_r("tiểu học", before="trường Trường"),),
    "HS": (
        _r("học sinh", before="trường giáo cho", after="trường lớp tiểu BHYT"),
        _r("hồ sơ", before="nộp tiếp trả", after="đăng thủ"),
    ),
    "BCH": (
        _r("Ban Chỉ huy", after="PCTT PCTT&TKCN PCTT TKCN Quân quân QS phòng Phòng"),
        _r("Ban Chấp hành", after="Đảng đảng Đoàn đoàn Hội hội Công Trung TW Chi"),
    ),
    "TL": (_r("Thừa lệnh", after="CHỦ GIÁM BỘ CHÁNH TRƯỞNG"),),
    "TM": (_r("Thay mặt", after="ỦY UBND BAN HỘI ĐOÀN"),),
}
"""Readings of each ambiguous abbreviation; the first whose context words are near wins."""

_SIGNATURES = frozenset({"Ký thay", "Thừa lệnh", "Thay mặt"})
_WINDOW_BEFORE = 3
_WINDOW_AFTER = 4
_TOKEN = re.compile(rf"(?<![\w&/-])(?P<key>{'|'.join(AMBIGUOUS)})(?P<dot>\.)?(?![\w&/-])")
_WORD = re.compile(r"[\wĐđ]+")


def _choose(key: str, before: list[str], after: list[str]) -> str | None:
    for reading in AMBIGUOUS[key]:
        if reading.before.intersection(before) or reading.after.intersection(after):
            return reading.words
    return None


_SENTENCE_END = re.compile(r"[.!?\n](?:\s|$)")


def _neighbours(text: str, start: int, end: int) -> tuple[list[str], list[str]]:
    """The words just before and after, within the same sentence."""
    ends_before = list(_SENTENCE_END.finditer(text, 0, start))
    sentence_start = ends_before[-1].end() if ends_before else 0
    next_end = _SENTENCE_END.search(text, end)
    sentence_end = next_end.start() if next_end else len(text)
    before = _WORD.findall(text[sentence_start:start])[-_WINDOW_BEFORE:]
    after = _WORD.findall(text[end:sentence_end])[:_WINDOW_AFTER]
    return before, after


def read_ambiguous(text: str, *, known: Collection[str] = ()) -> str:
    """Replace each ambiguous abbreviation by the reading its neighbours select, or spell it out."""

    def reading(m: re.Match[str]) -> str:
        key = m.group("key")
        if key in known:
            return m.group(0)
        before, after = _neighbours(m.string, m.start(), m.end())
        words = _choose(key, before, after)
        if words is None:
            words, dot = spell(key), m.group("dot") or ""
        else:
            dot = "" if words in _SIGNATURES else m.group("dot") or ""
        if m.start() == 0 or SENTENCE_START.search(m.string, 0, m.start()):
            words = words[:1].upper() + words[1:]
        # "KT. CHỦ TỊCH": the dot marks the abbreviation; elsewhere it ends the sentence.
        return words + dot

    return _TOKEN.sub(reading, text)


def unresolved_abbreviations(text: str, *, known: Collection[str] = ()) -> list[str]:
    """Ambiguous abbreviations in `text` that no context word resolves, in order, each once."""
    found: list[str] = []
    for m in _TOKEN.finditer(text):
        key = m.group("key")
        if key in known or key in found:
            continue
        before, after = _neighbours(text, m.start(), m.end())
        if _choose(key, before, after) is None:
            found.append(key)
    return found
