"""Phone numbers, e-mail and web addresses, read so that a listener can write them down.

Phone numbers are read digit by digit, one comma (a pause) between the groups the officer typed;
an unbroken mobile number is grouped 4-3-3 (4-3-4 for eleven digits). Emergency hotlines
(113, 114, 115...) are read digit by digit when a word like "gọi" or "đường dây nóng" precedes them.

Short service numbers (113, 114, 115, 1022...) are read digit by digit after "gọi", "tổng đài",
"đường dây nóng", "qua số" and the like: "tổng đài 1022" is "một không hai hai", not a quantity.

Addresses drop "http://" or "https://"; "@" is "a còng", "." is "chấm", "-" is "gạch ngang",
"_" is "gạch dưới", "/" is "gạch chéo". A label written as Vietnamese words without tones
("dichvucong", "baohiemxahoi", "thuedientu") is read as those words when it splits entirely into
entries of `WEB_WORDS`; every other run of letters is spelled with Vietnamese letter names
("gov" → "giê o vê", "vn" → "vê en") and digits are read one by one.
"""

from __future__ import annotations

import re

from controller.text.abbreviations import spell
from controller.text.numbers import read_digits

WEB_WORDS = {
    "dichvucong": "dịch vụ công",
    "dichvu": "dịch vụ",
    "chinhphu": "chính phủ",
    "baochinhphu": "báo chính phủ",
    "vanban": "văn bản",
    "phapluat": "pháp luật",
    "thuvien": "thư viện",
    "congan": "công an",
    "bocongan": "bộ công an",
    "baohiem": "bảo hiểm",
    "xahoi": "xã hội",
    "thue": "thuế",
    "dientu": "điện tử",
    "canhan": "cá nhân",
    "canhbao": "cảnh báo",
    "khonggian": "không gian",
    "mang": "mạng",
    "mattran": "mặt trận",
    "tiemchung": "tiêm chủng",
    "tuyensinh": "tuyển sinh",
    "tracuu": "tra cứu",
    "hoso": "hồ sơ",
    "tiepnhan": "tiếp nhận",
    "dulieu": "dữ liệu",
    "dancu": "dân cư",
    "nongnghiep": "nông nghiệp",
    "thoitiet": "thời tiết",
    "thientai": "thiên tai",
    "phongchong": "phòng chống",
    "giaothong": "giao thông",
    "cong": "công",
    "an": "an",
    "thongtin": "thông tin",
    "tintuc": "tin tức",
    "hue": "huế",
    "thuathienhue": "thừa thiên huế",
    "quangtri": "quảng trị",
    "quangnam": "quảng nam",
    "quangbinh": "quảng bình",
    "hatinh": "hà tĩnh",
    "nghean": "nghệ an",
    "hanoi": "hà nội",
    "danang": "đà nẵng",
    "quangngai": "quảng ngãi",
    "binhdinh": "bình định",
    "phuyen": "phú yên",
    "khanhhoa": "khánh hòa",
    "kontum": "kon tum",
    "gialai": "gia lai",
    "daklak": "đắk lắk",
    "lamdong": "lâm đồng",
    "ninhthuan": "ninh thuận",
    "binhthuan": "bình thuận",
    "thanhhoa": "thanh hóa",
    "haiphong": "hải phòng",
    "cantho": "cần thơ",
    "hochiminhcity": "hồ chí minh city",
    "namdinh": "nam định",
    "thaibinh": "thái bình",
    "ninhbinh": "ninh bình",
    "hanam": "hà nam",
    "haiduong": "hải dương",
    "hungyen": "hưng yên",
    "bacninh": "bắc ninh",
    "bacgiang": "bắc giang",
    "langson": "lạng sơn",
    "caobang": "cao bằng",
    "laocai": "lào cai",
    "yenbai": "yên bái",
    "sonla": "sơn la",
    "dienbien": "điện biên",
    "laichau": "lai châu",
    "hoabinh": "hòa bình",
    "phutho": "phú thọ",
    "vinhphuc": "vĩnh phúc",
    "thainguyen": "thái nguyên",
    "tuyenquang": "tuyên quang",
    "hagiang": "hà giang",
    "backan": "bắc kạn",
    "quangninh": "quảng ninh",
    "dongnai": "đồng nai",
    "binhduong": "bình dương",
    "binhphuoc": "bình phước",
    "tayninh": "tây ninh",
    "longan": "long an",
    "tiengiang": "tiền giang",
    "bentre": "bến tre",
    "travinh": "trà vinh",
    "vinhlong": "vĩnh long",
    "dongthap": "đồng tháp",
    "angiang": "an giang",
    "kiengiang": "kiên giang",
    "haugiang": "hậu giang",
    "soctrang": "sóc trăng",
    "baclieu": "bạc liêu",
    "camau": "cà mau",
    "daknong": "đắk nông",
    "bariavungtau": "bà rịa vũng tàu",
    "gmail": "gờ meo",
    "com": "com",
    "www": "vê kép vê kép vê kép",
}
"""Address parts read as words rather than spelled; a label may be several of them ("dichvucong")."""

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
_HOTLINE = r"1\d{2,3}"
HOTLINE = re.compile(
    r"(?P<lead>(?i:gọi|tổng đài|đường dây nóng|hotline|điện thoại|cấp cứu|báo cháy|qua số|đầu số|SĐT|ĐT)"
    r"(?:\s+(?i:ngay|số|đến|tới|cho|khẩn cấp))*\s*:?\s*\(?)"
    rf"(?P<numbers>{_HOTLINE}(?:\s*(?:,|và|hoặc)\s*{_HOTLINE})*)(?![\w/]|[.,]\d)"
)


def _label(label: str) -> str:
    """Read an address label as words when it splits entirely into `WEB_WORDS`, else spell it."""
    lowered = label.lower()
    # best[i]: the words for lowered[:i], preferring the split with fewest pieces.
    best: list[list[str] | None] = [[]] + [None] * len(lowered)
    for end in range(1, len(lowered) + 1):
        for start in range(end):
            head = best[start]
            piece = WEB_WORDS.get(lowered[start:end])
            if head is not None and piece and (best[end] is None or len(head) + 1 < len(best[end] or ())):
                best[end] = [*head, piece]
    return " ".join(best[-1]) if best[-1] else spell(label)


def speak_address(address: str) -> str:
    """Read an e-mail or web address: "ubnd@xa.gov.vn" → "u bê en dê a còng ích a chấm giê o vê chấm vê en"."""
    address = re.sub(r"^https?://", "", address, flags=re.IGNORECASE).rstrip("/")
    words = []
    for part in re.findall(r"[A-Za-z]+|\d+|.", address):
        if part.isascii() and part.isdigit():
            words.append(read_digits(part))
        elif part.isalpha():
            words.append(_label(part))
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
    numbers = re.sub(r"\d+", lambda m: read_digits(m.group(0)), match.group("numbers"))
    return match.group("lead") + numbers


def read_contacts(text: str) -> str:
    """Apply the e-mail, web address and phone rules, in that order."""
    text = EMAIL.sub(_address, text)
    text = URL.sub(_address, text)
    text = PHONE.sub(_phone, text)
    text = SERVICE_NUMBER.sub(_service_number, text)
    return HOTLINE.sub(_hotline, text)
