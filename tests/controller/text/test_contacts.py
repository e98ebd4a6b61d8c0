"""Phone numbers, hotlines, e-mail and web addresses."""

from __future__ import annotations

import pytest

from controller.text import normalize


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        pytest.param(
            "Mọi ý kiến xin gửi về ubnd@xa.gov.vn.",
            "Mọi ý kiến xin gửi về u bê en dê a còng ích a chấm giê o vê chấm vê en.",
            id="email-sentence-end",
        ),
        pytest.param(
            "Liên hệ hộp thư phapche.ubnd@gmail.com để được hướng dẫn.",
            "Liên hệ hộp thư pê hát a pê xê hát e chấm u bê en dê a còng gờ meo chấm com để được hướng dẫn.",
            id="email-gmail-dotted-local",
        ),
        pytest.param(
            "Gửi về tuphap_xa2@gmail.com.",
            "Gửi về tê u pê hát a pê gạch dưới ích a hai a còng gờ meo chấm com.",
            id="email-underscore-digits",
        ),
        pytest.param(
            "Nộp hồ sơ trực tuyến tại https://dichvucong.gov.vn.",
            "Nộp hồ sơ trực tuyến tại dịch vụ công chấm giê o vê chấm vê en.",
            id="url-https-known-word",
        ),
        pytest.param(
            "Xem chi tiết tại www.chinhphu.vn hoặc thuvienphapluat.vn.",
            "Xem chi tiết tại vê kép vê kép vê kép chấm chính phủ chấm vê en hoặc thư viện pháp luật chấm vê en.",
            id="url-www-and-bare-domain",
        ),
        pytest.param(
            "Tra cứu văn bản tại http://vbpl.vn/pages/home.aspx",
            (
                "Tra cứu văn bản tại vê bê pê e lờ chấm vê en gạch chéo pê a giê e ét gạch chéo hát o em "
                "e chấm a ét pê ích"
            ),
            id="url-with-path",
        ),
        pytest.param(
            "Xem tại cong-an.gov.vn nhé.",
            "Xem tại công gạch ngang an chấm giê o vê chấm vê en nhé.",
            id="url-hyphen",
        ),
        pytest.param(
            "Liên hệ 0912 345 678 để được hỗ trợ.",
            "Liên hệ không chín một hai, ba bốn năm, sáu bảy tám để được hỗ trợ.",
            id="mobile-spaces",
        ),
        pytest.param(
            "SĐT: 0912.345.678.",
            "Số điện thoại: không chín một hai, ba bốn năm, sáu bảy tám.",
            id="mobile-dots-after-sdt",
        ),
        pytest.param(
            "Gọi số 0912345678 gặp đồng chí Bình.",
            "Gọi số không chín một hai, ba bốn năm, sáu bảy tám gặp đồng chí Bình.",
            id="mobile-unbroken",
        ),
        pytest.param(
            "Số cũ 01234567890 đã đổi.",
            "Số cũ không một hai ba, bốn năm sáu, bảy tám chín không đã đổi.",
            id="mobile-eleven-digits",
        ),
        pytest.param(
            "Số máy bàn 0236 3822 123.",
            "Số máy bàn không hai ba sáu, ba tám hai hai, một hai ba.",
            id="landline-4-4-3",
        ),
        pytest.param(
            "Điện thoại 024 3825 1234.",
            "Điện thoại không hai bốn, ba tám hai năm, một hai ba bốn.",
            id="landline-3-4-4",
        ),
        pytest.param(
            "Hotline: +84 912 345 678.",
            "Hotline: cộng tám bốn, chín một hai, ba bốn năm, sáu bảy tám.",
            id="international-prefix",
        ),
        pytest.param(
            "Gọi 113 khi có trộm cắp.",
            "Gọi một một ba khi có trộm cắp.",
            id="hotline-113",
        ),
        pytest.param(
            "Khi có cháy, gọi ngay 114.",
            "Khi có cháy, gọi ngay một một bốn.",
            id="hotline-114-ngay",
        ),
        pytest.param(
            "Gọi cấp cứu 115.",
            "Gọi cấp cứu một một năm.",
            id="hotline-115-cap-cuu",
        ),
        pytest.param(
            "Đường dây nóng 113, 114, 115 hoạt động 24/7.",
            "Đường dây nóng một một ba, một một bốn, một một năm hoạt động hai mươi tư trên bảy.",
            id="hotline-list",
        ),
        pytest.param(
            "Báo cháy (114) ngay khi phát hiện.",
            "Báo cháy (một một bốn) ngay khi phát hiện.",
            id="hotline-parenthesis",
        ),
        pytest.param(
            "Tổng đài 1900 1234 hỗ trợ miễn phí.",
            "Tổng đài một chín không không, một hai ba bốn hỗ trợ miễn phí.",
            id="service-number-spaced",
        ),
        pytest.param(
            "Tổng đài 19001234.",
            "Tổng đài một chín không không, một hai ba bốn.",
            id="service-number-unbroken",
        ),
        pytest.param(
            "Tổng đài BHXH 1900 9068.",
            "Tổng đài bảo hiểm xã hội một chín không không, chín không sáu tám.",
            id="service-number-after-abbreviation",
        ),
        pytest.param(
            "Xã có 113 hộ nghèo.",
            "Xã có một trăm mười ba hộ nghèo.",
            id="count-113-is-a-number",
        ),
        pytest.param(
            "Liên hệ 0912 345 678 hoặc 0987.654.321.",
            "Liên hệ không chín một hai, ba bốn năm, sáu bảy tám hoặc không chín tám bảy, sáu năm bốn, ba hai một.",
            id="two-phones",
        ),
        pytest.param(
            "Liên hệ 0912-345-678.",
            "Liên hệ không chín một hai, ba bốn năm, sáu bảy tám.",
            id="mobile-hyphens",
        ),
        pytest.param(
            "Liên hệ UBND@Xa.gov.vn",
            "Liên hệ u bê en dê a còng ích a chấm giê o vê chấm vê en",
            id="email-uppercase",
        ),
        pytest.param(
            "Điện thoại: 0236.3822.123",
            "Điện thoại: không hai ba sáu, ba tám hai hai, một hai ba",
            id="landline-dots",
        ),
    ],
)
def test_contacts_are_read_so_they_can_be_noted(text: str, spoken: str) -> None:
    assert normalize(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        pytest.param("gọi tổng đài 1022", "gọi tổng đài một không hai hai", id="short-service-number"),
        pytest.param("báo ngay qua số 113", "báo ngay qua số một một ba", id="qua-so"),
        pytest.param("gọi cấp cứu 115", "gọi cấp cứu một một năm", id="cap-cuu"),
        pytest.param("Quyết định số 1022.", "Quyết định số một nghìn không trăm hai mươi hai.", id="not-after-a-lead"),
        pytest.param("tại dichvucong.gov.vn", "tại dịch vụ công chấm giê o vê chấm vê en", id="label-as-words"),
        pytest.param(
            "tại baohiemxahoi.gov.vn", "tại bảo hiểm xã hội chấm giê o vê chấm vê en", id="label-split-in-words"
        ),
        pytest.param(
            "về tiepnhanhoso@thuathienhue.gov.vn",
            "về tiếp nhận hồ sơ a còng thừa thiên huế chấm giê o vê chấm vê en",
            id="email-words",
        ),
        pytest.param("tại abcxyz.vn", "tại a bê xê ích i dài dét chấm vê en", id="unknown-label-spelled"),
    ],
)
def test_hotlines_and_web_labels(text: str, spoken: str) -> None:
    assert normalize(text) == spoken
