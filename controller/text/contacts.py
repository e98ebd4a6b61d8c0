"""Phone numbers, e-mail and web addresses, read so that a listener can write them down.

Phone numbers are read digit by digit, one comma (a pause) between the groups the officer typed;
an unbroken mobile number is grouped 4-3-3 (4-3-4 for eleven digits). Emergency hotlines
(113, 114, 115...) are read digit by digit when a word like "gọi" or "đường dây nóng" precedes them.

Addresses drop "http://" or "https://"; "@" is "a còng", "." is "chấm", "-" is "gạch ngang",
"_" is "gạch dưới", "/" is "gạch chéo". A few well-known words ("dichvucong", "gmail", "com")
are read as words; every other run of letters is spelled with Vietnamese letter names
("gov" → "giê o vê", "vn" → "vê en") and digits are read one by one.
"""

from __future__ import annotations

import re

from controller.text.abbreviations import spell
from controller.text.numbers import read_digits

WEB_WORDS = {
    "dichvucong": "dịch vụ công",
    "chinhphu": "chính phủ",
    "baochinhphu": "báo chính phủ",
    "vanban": "văn bản",
    "phapluat": "pháp luật",
    "thuvienphapluat": "thư viện pháp luật",
    "congan": "công an",
    "gmail": "gờ meo",
    "com": "com",
    "www": "vê kép vê kép vê kép",
}
"""Address parts read as words rather than spelled."""

_SYMBOLS = {
    ".": "chấm",
    "@": "a còng",
    "-": "gạch ngang",
    "_": "gạch dưới",
    "/": "gạch chéo",
    ":": "hai chấm",
    "?": "chấm hỏi",
    "=": "bằng",
    "&": "và",
}

_TRAILING = ".,;:!?)»\"'"

EMAIL = re.compile(r"(?<![\w.@])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
URL = re.compile(
    r"(?<![\w.@/])(?:(?:https?://|www\.)\S+"
    r"|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:vn|com|net|org|gov|edu|info)(?![\w-])(?:/\S*)?)",
    re.IGNORECASE,
)

_SEP = r"[ .-]?"
PHONE = re.compile(rf"(?<![\w.,/+])(?:\+84{_SEP}|0)\d{{2,3}}(?:{_SEP}\d{{3,4}}){{2}}(?![\w/]|[.,]\d)")
SERVICE_NUMBER = re.compile(rf"(?<![\w.,/])1[89]00(?:{_SEP}\d{{2,4}}){{1,2}}(?![\w/]|[.,]\d)")
_HOTLINE = r"11[1-9]"
HOTLINE = re.compile(
    r"(?P<lead>(?i:gọi|tổng đài|đường dây nóng|hotline|điện thoại|cấp cứu|báo cháy|SĐT|ĐT)"
    r"(?:\s+(?i:ngay|số|đến|tới|cho|khẩn cấp))*\s*:?\s*\(?)"
    rf"(?P<numbers>{_HOTLINE}(?:\s*(?:,|và|hoặc)\s*{_HOTLINE})*)(?![\w/]|[.,]\d)"
)


def speak_address(address: str) -> str:
    """Read an e-mail or web address: "ubnd@xa.gov.vn" → "u bê en dê a còng ích a chấm giê o vê chấm vê en"."""
    address = re.sub(r"^https?://", "", address, flags=re.IGNORECASE).rstrip("/")
    words = []
    for part in re.findall(r"[A-Za-z]+|\d+|.", address):
        if part.isascii() and part.isdigit():
            words.append(read_digits(part))
        elif part.isalpha():
            words.append(WEB_WORDS.get(part.lower()) or spell(part))
        elif part in _SYMBOLS:
            words.append(_SYMBOLS[part])
    return " ".join(words)


def _address(match: re.Match[str]) -> str:
    text = match.group(0)
    stripped = text.rstrip(_TRAILING)
    return speak_address(stripped) + text[len(stripped) :]


def _groups(digits: str) -> list[str]:
    """Default grouping of a phone number typed without separators."""
    if digits.startswith("1"):
        return [digits[:4], digits[4:]]
    return [digits[:4], digits[4:7], digits[7:]]


def speak_phone(number: str) -> str:
    """Read a phone number digit by digit with a comma between groups: "0912 345 678" → "không chín một hai, ..."."""
    prefix = ""
    if number.startswith("+84"):
        prefix = "cộng tám bốn, "
        number = number[3:].lstrip(" .-")
    groups = re.split(r"[ .-]", number)
    if len(groups) == 1 and not prefix:
        groups = _groups(number)
    return prefix + ", ".join(read_digits(g) for g in groups if g)


def _phone(match: re.Match[str]) -> str:
    number = match.group(0)
    digits = re.sub(r"\D", "", number)
    if number.startswith("+84"):
        if len(digits) not in (11, 12):
            return number
    elif len(digits) not in (10, 11):
        return number
    return speak_phone(number)


def _service_number(match: re.Match[str]) -> str:
    number = match.group(0)
    if len(re.sub(r"\D", "", number)) not in (8, 10):
        return number
    return speak_phone(number)


def _hotline(match: re.Match[str]) -> str:
    numbers = re.sub(r"11[1-9]", lambda m: read_digits(m.group(0)), match.group("numbers"))
    return match.group("lead") + numbers


def read_contacts(text: str) -> str:
    """Apply the e-mail, web address and phone rules, in that order."""
    text = EMAIL.sub(_address, text)
    text = URL.sub(_address, text)
    text = PHONE.sub(_phone, text)
    text = SERVICE_NUMBER.sub(_service_number, text)
    return HOTLINE.sub(_hotline, text)
