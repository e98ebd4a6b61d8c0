"""Document numbers, article references and Roman numerals."""

from __future__ import annotations

import pytest

from controller.text import normalize


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        pytest.param(
            "Căn cứ Quyết định số 1369/QĐ-UBND của UBND huyện.",
            "Căn cứ Quyết định số một nghìn ba trăm sáu mươi chín của Ủy ban nhân dân huyện.",
            id="decision-number",
        ),
        pytest.param(
            "Thực hiện Kế hoạch số 160/KH-UBND ngày 15/3/2026 của UBND xã.",
            (
                "Thực hiện Kế hoạch số một trăm sáu mươi ngày mười lăm tháng ba năm hai nghìn không trăm "
                "hai mươi sáu của Ủy ban nhân dân xã."
            ),
            id="plan-number-and-date",
        ),
        pytest.param(
            "Luật Phổ biến, giáo dục pháp luật số 14/2012/QH13.",
            (
                "Luật Phổ biến, giáo dục pháp luật số mười bốn năm hai nghìn không trăm mười hai của Quốc "
                "hội khóa mười ba."
            ),
            id="law-qh13",
        ),
        pytest.param(
            "Luật An ninh mạng số 24/2018/QH14 có hiệu lực từ ngày 01/01/2019.",
            (
                "Luật An ninh mạng số hai mươi tư năm hai nghìn không trăm mười tám của Quốc hội khóa "
                "mười bốn có hiệu lực từ ngày một tháng một năm hai nghìn không trăm mười chín."
            ),
            id="law-qh14",
        ),
        pytest.param(
            "Nghị định số 13/2023/NĐ-CP về bảo vệ dữ liệu cá nhân.",
            "Nghị định số mười ba năm hai nghìn không trăm hai mươi ba của Chính phủ về bảo vệ dữ liệu cá nhân.",
            id="decree-nd-cp",
        ),
        pytest.param(
            "Nghị định 100/2019/NĐ-CP quy định xử phạt vi phạm hành chính.",
            (
                "Nghị định một trăm năm hai nghìn không trăm mười chín của Chính phủ quy định xử phạt vi "
                "phạm hành chính."
            ),
            id="decree-without-so",
        ),
        pytest.param(
            "Thông tư số 01/2024/TT-BTP của Bộ Tư pháp.",
            "Thông tư số một năm hai nghìn không trăm hai mươi tư của Bộ Tư pháp.",
            id="circular-leading-zero",
        ),
        pytest.param(
            "Chỉ thị số 05/CT-TTg của Thủ tướng.",
            "Chỉ thị số năm của Thủ tướng.",
            id="directive-ttg",
        ),
        pytest.param(
            "Nghị quyết số 02/NQ-HĐND của HĐND xã.",
            "Nghị quyết số hai của Hội đồng nhân dân xã.",
            id="resolution-hdnd",
        ),
        pytest.param(
            "Công văn số 245/UBND-VX.",
            "Công văn số hai trăm bốn mươi lăm của Ủy ban nhân dân.",
            id="department-part-dropped",
        ),
        pytest.param(
            "Thông báo số 38/TB-UBND.",
            "Thông báo số ba mươi tám của Ủy ban nhân dân.",
            id="notice",
        ),
        pytest.param(
            "Quyết định số 12/QĐ-SGD&ĐT.",
            "Quyết định số mười hai của Sở Giáo dục và Đào tạo.",
            id="symbol-with-ampersand",
        ),
        pytest.param(
            "Kế hoạch số 7/KH-PGD&ĐT.",
            "Kế hoạch số bảy của Phòng Giáo dục và Đào tạo.",
            id="phong-gd-dt-with-ampersand",
        ),
        pytest.param(
            "Quyết định số 113/QĐ-UBND.",
            "Quyết định số một trăm mười ba của Ủy ban nhân dân.",
            id="hotline-number-in-document-is-a-number",
        ),
        pytest.param(
            "Theo Điều 5, khoản 2, điểm a của Luật.",
            "Theo Điều năm, khoản hai, điểm a của Luật.",
            id="article-clause-point-commas",
        ),
        pytest.param(
            "Theo Điều 5 khoản 2 điểm a của Luật.",
            "Theo Điều năm khoản hai điểm a của Luật.",
            id="article-clause-point-no-commas",
        ),
        pytest.param(
            "Quy định tại khoản 2 Điều 5 Nghị định.",
            "Quy định tại khoản hai Điều năm Nghị định.",
            id="clause-before-article",
        ),
        pytest.param(
            "Hành vi vi phạm Điều 174 Bộ luật Hình sự.",
            "Hành vi vi phạm Điều một trăm bảy mươi tư Bộ luật Hình sự.",
            id="article-three-digits",
        ),
        pytest.param(
            "Xử phạt theo điểm đ khoản 1 Điều 6.",
            "Xử phạt theo điểm đê khoản một Điều sáu.",
            id="point-d-bar-named",
        ),
        pytest.param(
            "Điều 1. Phạm vi điều chỉnh",
            "Điều một. Phạm vi điều chỉnh",
            id="article-heading",
        ),
        pytest.param(
            "Điều 24. Trách nhiệm của UBND cấp xã",
            "Điều hai mươi tư. Trách nhiệm của Ủy ban nhân dân cấp xã",
            id="article-24-tu",
        ),
        pytest.param(
            "Chương III QUY ĐỊNH CỤ THỂ",
            "Chương ba QUY ĐỊNH CỤ THỂ",
            id="chapter-roman",
        ),
        pytest.param(
            "Phần II. Tổ chức thực hiện",
            "Phần hai. Tổ chức thực hiện",
            id="part-roman",
        ),
        pytest.param(
            "Mục IV về trách nhiệm.",
            "Mục bốn về trách nhiệm.",
            id="section-roman-iv",
        ),
        pytest.param(
            "Đại biểu Quốc hội khóa XV.",
            "Đại biểu Quốc hội khóa mười lăm.",
            id="term-xv",
        ),
        pytest.param(
            "Kỳ họp thứ 7, HĐND xã khóa XXI.",
            "Kỳ họp thứ bảy, Hội đồng nhân dân xã khóa hai mươi mốt.",
            id="term-xxi-and-ordinal",
        ),
        pytest.param(
            "Đợt II bắt đầu vào tháng sau.",
            "Đợt hai bắt đầu vào tháng sau.",
            id="round-roman",
        ),
        pytest.param(
            "Báo cáo kết quả Quý I/2026.",
            "Báo cáo kết quả Quý một năm hai nghìn không trăm hai mươi sáu.",
            id="quarter-roman-year",
        ),
        pytest.param(
            "Kết quả quý 3/2026 đạt cao.",
            "Kết quả quý ba năm hai nghìn không trăm hai mươi sáu đạt cao.",
            id="quarter-arabic-year",
        ),
        pytest.param(
            "Trong Quý IV, xã hoàn thành kế hoạch.",
            "Trong Quý bốn, xã hoàn thành kế hoạch.",
            id="quarter-roman-alone",
        ),
        pytest.param(
            "II. Nội dung tuyên truyền",
            "hai. Nội dung tuyên truyền",
            id="heading-roman-line-start",
        ),
        pytest.param(
            "IX. Tổ chức thực hiện",
            "chín. Tổ chức thực hiện",
            id="heading-roman-ix",
        ),
        pytest.param(
            "I. MỤC ĐÍCH, YÊU CẦU\n1. Mục đích",
            "một. MỤC ĐÍCH, YÊU CẦU\nmột. Mục đích",
            id="heading-roman-then-arabic",
        ),
        pytest.param(
            "Tôi đi học. I am here.",
            "Tôi đi học. I am here.",
            id="english-i-untouched",
        ),
        pytest.param(
            "Chương IIII không phải số La Mã.",
            "Chương IIII không phải số La Mã.",
            id="malformed-roman-untouched",
        ),
        pytest.param(
            "Lần thứ 1 tổ chức hội thi.",
            "Lần thứ nhất tổ chức hội thi.",
            id="ordinal-first",
        ),
    ],
)
def test_documents_and_headings_are_read(text: str, spoken: str) -> None:
    assert normalize(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        pytest.param("Kế hoạch số 54/KH-UBND.", "Kế hoạch số năm mươi tư của Ủy ban nhân dân.", id="issue-example"),
        pytest.param(
            "Kế hoạch số 54/KH-UBND ngày 27/02/2024 của UBND tỉnh.",
            "Kế hoạch số năm mươi tư ngày hai mươi bảy tháng hai năm hai nghìn không trăm hai mươi tư của Ủy ban "
            "nhân dân tỉnh.",
            id="owner-after-date-not-doubled",
        ),
        pytest.param(
            "Thông tư 01/2024/TT-BTTTT.",
            "Thông tư một năm hai nghìn không trăm hai mươi tư của Bộ Thông tin và Truyền thông.",
            id="btttt",
        ),
        pytest.param("Kế hoạch số 45-KH/TĐTN.", "Kế hoạch số bốn mươi lăm của Thành đoàn.", id="party-order"),
        pytest.param("Hướng dẫn số 12-HD/TU.", "Hướng dẫn số mười hai của Tỉnh ủy.", id="party-tu"),
        pytest.param(
            "Kế hoạch số 20/KH-BCĐ389.",
            "Kế hoạch số hai mươi của Ban Chỉ đạo ba trăm tám mươi chín.",
            id="numbered-body",
        ),
        pytest.param("Thông báo số 38/TB-ĐLHT.", "Thông báo số ba mươi tám.", id="unknown-issuer-left-out"),
        pytest.param(
            "đạt chuẩn QCVN 2:2021/BKHCN.",
            "đạt chuẩn quy chuẩn Việt Nam hai năm hai nghìn không trăm hai mươi mốt của Bộ Khoa học và Công nghệ.",
            id="standard",
        ),
        pytest.param("Đề án 06", "Đề án không sáu", id="de-an-06"),
        pytest.param("lần thứ XIV", "lần thứ mười bốn", id="ordinal-xiv"),
        pytest.param("lần thứ I", "lần thứ nhất", id="ordinal-i"),
        pytest.param("lần thứ IV", "lần thứ tư", id="ordinal-iv"),
        pytest.param("thế kỷ XXI", "thế kỷ hai mươi mốt", id="century"),
        pytest.param("khu vực III", "khu vực ba", id="area"),
        pytest.param("loại I, II, III", "loại một, hai, ba", id="level-list"),
        pytest.param("vùng II, vùng III và vùng IV", "vùng hai, vùng ba và vùng bốn", id="region-list"),
        pytest.param("báo động III", "báo động ba", id="alarm-level"),
        pytest.param("cấp độ IV", "cấp độ bốn", id="risk-level"),
    ],
)
def test_document_numbers_as_an_announcer_reads_them(text: str, spoken: str) -> None:
    assert normalize(text) == spoken
