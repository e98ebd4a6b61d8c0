"""Abbreviation expansion and a commune's own abbreviation file."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.errors import InvalidInput
from controller.text import DEFAULT_ABBREVIATIONS, load_abbreviations, normalize


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        pytest.param(
            "UBND xã thông báo đến toàn thể nhân dân.",
            "Ủy ban nhân dân xã thông báo đến toàn thể nhân dân.",
            id="ubnd",
        ),
        pytest.param(
            "Kỳ họp HĐND xã lần thứ 5.",
            "Kỳ họp Hội đồng nhân dân xã lần thứ năm.",
            id="hdnd",
        ),
        pytest.param(
            "Ban Công tác MTTQ thôn phối hợp thực hiện.",
            "Ban Công tác Mặt trận Tổ quốc thôn phối hợp thực hiện.",
            id="mttq",
        ),
        pytest.param(
            "UBMTTQ xã phát động phong trào.",
            "Ủy ban Mặt trận Tổ quốc xã phát động phong trào.",
            id="ubmttq-longest-match",
        ),
        pytest.param(
            "Hưởng ứng Ngày PBGDPL.",
            "Hưởng ứng Ngày phổ biến, giáo dục pháp luật.",
            id="pbgdpl",
        ),
        pytest.param(
            "Vận động người dân tham gia BHXH tự nguyện và BHYT hộ gia đình.",
            "Vận động người dân tham gia bảo hiểm xã hội tự nguyện và bảo hiểm y tế hộ gia đình.",
            id="bhxh-bhyt",
        ),
        pytest.param(
            "Tuyên truyền công tác PCCC mùa khô.",
            "Tuyên truyền công tác phòng cháy chữa cháy mùa khô.",
            id="pccc",
        ),
        pytest.param(
            "Làm thủ tục cấp CCCD gắn chíp.",
            "Làm thủ tục cấp căn cước công dân gắn chíp.",
            id="cccd",
        ),
        pytest.param(
            "Kích hoạt tài khoản định danh điện tử VNeID mức 2.",
            "Kích hoạt tài khoản định danh điện tử vê en e ai đi mức hai.",
            id="vneid",
        ),
        pytest.param(
            "UBND TP. Huế ban hành kế hoạch.",
            "Ủy ban nhân dân thành phố Huế ban hành kế hoạch.",
            id="tp-with-dot",
        ),
        pytest.param(
            "Các phường thuộc TP Đà Nẵng.",
            "Các phường thuộc thành phố Đà Nẵng.",
            id="tp-without-dot",
        ),
        pytest.param(
            "Lao động tại TP.HCM về quê.",
            "Lao động tại thành phố Hồ Chí Minh về quê.",
            id="tp-hcm",
        ),
        pytest.param(
            "Công khai TTHC tại bộ phận một cửa.",
            "Công khai thủ tục hành chính tại bộ phận một cửa.",
            id="tthc",
        ),
        pytest.param(
            "Lực lượng CSGT tuyên truyền ATGT.",
            "Lực lượng cảnh sát giao thông tuyên truyền an toàn giao thông.",
            id="csgt-atgt",
        ),
        pytest.param(
            "Kiểm tra ATTP dịp Tết.",
            "Kiểm tra an toàn thực phẩm dịp Tết.",
            id="attp",
        ),
        pytest.param(
            "CA xã tuần tra ban đêm.",
            "Công an xã tuần tra ban đêm.",
            id="ca-standalone",
        ),
        pytest.param(
            "Chương trình CASA và ca trực đêm.",
            "Chương trình CASA và ca trực đêm.",
            id="ca-inside-word-untouched",
        ),
        pytest.param(
            "Học sinh THCS và THPT tham gia cuộc thi.",
            "Học sinh trung học cơ sở và trung học phổ thông tham gia cuộc thi.",
            id="thcs-thpt",
        ),
        pytest.param(
            "Đổi GPLX sang thẻ PET.",
            "Đổi giấy phép lái xe sang thẻ PET.",
            id="gplx",
        ),
        pytest.param(
            "Đề nghị đ/c Trưởng thôn thông báo.",
            "Đề nghị đồng chí Trưởng thôn thông báo.",
            id="dong-chi",
        ),
        pytest.param(
            "V/v tổ chức tuyên truyền.",
            "Về việc tổ chức tuyên truyền.",
            id="ve-viec",
        ),
        pytest.param(
            "Phòng GD&ĐT huyện phối hợp.",
            "Phòng giáo dục và đào tạo huyện phối hợp.",
            id="gd-dt",
        ),
        pytest.param(
            "Tình hình KT-XH năm 2026.",
            "Tình hình kinh tế - xã hội năm hai nghìn không trăm hai mươi sáu.",
            id="kt-xh",
        ),
        pytest.param(
            "Ông ubnd và chị pccc.",
            "Ông ubnd và chị pccc.",
            id="lowercase-not-expanded",
        ),
        pytest.param(
            "Mã UBNDX123 không phải viết tắt.",
            "Mã UBNDX một trăm hai mươi ba không phải viết tắt.",
            id="abbreviation-inside-token-untouched",
        ),
        pytest.param(
            "Các QĐ và KH đã ban hành.",
            "Các quyết định và kế hoạch đã ban hành.",
            id="qd-kh-standalone",
        ),
        pytest.param(
            "Các NĐ-CP mới.",
            "Các nghị định Chính phủ mới.",
            id="nd-cp-standalone",
        ),
        pytest.param(
            "TT hướng dẫn NĐ của CP và Luật của QH.",
            "Thông tư hướng dẫn nghị định của Chính phủ và Luật của Quốc hội.",
            id="tt-cp-qh",
        ),
        pytest.param(
            "Không cung cấp mã OTP, cảnh giác khi rút tiền tại ATM.",
            "Không cung cấp mã ô tê pê, cảnh giác khi rút tiền tại a tê em.",
            id="otp-atm",
        ),
    ],
)
def test_default_abbreviations_expand_whole_tokens(text: str, spoken: str) -> None:
    assert normalize(text) == spoken


@pytest.mark.parametrize(
    "key",
    [
        *("UBND", "HĐND", "MTTQ", "PBGDPL", "BHXH", "BHYT", "PCCC", "CCCD", "TP", "TTHC", "CSGT", "ATGT", "ATTP"),
        *("VNeID", "QĐ", "KH", "NĐ-CP", "TT", "CP", "QH", "UBMTTQ", "THCS", "THPT", "CA", "GPLX"),
    ],
)
def test_required_abbreviations_are_in_the_default_table(key: str) -> None:
    assert DEFAULT_ABBREVIATIONS[key]


def test_default_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        DEFAULT_ABBREVIATIONS["UBND"] = "x"  # type: ignore[index]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "viet-tat.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_valid_file_skips_comments_and_blank_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, "# Xã Hòa Phong\n\nHTXNN = hợp tác xã nông nghiệp\n  BCĐ389 =  Ban Chỉ đạo 389  \n")
    assert load_abbreviations(path) == {"HTXNN": "hợp tác xã nông nghiệp", "BCĐ389": "Ban Chỉ đạo 389"}


def test_loaded_entries_extend_the_defaults(tmp_path: Path) -> None:
    extra = load_abbreviations(_write(tmp_path, "HTXNN = hợp tác xã nông nghiệp\n"))
    spoken = normalize("HTXNN Hòa Phong và UBND xã ký kết.", abbreviations=extra)
    assert spoken == "Hợp tác xã nông nghiệp Hòa Phong và Ủy ban nhân dân xã ký kết."


def test_loaded_entries_override_the_defaults(tmp_path: Path) -> None:
    extra = load_abbreviations(_write(tmp_path, "TT = thị trấn\n"))
    assert normalize("Các xã và TT trong huyện.", abbreviations=extra) == "Các xã và thị trấn trong huyện."
    assert normalize("Căn cứ TT số 5.", abbreviations=extra) == "Căn cứ thị trấn số năm."


def test_override_reaches_document_symbols(tmp_path: Path) -> None:
    extra = load_abbreviations(_write(tmp_path, "ĐLHT = Điện lực Hương Trà\n"))
    spoken = normalize("Thông báo số 38/TB-ĐLHT.", abbreviations=extra)
    assert spoken == "Thông báo số ba mươi tám của Điện lực Hương Trà."
    # Without the commune's entry the issuer is unknown and left out rather than spelled.
    assert normalize("Thông báo số 38/TB-ĐLHT.") == "Thông báo số ba mươi tám."


def test_empty_file_gives_no_entries(tmp_path: Path) -> None:
    assert load_abbreviations(_write(tmp_path, "# chưa có\n")) == {}


@pytest.mark.parametrize(
    ("content", "line", "reason_vi"),
    [
        pytest.param("HTX = hợp tác xã\nUBND Ủy ban\n", 2, "thiếu dấu «=»", id="missing-equals"),
        pytest.param("HTX =\n", 1, "chưa ghi cách đọc", id="empty-expansion"),
        pytest.param("= hợp tác xã\n", 1, "phải là một từ", id="empty-key"),
        pytest.param("HTX NN = hợp tác xã\n", 1, "phải là một từ", id="key-with-space"),
        pytest.param("# x\nHTX = a\n\nHTX = b\n", 4, "khai báo hai lần", id="duplicate-key"),
    ],
)
def test_bad_line_is_named_in_both_languages(tmp_path: Path, content: str, line: int, reason_vi: str) -> None:
    path = _write(tmp_path, content)
    with pytest.raises(InvalidInput) as caught:
        load_abbreviations(path)
    error = caught.value
    assert isinstance(error, ValueError)
    assert f"line {line}" in str(error)
    assert f"dòng {line}" in error.message_vi
    assert reason_vi in error.message_vi
    assert "viet-tat.txt" in error.message_vi


def test_missing_file_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_abbreviations(tmp_path / "khong-co.txt")
    assert "Không đọc được tệp viết tắt khong-co.txt" in caught.value.message_vi


def test_non_utf8_file_is_invalid_input(tmp_path: Path) -> None:
    path = tmp_path / "cp1258.txt"
    path.write_bytes("HTX = hợp tác xã".encode("utf-16"))
    with pytest.raises(InvalidInput) as caught:
        load_abbreviations(path)
    assert "UTF-8" in caught.value.message_vi


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        pytest.param("Sở Khoa học & Công nghệ", "Sở Khoa học và Công nghệ", id="ampersand-spaced"),
        pytest.param("HĐND & UBND", "Hội đồng nhân dân và Ủy ban nhân dân", id="ampersand-abbreviations"),
        pytest.param("HĐND&UBND xã", "Hội đồng nhân dân và Ủy ban nhân dân xã", id="compound-of-known-parts"),
        pytest.param("Sở NN&PTNT", "Sở Nông nghiệp và Phát triển nông thôn", id="nn-ptnt"),
        pytest.param("BCH PCTT&TKCN", "Ban Chỉ huy phòng chống thiên tai và tìm kiếm cứu nạn", id="pctt-tkcn"),
        pytest.param("ứng dụng CNTT", "ứng dụng công nghệ thông tin", id="cntt"),
        pytest.param("PCT UBND xã", "Phó Chủ tịch Ủy ban nhân dân xã", id="pct"),
        pytest.param("người DTTS", "người dân tộc thiểu số", id="dtts"),
        pytest.param("lực lượng CBCS", "lực lượng cán bộ, chiến sĩ", id="cbcs"),
        pytest.param("bảo đảm TTATGT", "bảo đảm trật tự an toàn giao thông", id="ttatgt"),
        pytest.param("Chương trình MTQG", "Chương trình mục tiêu quốc gia", id="mtqg"),
        pytest.param("tổng VSMT", "tổng vệ sinh môi trường", id="vsmt"),
        pytest.param("Bộ trưởng (b/c);", "Bộ trưởng (để báo cáo);", id="bc"),
        pytest.param("tiêm chủng mở rộng (TCMR) cho trẻ", "tiêm chủng mở rộng cho trẻ", id="bracketed-repeat-dropped"),
        pytest.param("thẻ (BHYT)", "thẻ (bảo hiểm y tế)", id="bracketed-not-a-repeat"),
    ],
)
def test_ampersands_and_the_issues_abbreviations(text: str, spoken: str) -> None:
    assert normalize(text) == spoken
