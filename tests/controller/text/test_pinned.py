"""Pinned readings replace the normaliser's reading of a span; rewrites pair each changed span with its reading."""

from __future__ import annotations

import pytest

from controller.text import normalize
from controller.text.pinned import normalize_pinned, rewrites


@pytest.mark.parametrize(
    ("text", "pins", "spoken"),
    [
        pytest.param("Phân luồng trên QL1A.", [("QL1A", "quốc lộ một a")], "Phân luồng trên quốc lộ một a.", id="one"),
        pytest.param(
            "Trạm Y tế xã ĐL mở cửa từ 7h; ĐL.",
            [("ĐL", "Điện Lộc")],
            "Trạm Y tế xã Điện Lộc mở cửa từ bảy giờ; Điện Lộc.",
            id="every-occurrence",
        ),
        pytest.param(
            "Kế hoạch 54/KH-UBND của UBND xã.",
            [("UBND xã", "chính quyền xã"), ("UBND", "ủy ban")],
            "Kế hoạch năm mươi tư của chính quyền xã.",
            id="longer-span-first",
        ),
        pytest.param("Điện lực ĐLHT và ĐL.", [("ĐL", "Điện Lộc")], "Điện lực ĐLHT và Điện Lộc.", id="whole-words"),
        pytest.param("Không có gì.", [("QL1A", "quốc lộ một")], "Không có gì.", id="absent-span"),
    ],
)
def test_pinned_spans_are_read_as_pinned(text: str, pins: list[tuple[str, str]], spoken: str) -> None:
    assert normalize_pinned(text, pins) == spoken


def test_without_pins_it_is_the_normaliser() -> None:
    text = "Ngày 27.9 từ 11-14h cắt điện trên QL1A."
    assert normalize_pinned(text, []) == normalize(text)


def test_rewrites_pair_each_changed_span_with_its_reading() -> None:
    text = "Phân luồng trên QL1A đoạn Km 5+200 từ 11-14h ngày 27.9 theo Kế hoạch số 54/KH-UBND của UBND xã."
    assert rewrites(text, normalize(text)) == [
        ("QL1A", "quốc lộ một A"),
        ("Km 5+200", "ki-lô-mét năm cộng hai trăm"),
        ("11-14h", "mười một đến mười bốn giờ"),
        ("27.9", "hai mươi bảy tháng chín"),
        ("54/KH-UBND", "năm mươi tư"),
        ("UBND", "Ủy ban nhân dân"),
    ]
    assert rewrites("Bà con chú ý.", "Bà con chú ý.") == []
