"""Whole sentences from commune announcements, where several rules meet."""

from __future__ import annotations

import unicodedata

import pytest

from controller.text import normalize


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        pytest.param(
            "Bà con lưu ý giữ gìn vệ sinh chung, không xả rác ra đường.",
            "Bà con lưu ý giữ gìn vệ sinh chung, không xả rác ra đường.",
            id="ordinary-text-untouched",
        ),
        pytest.param(
            "Thôn   Đông    tổ chức   họp dân.",
            "Thôn Đông tổ chức họp dân.",
            id="collapse-spaces",
        ),
        pytest.param(
            "\tThôn Tây  họp dân lúc 19h.",
            "Thôn Tây họp dân lúc mười chín giờ.",
            id="collapse-tabs-and-trim",
        ),
        pytest.param(
            "Thông báo\n\n\nKính gửi bà con.",
            "Thông báo\nKính gửi bà con.",
            id="drop-blank-lines",
        ),
        pytest.param(
            "Lưu ý: mang theo CCCD; sổ hộ khẩu (nếu có); ảnh 3x4.",
            "Lưu ý: mang theo căn cước công dân; sổ hộ khẩu (nếu có); ảnh ba nhân bốn.",
            id="keeps-pause-punctuation",
        ),
        pytest.param(
            (
                "UBND xã thông báo: Từ ngày 1/7 đến 15/7/2026, Công an xã tiếp nhận hồ sơ cấp CCCD và "
                "kích hoạt VNeID mức 2 tại trụ sở UBND xã."
            ),
            (
                "Ủy ban nhân dân xã thông báo: Từ ngày một tháng bảy đến ngày mười lăm tháng bảy năm hai "
                "nghìn không trăm hai mươi sáu, Công an xã tiếp nhận hồ sơ cấp căn cước công dân và kích "
                "hoạt vê en e ai đi mức hai tại trụ sở Ủy ban nhân dân xã."
            ),
            id="cccd-drive",
        ),
        pytest.param(
            (
                "Căn cứ Quyết định số 1369/QĐ-UBND ngày 27/5/2026 của UBND TP. Huế về việc phê duyệt Kế "
                "hoạch PBGDPL năm 2026."
            ),
            (
                "Căn cứ Quyết định số một nghìn ba trăm sáu mươi chín ngày hai mươi bảy tháng năm năm hai "
                "nghìn không trăm hai mươi sáu của Ủy ban nhân dân thành phố Huế về việc phê duyệt Kế "
                "hoạch phổ biến, giáo dục pháp luật năm hai nghìn không trăm hai mươi sáu."
            ),
            id="decision-date-city",
        ),
        pytest.param(
            "Theo Điều 5, khoản 2, điểm a Luật số 24/2018/QH14, mức phạt từ 500.000 đồng đến 1.200.000đ.",
            (
                "Theo Điều năm, khoản hai, điểm a Luật số hai mươi tư năm hai nghìn không trăm mười tám "
                "của Quốc hội khóa mười bốn, mức phạt từ năm trăm nghìn đồng đến một triệu hai trăm nghìn "
                "đồng."
            ),
            id="fine-article-law",
        ),
        pytest.param(
            "Mọi thông tin xin liên hệ đ/c Nguyễn Văn A, SĐT 0912.345.678 hoặc gửi thư về ubnd@xa.gov.vn.",
            (
                "Mọi thông tin xin liên hệ đồng chí Nguyễn Văn A, số điện thoại không chín một hai, ba "
                "bốn năm, sáu bảy tám hoặc gửi thư về u bê en dê a còng ích a chấm giê o vê chấm vê en."
            ),
            id="contact-officer",
        ),
        pytest.param(
            "Khi có cháy, gọi ngay 114.   Khi cần cấp cứu gọi 115.",
            "Khi có cháy, gọi ngay một một bốn. Khi cần cấp cứu gọi một một năm.",
            id="emergency-numbers",
        ),
        pytest.param(
            "II. Nội dung\n1. Tuyên truyền về ATGT, PCCC trong Quý I/2026.",
            (
                "hai. Nội dung\nmột. Tuyên truyền về an toàn giao thông, phòng cháy chữa cháy trong Quý "
                "một năm hai nghìn không trăm hai mươi sáu."
            ),
            id="heading-and-item",
        ),
        pytest.param(
            "Buổi họp bắt đầu lúc 7h30 thứ 2, ngày 05/01/2026, kết thúc 17h30-18h.",
            (
                "Buổi họp bắt đầu lúc bảy giờ ba mươi phút thứ hai, ngày năm tháng một năm hai nghìn "
                "không trăm hai mươi sáu, kết thúc mười bảy giờ ba mươi phút đến mười tám giờ."
            ),
            id="meeting-time-weekday-date",
        ),
        pytest.param(
            "Đại biểu HĐND khóa XV, nhiệm kỳ 2021-2026.",
            (
                "Đại biểu Hội đồng nhân dân khóa mười lăm, nhiệm kỳ hai nghìn không trăm hai mươi mốt đến"
                " hai nghìn không trăm hai mươi sáu."
            ),
            id="hdnd-term",
        ),
        pytest.param(
            "Nhiệt độ 35°C, độ ẩm 80%.",
            "Nhiệt độ ba mươi lăm độ C, độ ẩm tám mươi phần trăm.",
            id="weather",
        ),
        pytest.param(
            "Tháng 12 năm 2025 đạt 95,5% kế hoạch.",
            "Tháng mười hai năm hai nghìn không trăm hai mươi lăm đạt chín mươi lăm phẩy năm phần trăm kế hoạch.",
            id="plan-result",
        ),
        pytest.param(
            (
                "Theo Nghị định 168/2024/NĐ-CP, người điều khiển xe máy có nồng độ cồn bị phạt từ "
                "2.000.000 đồng đến 3.000.000 đồng và trừ 4 điểm GPLX."
            ),
            (
                "Theo Nghị định một trăm sáu mươi tám năm hai nghìn không trăm hai mươi tư của Chính phủ, "
                "người điều khiển xe máy có nồng độ cồn bị phạt từ hai triệu đồng đến ba triệu đồng và "
                "trừ bốn điểm giấy phép lái xe."
            ),
            id="drunk-driving",
        ),
        pytest.param(
            "Đề nghị các phương tiện giảm tốc độ dưới 30 km/h khi đi qua trường THCS xã.",
            (
                "Đề nghị các phương tiện giảm tốc độ dưới ba mươi ki-lô-mét trên giờ khi đi qua trường "
                "trung học cơ sở xã."
            ),
            id="speed-school-zone",
        ),
        pytest.param(
            "Hộ ông Trần Văn B được hỗ trợ 1,5 ha đất sản xuất và 45.000.000 đồng.",
            "Hộ ông Trần Văn B được hỗ trợ một phẩy năm héc-ta đất sản xuất và bốn mươi lăm triệu đồng.",
            id="land-support",
        ),
        pytest.param(
            "Người dân có thể nộp hồ sơ TTHC trực tuyến tại https://dichvucong.gov.vn hoặc gọi tổng đài 1900 1234.",
            (
                "Người dân có thể nộp hồ sơ thủ tục hành chính trực tuyến tại dịch vụ công chấm giê o vê "
                "chấm vê en hoặc gọi tổng đài một chín không không, một hai ba bốn."
            ),
            id="online-services",
        ),
        pytest.param(
            "Hạn đóng BHYT hộ gia đình là ngày 31/12/2026, mức đóng 1.263.600 đồng/người/năm.",
            (
                "Hạn đóng bảo hiểm y tế hộ gia đình là ngày ba mươi mốt tháng mười hai năm hai nghìn "
                "không trăm hai mươi sáu, mức đóng một triệu hai trăm sáu mươi ba nghìn sáu trăm đồng một"
                " người một năm."
            ),
            id="bhyt-deadline",
        ),
        pytest.param(
            "Từ tháng 4 đến tháng 8 là mùa khô, đề nghị bà con chấp hành quy định PCCC, gọi 114 khi có cháy.",
            (
                "Từ tháng tư đến tháng tám là mùa khô, đề nghị bà con chấp hành quy định phòng cháy chữa "
                "cháy, gọi một một bốn khi có cháy."
            ),
            id="fire-season",
        ),
        pytest.param(
            "Từ ngày 1-15/7/2026, Trạm Y tế xã tiêm vắc xin cho trẻ dưới 5 tuổi từ 7h30 đến 11h.",
            (
                "Từ ngày một đến ngày mười lăm tháng bảy năm hai nghìn không trăm hai mươi sáu, Trạm Y tế"
                " xã tiêm vắc xin cho trẻ dưới năm tuổi từ bảy giờ ba mươi phút đến mười một giờ."
            ),
            id="vaccination",
        ),
        pytest.param(
            (
                "CA xã cảnh báo: không cung cấp mã OTP, không chuyển tiền cho số lạ; liên hệ đường dây "
                "nóng 113 hoặc 0236 3822 123."
            ),
            (
                "Công an xã cảnh báo: không cung cấp mã ô tê pê, không chuyển tiền cho số lạ; liên hệ "
                "đường dây nóng một một ba hoặc không hai ba sáu, ba tám hai hai, một hai ba."
            ),
            id="fraud-warning",
        ),
        pytest.param(
            "Báo cáo kết quả Quý I/2026 gửi về UBND xã trước ngày 05/4/2026.",
            (
                "Báo cáo kết quả Quý một năm hai nghìn không trăm hai mươi sáu gửi về Ủy ban nhân dân xã "
                "trước ngày năm tháng tư năm hai nghìn không trăm hai mươi sáu."
            ),
            id="quarter-report",
        ),
        pytest.param(
            "Hưởng ứng Ngày Pháp luật Việt Nam 9/11, UBND xã phát động cuộc thi tìm hiểu Luật số 14/2012/QH13.",
            (
                "Hưởng ứng Ngày Pháp luật Việt Nam ngày chín tháng mười một, Ủy ban nhân dân xã phát động "
                "cuộc thi tìm hiểu Luật số mười bốn năm hai nghìn không trăm mười hai của Quốc hội khóa "
                "mười ba."
            ),
            id="law-day",
        ),
        pytest.param(
            "Lượng mưa phổ biến 100-150 mm, có nơi trên 200 mm.",
            "Lượng mưa phổ biến một trăm đến một trăm năm mươi mi-li-mét, có nơi trên hai trăm mi-li-mét.",
            id="flood",
        ),
    ],
)
def test_announcement_sentences(text: str, spoken: str) -> None:
    assert normalize(text) == spoken


def test_whitespace_collapses_and_lines_are_trimmed() -> None:
    text = "  Thông báo  \r\n\r\n\tKính gửi\u00a0 bà con.   \n   \n"
    assert normalize(text) == "Thông báo\nKính gửi bà con."


def test_normalizing_twice_changes_nothing_more() -> None:
    once = normalize("Ngày 27/5/2026, UBND xã họp lúc 7h30 tại hội trường, gọi 0912 345 678.")
    assert normalize(once) == once


def test_empty_text_stays_empty() -> None:
    assert normalize("") == ""
    assert normalize(" \n\t ") == ""


def test_covid_keeps_its_number() -> None:
    assert normalize("Phòng chống dịch COVID-19.") == "Phòng chống dịch Cô-vít mười chín."


def test_decomposed_input_comes_out_composed() -> None:
    pasted = unicodedata.normalize("NFD", "Ủy ban nhân dân xã thông báo lúc 7h.")
    assert normalize(pasted) == "Ủy ban nhân dân xã thông báo lúc bảy giờ."
