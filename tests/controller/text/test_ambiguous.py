"""Ambiguous abbreviations: read by the words around them, or spelled and reported to the officer."""

from __future__ import annotations

import pytest

from controller.text import normalize
from controller.text.normalize import ambiguities


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        pytest.param("CT UBND xã chủ trì.", "Chủ tịch Ủy ban nhân dân xã chủ trì.", id="ct-chairman"),
        pytest.param("CT và các PCT UBND tỉnh", "Chủ tịch và các Phó Chủ tịch Ủy ban nhân dân tỉnh", id="ct-window"),
        pytest.param("TT HĐND tỉnh (b/c)", "Thường trực Hội đồng nhân dân tỉnh (để báo cáo)", id="tt-standing"),
        pytest.param("TT Y tế huyện", "Trung tâm Y tế huyện", id="tt-centre"),
        pytest.param("các xã và TT trong huyện", "các xã và thị trấn trong huyện", id="tt-town"),
        pytest.param("Căn cứ TT số 5", "Căn cứ thông tư số năm", id="tt-circular"),
        pytest.param("KT. CHỦ TỊCH", "Ký thay CHỦ TỊCH", id="kt-signature"),
        pytest.param("Lưu: VT, KT.", "Lưu: văn thư, Kinh tế.", id="kt-department"),
        pytest.param("các Sở: KH&ĐT, TC", "các Sở: Kế hoạch và Đầu tư, Tài chính", id="tc-finance"),
        pytest.param("trường TH Lộc Thủy", "trường tiểu học Lộc Thủy", id="th-primary"),
        pytest.param("BCH PCTT&TKCN", "Ban Chỉ huy phòng chống thiên tai và tìm kiếm cứu nạn", id="bch-command"),
        pytest.param("BCH Đoàn xã", "Ban Chấp hành Đoàn xã", id="bch-executive"),
        pytest.param("HS tham gia BHYT", "Học sinh tham gia bảo hiểm y tế", id="hs-pupils"),
        pytest.param("nộp HS tại xã", "nộp hồ sơ tại xã", id="hs-file"),
        pytest.param("phát triển KT-XH", "phát triển kinh tế - xã hội", id="compound-not-ambiguous"),
        pytest.param("HS nộp tại xã", "Hát ét nộp tại xã", id="unresolved-spelled"),
    ],
)
def test_ambiguous_abbreviations_are_read_by_context(text: str, spoken: str) -> None:
    assert normalize(text) == spoken


def test_unresolved_ones_are_named_once_in_order() -> None:
    assert ambiguities("HS nộp tại xã. TT đang họp. HS khác. CT UBND xã.") == ["HS", "TT"]
    assert ambiguities("CT UBND xã ký.") == []


def test_a_communes_own_entry_wins_over_the_context() -> None:
    assert normalize("HS nộp tại xã.", abbreviations={"HS": "hồ sơ"}) == "Hồ sơ nộp tại xã."
    assert ambiguities("HS nộp tại xã.", abbreviations={"HS": "hồ sơ"}) == []
