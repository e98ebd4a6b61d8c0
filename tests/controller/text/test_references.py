"""Letters of legal points, numbers written twice, form codes and paired forms of address."""

from __future__ import annotations

import pytest

from controller.text import normalize


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        pytest.param("tại điểm c và d khoản 1", "tại điểm xê và dê khoản một", id="two-letters"),
        pytest.param("các điểm a, b và c khoản 3", "các điểm a, bê và xê khoản ba", id="letter-list"),
        pytest.param("điểm b và điểm c khoản này", "điểm bê và điểm xê khoản này", id="repeated-diem"),
        pytest.param("điểm đ khoản 6", "điểm đê khoản sáu", id="d-bar"),
        pytest.param("điểm g hoặc h", "điểm giê hoặc hát", id="hoac"),
        pytest.param("Điểm a khoản 2", "Điểm a khoản hai", id="capital-diem"),
        pytest.param("tiết e", "tiết e", id="tiet"),
        pytest.param("điểm danh lúc 7h", "điểm danh lúc bảy giờ", id="not-a-letter"),
        pytest.param("trong 10 (mười) ngày", "trong mười ngày", id="bracket-words"),
        pytest.param("từ 05 (năm) ngày", "từ năm ngày", id="leading-zero"),
        pytest.param("25 (hai mươi lăm) cháu", "hai mươi lăm cháu", id="compound"),
        pytest.param("2.000.000 đồng (hai triệu đồng)", "hai triệu đồng", id="money-words"),
        pytest.param("1.000.000 đồng (Một triệu đồng chẵn)", "một triệu đồng", id="chan-and-capital"),
        pytest.param("21 (hai mươi mốt) ngày", "hai mươi mốt ngày", id="mot"),
        pytest.param("15 (mười năm) ngày", "mười lăm ngày", id="regional-lam"),
        pytest.param("10 (mười hai) ngày", "mười (mười hai) ngày", id="different-words-kept"),
        pytest.param("tờ khai (mẫu CT01)", "tờ khai (mẫu xê tê không một)", id="form-code"),
        pytest.param("Mẫu số TK1 kèm theo", "Mẫu số tê ca một kèm theo", id="form-code-so"),
        pytest.param("Đề nghị ông/bà mang theo", "Đề nghị ông bà mang theo", id="ong-ba"),
        pytest.param("Anh/chị liên hệ", "Anh chị liên hệ", id="anh-chi"),
        pytest.param("cha/mẹ học sinh", "cha mẹ học sinh", id="cha-me"),
    ],
)
def test_references_are_read(text: str, spoken: str) -> None:
    assert normalize(text) == spoken
