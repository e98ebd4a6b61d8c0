"""Road numbers and kilometre posts."""

from __future__ import annotations

import pytest

from controller.text import normalize


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        pytest.param("trên QL1A", "trên quốc lộ một A", id="ql1a"),
        pytest.param("trên QL.1A", "trên quốc lộ một A", id="ql-dot"),
        pytest.param("trên QL 14", "trên quốc lộ mười bốn", id="ql-space"),
        pytest.param("tuyến QL1 - QL19B", "tuyến quốc lộ một - quốc lộ mười chín B", id="two-roads"),
        pytest.param("trên ĐT.741", "trên đường tỉnh bảy trăm bốn mươi mốt", id="dt"),
        pytest.param("trên TL8B", "trên tỉnh lộ tám B", id="tl"),
        pytest.param("tuyến ĐH.12", "tuyến đường huyện mười hai", id="dh"),
        pytest.param("ĐT: 0912 345 678", "Điện thoại: không chín một hai, ba bốn năm, sáu bảy tám", id="dt-phone"),
        pytest.param("tại Km 791+500", "tại ki-lô-mét bảy trăm chín mươi mốt cộng năm trăm", id="km-post"),
        pytest.param("tại Km15+200", "tại ki-lô-mét mười lăm cộng hai trăm", id="km-no-space"),
        pytest.param(
            "đoạn Km 12+300 - Km 14+700",
            "đoạn ki-lô-mét mười hai cộng ba trăm đến ki-lô-mét mười bốn cộng bảy trăm",
            id="km-range",
        ),
        pytest.param("các tuyến QL", "các tuyến quốc lộ", id="ql-alone"),
    ],
)
def test_roads_are_read(text: str, spoken: str) -> None:
    assert normalize(text) == spoken
