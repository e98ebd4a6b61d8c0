"""Money, percentages, units, ordinals and plain numbers."""

from __future__ import annotations

import pytest

from controller.text import normalize


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        pytest.param(
            "Mức phạt từ 500.000 đồng đến 1.000.000 đồng.",
            "Mức phạt từ năm trăm nghìn đồng đến một triệu đồng.",
            id="fine-range-dong",
        ),
        pytest.param(
            "Lệ phí cấp đổi là 1.200.000đ.",
            "Lệ phí cấp đổi là một triệu hai trăm nghìn đồng.",
            id="fee-d-suffix",
        ),
        pytest.param(
            "Hỗ trợ 50.000 VNĐ mỗi người.",
            "Hỗ trợ năm mươi nghìn đồng mỗi người.",
            id="vnd-upper",
        ),
        pytest.param(
            "Mỗi suất quà trị giá 300.000 VND.",
            "Mỗi suất quà trị giá ba trăm nghìn đồng.",
            id="vnd-no-bar",
        ),
        pytest.param(
            "Tổng kinh phí 2.500.000.000 đồng.",
            "Tổng kinh phí hai tỷ năm trăm triệu đồng.",
            id="billions",
        ),
        pytest.param(
            "Hỗ trợ 1,5 triệu đồng mỗi hộ.",
            "Hỗ trợ một phẩy năm triệu đồng mỗi hộ.",
            id="decimal-million",
        ),
        pytest.param(
            "Giá 15.000đ/kg.",
            "Giá mười lăm nghìn đồng một ki-lô-gam.",
            id="price-per-kg",
        ),
        pytest.param(
            "Phí tham gia 20.000 đồng/người.",
            "Phí tham gia hai mươi nghìn đồng một người.",
            id="price-per-person",
        ),
        pytest.param(
            "Diện tích gieo cấy 2,5 ha.",
            "Diện tích gieo cấy hai phẩy năm héc-ta.",
            id="decimal-hectare",
        ),
        pytest.param(
            "Xã có 120 ha rừng phòng hộ.",
            "Xã có một trăm hai mươi héc-ta rừng phòng hộ.",
            id="hectare",
        ),
        pytest.param(
            "Nhà văn hóa rộng 250 m2.",
            "Nhà văn hóa rộng hai trăm năm mươi mét vuông.",
            id="square-metre-m2",
        ),
        pytest.param(
            "Mỗi hộ được giao 360m².",
            "Mỗi hộ được giao ba trăm sáu mươi mét vuông.",
            id="square-metre-superscript-glued",
        ),
        pytest.param(
            "Đổ 12 m3 bê tông.",
            "Đổ mười hai mét khối bê tông.",
            id="cubic-metre",
        ),
        pytest.param(
            "Tuyến đường dài 3,5 km.",
            "Tuyến đường dài ba phẩy năm ki-lô-mét.",
            id="kilometre-decimal",
        ),
        pytest.param(
            "Tốc độ tối đa 40 km/h trong khu dân cư.",
            "Tốc độ tối đa bốn mươi ki-lô-mét trên giờ trong khu dân cư.",
            id="speed-limit",
        ),
        pytest.param(
            "Mỗi bao nặng 50 kg.",
            "Mỗi bao nặng năm mươi ki-lô-gam.",
            id="kilogram",
        ),
        pytest.param(
            "Lượng mưa 120 mm.",
            "Lượng mưa một trăm hai mươi mi-li-mét.",
            id="millimetre",
        ),
        pytest.param(
            "Cây cao 30 cm.",
            "Cây cao ba mươi xen-ti-mét.",
            id="centimetre",
        ),
        pytest.param(
            "Độ sâu 2,05 m.",
            "Độ sâu hai phẩy không năm mét.",
            id="metre-decimal-leading-zero",
        ),
        pytest.param(
            "Cách trung tâm 0,5 km.",
            "Cách trung tâm không phẩy năm ki-lô-mét.",
            id="zero-point-five",
        ),
        pytest.param(
            "Nhiệt độ có thể lên tới 38°C.",
            "Nhiệt độ có thể lên tới ba mươi tám độ C.",
            id="celsius",
        ),
        pytest.param(
            "Tỷ lệ tham gia BHYT đạt 95%.",
            "Tỷ lệ tham gia bảo hiểm y tế đạt chín mươi lăm phần trăm.",
            id="percent-glued",
        ),
        pytest.param(
            "Phấn đấu giảm 2,5% hộ nghèo.",
            "Phấn đấu giảm hai phẩy năm phần trăm hộ nghèo.",
            id="percent-decimal",
        ),
        pytest.param(
            "Tỷ lệ 100 % hộ dân được phổ biến.",
            "Tỷ lệ một trăm phần trăm hộ dân được phổ biến.",
            id="percent-spaced",
        ),
        pytest.param(
            "Có 80% số hộ đã ký cam kết.",
            "Có tám mươi phần trăm số hộ đã ký cam kết.",
            id="percent-80",
        ),
        pytest.param(
            "Dân số xã là 10.000 người.",
            "Dân số xã là mười nghìn người.",
            id="thousands-dot",
        ),
        pytest.param(
            "Tiếp nhận 1.005 hồ sơ.",
            "Tiếp nhận một nghìn không trăm linh năm hồ sơ.",
            id="thousands-dot-inner-zero",
        ),
        pytest.param(
            "Ngân sách 1.000.001 đồng.",
            "Ngân sách một triệu không trăm linh một đồng.",
            id="million-and-one",
        ),
        pytest.param(
            "Có 1001 hộ và 105 người cao tuổi.",
            "Có một nghìn không trăm linh một hộ và một trăm linh năm người cao tuổi.",
            id="plain-1001-and-105",
        ),
        pytest.param(
            "Xã có 15 thôn, 21 tổ dân phố và 24 chi hội.",
            "Xã có mười lăm thôn, hai mươi mốt tổ dân phố và hai mươi tư chi hội.",
            id="mot-tu-lam",
        ),
        pytest.param(
            "Có 11 thôn và 14 tổ hòa giải.",
            "Có mười một thôn và mười bốn tổ hòa giải.",
            id="eleven-fourteen",
        ),
        pytest.param(
            "Số CCCD 001234567890 đã được cấp.",
            "Số căn cước công dân không không một hai ba bốn năm sáu bảy tám chín không đã được cấp.",
            id="id-number-digit-by-digit",
        ),
        pytest.param(
            "Thứ 2, thứ 4 và thứ 6 hằng tuần.",
            "Thứ hai, thứ tư và thứ sáu hằng tuần.",
            id="weekdays",
        ),
        pytest.param(
            "Kết thúc vào Thứ 7.",
            "Kết thúc vào Thứ bảy.",
            id="weekday-saturday",
        ),
        pytest.param(
            "Mục 3a quy định chi tiết.",
            "Mục ba a quy định chi tiết.",
            id="number-touching-letter",
        ),
        pytest.param(
            "Phiên bản 1.5 của phần mềm.",
            "Phiên bản một chấm năm của phần mềm.",
            id="dotted-not-thousands",
        ),
        pytest.param(
            "Hơn 1/2 số hộ đã đăng ký tham gia.",
            "Hơn một phần hai số hộ đã đăng ký tham gia.",
            id="fraction-before-so",
        ),
        pytest.param(
            "Có 2/3 diện tích lúa bị ngập.",
            "Có hai phần ba diện tích lúa bị ngập.",
            id="fraction-before-dien-tich",
        ),
        pytest.param(
            "Lượng mưa phổ biến 50-80 mm.",
            "Lượng mưa phổ biến năm mươi đến tám mươi mi-li-mét.",
            id="number-range",
        ),
        pytest.param(
            "Nộp 2 ảnh 3x4.",
            "Nộp hai ảnh ba nhân bốn.",
            id="photo-size",
        ),
        pytest.param(
            "Mức hỗ trợ 1.000.000 VNĐ/tháng.",
            "Mức hỗ trợ một triệu đồng một tháng.",
            id="money-per-month",
        ),
        pytest.param(
            "Giảm 50-80% diện tích bị sâu bệnh.",
            "Giảm năm mươi đến tám mươi phần trăm diện tích bị sâu bệnh.",
            id="percent-range",
        ),
    ],
)
def test_quantities_are_read_in_full(text: str, spoken: str) -> None:
    assert normalize(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        pytest.param("đường dây 22 kV", "đường dây hai mươi hai ki-lô-vôn", id="kv"),
        pytest.param("đấu nối TBA 250 kVA", "đấu nối trạm biến áp hai trăm năm mươi ki-lô-vôn-ampe", id="kva"),
        pytest.param("điện 220 V", "điện hai trăm hai mươi vôn", id="volt"),
        pytest.param("0,03%/ngày", "không phẩy không ba phần trăm một ngày", id="percent-per-day"),
        pytest.param("5.000 đồng/m2/ngày", "năm nghìn đồng một mét vuông một ngày", id="money-per-area-per-day"),
        pytest.param(
            "cấp 11 (103-117 km/h)",
            "cấp mười một (một trăm linh ba đến một trăm mười bảy ki-lô-mét trên giờ)",
            id="storm-wind",
        ),
    ],
)
def test_units_from_power_and_storm_notices(text: str, spoken: str) -> None:
    assert normalize(text) == spoken
