"""Dates and clock times in announcement sentences."""

from __future__ import annotations

import pytest

from controller.text import normalize


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        pytest.param(
            "Ngày 27/5/2026, UBND xã tổ chức hội nghị.",
            "Ngày hai mươi bảy tháng năm năm hai nghìn không trăm hai mươi sáu, Ủy ban nhân dân xã tổ chức hội nghị.",
            id="full-date-sentence-start",
        ),
        pytest.param(
            "Hội nghị diễn ra ngày 27/5/2026 tại hội trường.",
            "Hội nghị diễn ra ngày hai mươi bảy tháng năm năm hai nghìn không trăm hai mươi sáu tại hội trường.",
            id="full-date-after-ngay-not-doubled",
        ),
        pytest.param(
            "Hạn nộp hồ sơ là 27/5/2026.",
            "Hạn nộp hồ sơ là ngày hai mươi bảy tháng năm năm hai nghìn không trăm hai mươi sáu.",
            id="full-date-bare-gets-ngay",
        ),
        pytest.param(
            "Văn bản ban hành ngày 05/01/2026.",
            "Văn bản ban hành ngày năm tháng một năm hai nghìn không trăm hai mươi sáu.",
            id="leading-zeros-month-one",
        ),
        pytest.param(
            "Kể từ ngày 01/04/2026, quy định mới có hiệu lực.",
            "Kể từ ngày một tháng tư năm hai nghìn không trăm hai mươi sáu, quy định mới có hiệu lực.",
            id="leading-zeros-month-four-tu",
        ),
        pytest.param(
            "Ngày 10/10/2025 là hạn cuối.",
            "Ngày mười tháng mười năm hai nghìn không trăm hai mươi lăm là hạn cuối.",
            id="october",
        ),
        pytest.param(
            "Sáng ngày 27/5 tại nhà văn hóa thôn.",
            "Sáng ngày hai mươi bảy tháng năm tại nhà văn hóa thôn.",
            id="day-month-after-ngay",
        ),
        pytest.param(
            "Hạn chót 31/12.",
            "Hạn chót ngày ba mươi mốt tháng mười hai.",
            id="day-month-bare",
        ),
        pytest.param(
            "Trước 15/8 các hộ phải kê khai.",
            "Trước ngày mười lăm tháng tám các hộ phải kê khai.",
            id="day-month-after-truoc",
        ),
        pytest.param(
            "Trong tháng 5/2026, xã ra quân dọn vệ sinh.",
            "Trong tháng năm năm hai nghìn không trăm hai mươi sáu, xã ra quân dọn vệ sinh.",
            id="month-year-after-thang",
        ),
        pytest.param(
            "Kế hoạch thực hiện 12/2026.",
            "Kế hoạch thực hiện tháng mười hai năm hai nghìn không trăm hai mươi sáu.",
            id="month-year-bare",
        ),
        pytest.param(
            "Từ 1/7 đến 15/7/2026, tiếp nhận hồ sơ.",
            (
                "Từ ngày một tháng bảy đến ngày mười lăm tháng bảy năm hai nghìn không trăm hai mươi sáu,"
                " tiếp nhận hồ sơ."
            ),
            id="range-two-dates",
        ),
        pytest.param(
            "Đợt tiêm chủng diễn ra từ ngày 1-15/7/2026.",
            "Đợt tiêm chủng diễn ra từ ngày một đến ngày mười lăm tháng bảy năm hai nghìn không trăm hai mươi sáu.",
            id="range-dash-after-tu-ngay",
        ),
        pytest.param(
            "Ngày 1-15/7 xã tổ chức đợt cao điểm.",
            "Từ ngày một đến ngày mười lăm tháng bảy xã tổ chức đợt cao điểm.",
            id="range-dash-after-ngay",
        ),
        pytest.param(
            "Từ 20 - 25/11/2026 kiểm tra hộ kinh doanh.",
            (
                "Từ ngày hai mươi đến ngày hai mươi lăm tháng mười một năm hai nghìn không trăm hai mươi "
                "sáu kiểm tra hộ kinh doanh."
            ),
            id="range-dash-spaced",
        ),
        pytest.param(
            "Ngày 27-5-2026 họp thôn.",
            "Ngày hai mươi bảy tháng năm năm hai nghìn không trăm hai mươi sáu họp thôn.",
            id="date-with-dashes",
        ),
        pytest.param(
            "Ngày 27.5.2026 họp thôn.",
            "Ngày hai mươi bảy tháng năm năm hai nghìn không trăm hai mươi sáu họp thôn.",
            id="date-with-dots",
        ),
        pytest.param(
            "Tết Nguyên đán rơi vào tháng 1 và tháng 2.",
            "Tết Nguyên đán rơi vào tháng một và tháng hai.",
            id="month-words-one-two",
        ),
        pytest.param(
            "Tháng 4 là tháng cao điểm.",
            "Tháng tư là tháng cao điểm.",
            id="month-word-four-tu",
        ),
        pytest.param(
            "Báo cáo tháng 12 năm 2025.",
            "Báo cáo tháng mười hai năm hai nghìn không trăm hai mươi lăm.",
            id="december-word",
        ),
        pytest.param(
            "Giai đoạn 2021-2025 đã hoàn thành.",
            "Giai đoạn hai nghìn không trăm hai mươi mốt đến hai nghìn không trăm hai mươi lăm đã hoàn thành.",
            id="year-range",
        ),
        pytest.param(
            "Nhiệm kỳ 2021 – 2026.",
            "Nhiệm kỳ hai nghìn không trăm hai mươi mốt đến hai nghìn không trăm hai mươi sáu.",
            id="year-range-en-dash",
        ),
        pytest.param(
            "Năm 2026 có nhiều đổi mới.",
            "Năm hai nghìn không trăm hai mươi sáu có nhiều đổi mới.",
            id="year-alone",
        ),
        pytest.param(
            "Ngày 32/5 không hợp lệ.",
            "Ngày ba mươi hai trên năm không hợp lệ.",
            id="invalid-day-is-a-ratio",
        ),
        pytest.param(
            "Tỷ lệ 13/15 hộ đã nộp.",
            "Tỷ lệ mười ba trên mười lăm hộ đã nộp.",
            id="ratio-not-a-date",
        ),
        pytest.param(
            "Đường dây nóng hoạt động 24/7.",
            "Đường dây nóng hoạt động hai mươi tư trên bảy.",
            id="round-the-clock",
        ),
        pytest.param(
            "Ngày 24/7 họp tổng kết.",
            "Ngày hai mươi tư tháng bảy họp tổng kết.",
            id="date-24-july",
        ),
        pytest.param(
            "Cuộc họp bắt đầu lúc 17h30.",
            "Cuộc họp bắt đầu lúc mười bảy giờ ba mươi phút.",
            id="clock-h-minutes",
        ),
        pytest.param(
            "Lúc 17h, loa phát thanh tin tức.",
            "Lúc mười bảy giờ, loa phát thanh tin tức.",
            id="clock-h-only",
        ),
        pytest.param(
            "Tập trung lúc 7h00 tại sân.",
            "Tập trung lúc bảy giờ tại sân.",
            id="clock-h-zero-minutes",
        ),
        pytest.param(
            "Kết thúc lúc 11h15p.",
            "Kết thúc lúc mười một giờ mười lăm phút.",
            id="clock-h-p-suffix",
        ),
        pytest.param(
            "Bắt đầu 8h30 phút.",
            "Bắt đầu tám giờ ba mươi phút.",
            id="clock-h-minutes-phut-not-doubled",
        ),
        pytest.param(
            "Mở cửa từ 7:30 đến 11:00.",
            "Mở cửa từ bảy giờ ba mươi phút đến mười một giờ.",
            id="clock-colon",
        ),
        pytest.param(
            "Giờ làm việc 7:30 - 11:30 và 13:30 - 17:00.",
            (
                "Giờ làm việc bảy giờ ba mươi phút đến mười một giờ ba mươi phút và mười ba giờ ba mươi "
                "phút đến mười bảy giờ."
            ),
            id="clock-colon-range",
        ),
        pytest.param(
            "Tiếp dân từ 17h30-18h hằng ngày.",
            "Tiếp dân từ mười bảy giờ ba mươi phút đến mười tám giờ hằng ngày.",
            id="clock-h-range",
        ),
        pytest.param(
            "Phát thanh 6h - 6h30 sáng.",
            "Phát thanh sáu giờ đến sáu giờ ba mươi phút sáng.",
            id="clock-h-range-spaced",
        ),
        pytest.param(
            "Lúc 5 giờ 30 sáng mai.",
            "Lúc năm giờ ba mươi phút sáng mai.",
            id="clock-words-add-phut",
        ),
        pytest.param(
            "Lúc 5 giờ 30 phút chiều.",
            "Lúc năm giờ ba mươi phút chiều.",
            id="clock-words-phut-present",
        ),
        pytest.param(
            "Đúng 9 giờ sáng thứ 2.",
            "Đúng chín giờ sáng thứ hai.",
            id="clock-words-hour-only",
        ),
        pytest.param(
            "Vào lúc 8h ngày 05/01/2026 tại hội trường UBND xã.",
            (
                "Vào lúc tám giờ ngày năm tháng một năm hai nghìn không trăm hai mươi sáu tại hội trường "
                "Ủy ban nhân dân xã."
            ),
            id="clock-and-date",
        ),
        pytest.param(
            "Cánh đồng rộng 2ha, gieo trồng lúc 6h.",
            "Cánh đồng rộng hai héc-ta, gieo trồng lúc sáu giờ.",
            id="two-digit-hours-not-area",
        ),
        pytest.param(
            "Ngày 1/2 học sinh khai giảng.",
            "Ngày một tháng hai học sinh khai giảng.",
            id="slash-without-fraction-word-is-date",
        ),
        pytest.param(
            "Kết quả trả sau 48h làm việc.",
            "Kết quả trả sau bốn mươi tám giờ làm việc.",
            id="duration-hours",
        ),
        pytest.param(
            "Ngày 27 tháng 5 năm 2026, Thứ Hai.",
            "Ngày hai mươi bảy tháng năm năm hai nghìn không trăm hai mươi sáu, Thứ Hai.",
            id="date-in-words-numbers",
        ),
    ],
)
def test_dates_and_times_are_read_in_full(text: str, spoken: str) -> None:
    assert normalize(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        pytest.param("ngày 27.9", "ngày hai mươi bảy tháng chín", id="dot-date"),
        pytest.param("Ngày 27.9: cắt điện", "Ngày hai mươi bảy tháng chín: cắt điện", id="dot-date-capital"),
        pytest.param(
            "từ ngày 27.9 đến 30.9", "từ ngày hai mươi bảy tháng chín đến ngày ba mươi tháng chín", id="dot-range"
        ),
        pytest.param("ngày 15-4", "ngày mười lăm tháng tư", id="dash-date"),
        pytest.param("dịp 27-7", "dịp ngày hai mươi bảy tháng bảy", id="dip"),
        pytest.param("từ 3-5 ngày", "từ ba đến năm ngày", id="dash-range-not-a-date"),
        pytest.param("ngày 2.6.2024", "ngày hai tháng sáu năm hai nghìn không trăm hai mươi tư", id="dot-full"),
        pytest.param(
            "từ ngày 28/02-03/3/2024",
            "từ ngày hai mươi tám tháng hai đến ngày ba tháng ba năm hai nghìn không trăm hai mươi tư",
            id="across-months",
        ),
        pytest.param(
            "(28/02-03/3/2024)",
            "(từ ngày hai mươi tám tháng hai đến ngày ba tháng ba năm hai nghìn không trăm hai mươi tư)",
            id="across-months-adds-tu",
        ),
        pytest.param("ngày 13,14 tháng 8", "ngày mười ba, mười bốn tháng tám", id="day-list-comma"),
        pytest.param(
            "các ngày 13, 14/8/2024",
            "các ngày mười ba, mười bốn tháng tám năm hai nghìn không trăm hai mươi tư",
            id="day-list-slash",
        ),
        pytest.param("ngày 21 và 22 tháng 5", "ngày hai mươi mốt và hai mươi hai tháng năm", id="day-list-va"),
        pytest.param("từ 11-14h", "từ mười một đến mười bốn giờ", id="hour-range-h"),
        pytest.param("khoảng 18-23h", "khoảng mười tám đến hai mươi ba giờ", id="hour-range-evening"),
        pytest.param("từ 6h-8h", "từ sáu giờ đến tám giờ", id="hour-range-both-h"),
    ],
)
def test_dotted_dates_lists_and_hour_ranges(text: str, spoken: str) -> None:
    assert normalize(text) == spoken
