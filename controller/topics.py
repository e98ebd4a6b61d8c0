"""The default priority topics (chuyên đề) from the provincial guidance. Communes may add their own."""

from __future__ import annotations

DEFAULT_TOPICS: dict[str, str] = {
    "dat-dai": "Đất đai, bồi thường, tái định cư; trật tự xây dựng",
    "cu-tru-ho-tich": "Cư trú, hộ tịch, căn cước, định danh điện tử VNeID",
    "hon-nhan-gia-dinh": "Hôn nhân gia đình, phòng chống bạo lực gia đình, bảo vệ trẻ em",
    "an-ninh-mang": "An ninh mạng, phòng chống lừa đảo trực tuyến, bảo vệ dữ liệu cá nhân",
    "giao-thong-pccc": "Giao thông, phòng cháy chữa cháy, an toàn thực phẩm, môi trường",
    "lao-dong-bhxh": "Lao động, bảo hiểm xã hội, bảo hiểm y tế",
    "hoa-giai-co-so": "Hòa giải ở cơ sở, quyền và nghĩa vụ công dân, tiếp cận pháp luật",
}


def topic_name(code: str) -> str:
    return DEFAULT_TOPICS.get(code, code)
