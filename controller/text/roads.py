"""Roads and kilometre posts, as traffic notices write them.

"QL1A" and "QL.1A" read "quốc lộ một A", "ĐT.741" "đường tỉnh bảy trăm bốn mươi mốt",
"TL8B" "tỉnh lộ tám B", "ĐH.12" "đường huyện mười hai"; a letter after the number is kept
as written. "Km 791+500" reads "ki-lô-mét bảy trăm chín mươi mốt cộng năm trăm", and a dash
between two posts reads "đến".
"""

from __future__ import annotations

import re

from controller.text.numbers import read_number

ROAD_KINDS = {"QL": "quốc lộ", "ĐT": "đường tỉnh", "TL": "tỉnh lộ", "ĐH": "đường huyện", "HL": "hương lộ"}
"""Road prefixes and how they are read; "ĐT" without a number is "điện thoại" (abbreviations)."""

ROAD = re.compile(
    rf"(?<![\w&/])(?P<kind>{'|'.join(ROAD_KINDS)})(?:\.\s?|\s)?(?P<number>\d{{1,3}})(?P<letter>[A-Z])?(?![\w/])"
)
ROAD_ALONE = re.compile(r"(?<![\w&/])QL(?![\w&/])")
KM_POST = re.compile(r"(?<!\w)(?P<km>Km|KM|km)\s?(?P<a>\d{1,4})\+(?P<b>\d{1,3})(?!\w)")


def _road(m: re.Match[str]) -> str:
    words = f"{ROAD_KINDS[m.group('kind')]} {read_number(int(m.group('number')))}"
    return f"{words} {m.group('letter')}" if m.group("letter") else words


def _km_post(m: re.Match[str]) -> str:
    return f"ki-lô-mét {read_number(int(m.group('a')))} cộng {read_number(int(m.group('b')))}"


def read_roads(text: str) -> str:
    """Read road numbers and kilometre posts; run before abbreviations so "ĐT.741" is not a phone."""
    text = ROAD.sub(_road, text)
    text = ROAD_ALONE.sub("quốc lộ", text)
    text = KM_POST.sub(_km_post, text)
    return re.sub(r"(?<=\S)\s*[-–]\s*(?=ki-lô-mét [^,;.]*? cộng)", " đến ", text)
