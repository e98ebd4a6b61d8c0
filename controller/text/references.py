"""Legal references and numbers written twice.

Letters that name a point of a clause are read by their Vietnamese names, so that a lone "c" or
"d" is not swallowed: "điểm c và d khoản 1" → "điểm xê và dê khoản một", "các điểm a, b và c" →
"các điểm a, bê và xê", "điểm đ" → "điểm đê". A form's code is spelled: "mẫu CT01" → "mẫu xê tê
không một". Paired forms of address drop the slash, as g2p-hamster's front end does: "ông/bà" →
"ông bà", "cha/mẹ" → "cha mẹ".

A number followed by its own words in brackets, as contracts and fines write it, is read once:
"10 (mười) ngày" → "mười ngày", "2.000.000 đồng (hai triệu đồng)" → "hai triệu đồng". Words that
do not say the same number (a typo, or a different amount) are kept, so the listener hears both.
"""

from __future__ import annotations

import re

from controller.text.abbreviations import LETTER_NAMES, spell
from controller.text.numbers import read_number

_LETTER = r"[a-zđ]"
_JOIN = r"(?:\s*,\s*|\s+(?:và|hoặc)\s+)(?:(?i:điểm)\s+)?"
POINT_LETTERS = re.compile(rf"(?<!\w)(?P<word>(?i:điểm|tiết))\s+(?P<letters>{_LETTER}(?:{_JOIN}{_LETTER})*)(?!\w)")
_AMOUNT = r"\d{1,3}(?:\.\d{3})+|\d+"
NUMBER_IN_WORDS = re.compile(
    rf"(?<![\w.,])(?P<number>{_AMOUNT})(?P<unit>\s?(?:đồng|đ|VNĐ|VND))?\s*\((?P<words>[^()\d]{{2,}})\)"
)
_ADDRESS_WORDS = r"(?:anh|chị|em|ông|bà|cô|chú|bác|cháu|bạn|cha|mẹ|con)"
PAIRED_ADDRESS = re.compile(rf"(?<!\w)(?P<a>(?i:{_ADDRESS_WORDS}))/(?P<b>(?i:{_ADDRESS_WORDS}))(?!\w)")
FORM_CODE = re.compile(r"(?<!\w)(?P<word>(?i:mẫu)(?:\s+số)?)\s+(?P<code>[A-Z]{1,4}\d{1,3}[a-z]?)(?![\w/])")
_SAME_WORDS = {"ngàn": "nghìn", "lẻ": "linh", "mươi một": "mươi mốt", "mười năm": "mười lăm"}


def _point_letters(m: re.Match[str]) -> str:
    letters = re.sub(rf"(?<!\w){_LETTER}(?!\w)", lambda letter: LETTER_NAMES[letter.group(0)], m.group("letters"))
    return f"{m.group('word')} {letters}"


def _words_say(words: str, number: int) -> bool:
    """Whether the bracketed words say `number` (ignoring case, "chẵn", "đồng" and regional variants)."""
    said = " ".join(words.lower().replace(",", " ").split())
    said = re.sub(r"\b(?:chẵn|đồng|việt nam)\b", " ", said)
    said = " ".join(said.split())
    for variant, standard in _SAME_WORDS.items():
        said = said.replace(variant, standard)
    return said == read_number(number)


def _number_in_words(m: re.Match[str]) -> str:
    number = int(m.group("number").replace(".", ""))
    if not _words_say(m.group("words"), number):
        return m.group(0)
    return m.group("number") + (m.group("unit") or "")


def read_references(text: str) -> str:
    """Drop the bracketed words that repeat a number, and name the letters of points of a clause."""
    text = NUMBER_IN_WORDS.sub(_number_in_words, text)
    text = PAIRED_ADDRESS.sub(lambda m: f"{m.group('a')} {m.group('b')}", text)
    text = FORM_CODE.sub(lambda m: f"{m.group('word')} {spell(m.group('code'))}", text)
    return POINT_LETTERS.sub(_point_letters, text)
