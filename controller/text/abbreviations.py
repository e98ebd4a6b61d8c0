"""Administrative abbreviations and how to spell tokens letter by letter.

Abbreviations match whole tokens only and are case-sensitive ("CA" is "công an", "ca" is left
alone). A commune may add or override entries with a plain text file of `KEY = expansion` lines,
read by `load_abbreviations`; blank lines and lines starting with `#` are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from controller.errors import InvalidInput
from controller.text.numbers import DIGITS

_DEFAULTS: dict[str, str] = {
    # Authorities and organisations
    "UBND": "Ủy ban nhân dân",
    "HĐND": "Hội đồng nhân dân",
    "MTTQ": "Mặt trận Tổ quốc",
    "MTTQVN": "Mặt trận Tổ quốc Việt Nam",
    "UBMTTQ": "Ủy ban Mặt trận Tổ quốc",
    "UBMTTQVN": "Ủy ban Mặt trận Tổ quốc Việt Nam",
    "QH": "Quốc hội",
    "ĐBQH": "đại biểu Quốc hội",
    "UBTVQH": "Ủy ban Thường vụ Quốc hội",
    "CP": "Chính phủ",
    "TTg": "Thủ tướng Chính phủ",
    "VPCP": "Văn phòng Chính phủ",
    "BTP": "Bộ Tư pháp",
    "BCA": "Bộ Công an",
    "BTC": "Bộ Tài chính",
    "BYT": "Bộ Y tế",
    "BQP": "Bộ Quốc phòng",
    "BGDĐT": "Bộ Giáo dục và Đào tạo",
    "BTNMT": "Bộ Tài nguyên và Môi trường",
    "BGTVT": "Bộ Giao thông vận tải",
    "BNNPTNT": "Bộ Nông nghiệp và Phát triển nông thôn",
    "BLĐTBXH": "Bộ Lao động - Thương binh và Xã hội",
    "SGD&ĐT": "Sở Giáo dục và Đào tạo",
    "PGD&ĐT": "Phòng Giáo dục và Đào tạo",
    "STP": "Sở Tư pháp",
    "TW": "Trung ương",
    "TƯ": "Trung ương",
    "CA": "công an",
    "CAX": "công an xã",
    "CSGT": "cảnh sát giao thông",
    "BCĐ": "Ban Chỉ đạo",
    "BQL": "Ban Quản lý",
    "BCH": "Ban Chấp hành",
    "UBKT": "Ủy ban Kiểm tra",
    "HTX": "hợp tác xã",
    "HLHPN": "Hội Liên hiệp Phụ nữ",
    "HND": "Hội Nông dân",
    "CCB": "Cựu chiến binh",
    "ĐTN": "Đoàn Thanh niên",
    "TDP": "tổ dân phố",
    "KDC": "khu dân cư",
    "TP": "thành phố",
    "Tp": "thành phố",
    "TX": "thị xã",
    "HCM": "Hồ Chí Minh",
    "TPHCM": "Thành phố Hồ Chí Minh",
    "CHXHCN": "Cộng hòa xã hội chủ nghĩa",
    "XHCN": "xã hội chủ nghĩa",
    "THCS": "trung học cơ sở",
    "THPT": "trung học phổ thông",
    # Kinds of documents
    "QĐ": "quyết định",
    "KH": "kế hoạch",
    "NĐ": "nghị định",
    "NĐ-CP": "nghị định Chính phủ",
    "NQ": "nghị quyết",
    "TT": "thông tư",
    "CT": "chỉ thị",
    "TB": "thông báo",
    "CV": "công văn",
    "BC": "báo cáo",
    "HD": "hướng dẫn",
    "QCVN": "quy chuẩn Việt Nam",
    "TCVN": "tiêu chuẩn Việt Nam",
    # Subjects of legal education
    "PBGDPL": "phổ biến, giáo dục pháp luật",
    "GDPL": "giáo dục pháp luật",
    "BHXH": "bảo hiểm xã hội",
    "BHYT": "bảo hiểm y tế",
    "BHTN": "bảo hiểm thất nghiệp",
    "PCCC": "phòng cháy chữa cháy",
    "CNCH": "cứu nạn, cứu hộ",
    "CCCD": "căn cước công dân",
    "CMND": "chứng minh nhân dân",
    "GPLX": "giấy phép lái xe",
    "GCN": "giấy chứng nhận",
    "QSDĐ": "quyền sử dụng đất",
    "TTHC": "thủ tục hành chính",
    "DVC": "dịch vụ công",
    "TNCN": "thu nhập cá nhân",
    "VPHC": "vi phạm hành chính",
    "ATGT": "an toàn giao thông",
    "TNGT": "tai nạn giao thông",
    "ATTP": "an toàn thực phẩm",
    "ANTT": "an ninh trật tự",
    "KT-XH": "kinh tế - xã hội",
    "QP-AN": "quốc phòng - an ninh",
    "NTM": "nông thôn mới",
    "CBCC": "cán bộ, công chức",
    "NCT": "người cao tuổi",
    "NKT": "người khuyết tật",
    "GD&ĐT": "giáo dục và đào tạo",
    "TN&MT": "tài nguyên và môi trường",
    "VNeID": "vê en e ai đi",
    "OTP": "ô tê pê",
    "ATM": "a tê em",
    "SĐT": "số điện thoại",
    "ĐT": "điện thoại",
    "COVID-19": "Cô-vít mười chín",
    "VNĐ": "đồng",
    "VND": "đồng",
    # Letter formulas
    "đ/c": "đồng chí",
    "Đ/c": "đồng chí",
    "v/v": "về việc",
    "V/v": "về việc",
    "K/g": "kính gửi",
    "b/c": "để báo cáo",
    "B/c": "để báo cáo",
    "t/h": "thực hiện",
    # Added from the corpus of real notices (tests/controller/text/corpus)
    "CNTT": "công nghệ thông tin",
    "PTNT": "phát triển nông thôn",
    "NN&PTNT": "Nông nghiệp và Phát triển nông thôn",
    "KH&ĐT": "Kế hoạch và Đầu tư",
    "KH&CN": "Khoa học và Công nghệ",
    "TT&TT": "Thông tin và Truyền thông",
    "LĐ-TB&XH": "Lao động - Thương binh và Xã hội",
    "LĐTB&XH": "Lao động - Thương binh và Xã hội",
    "VH-TT&DL": "Văn hóa, Thể thao và Du lịch",
    "VHTT&DL": "Văn hóa, Thể thao và Du lịch",
    "PCTT&TKCN": "phòng chống thiên tai và tìm kiếm cứu nạn",
    "PCTT": "phòng chống thiên tai",
    "TKCN": "tìm kiếm cứu nạn",
    "PCT": "Phó Chủ tịch",
    "DTTS": "dân tộc thiểu số",
    "CBCS": "cán bộ, chiến sĩ",
    "TTATGT": "trật tự an toàn giao thông",
    "MTQG": "mục tiêu quốc gia",
    "CTMTQG": "chương trình mục tiêu quốc gia",
    "VSMT": "vệ sinh môi trường",
    "BVMT": "bảo vệ môi trường",
    "ATVSTP": "an toàn vệ sinh thực phẩm",
    "TCMR": "tiêm chủng mở rộng",
    "TYT": "Trạm Y tế",
    "TTYT": "Trung tâm Y tế",
    "SXH": "sốt xuất huyết",
    "LMLM": "lở mồm long móng",
    "DTLCP": "dịch tả lợn châu Phi",
    "GTGT": "giá trị gia tăng",
    "TNDN": "thu nhập doanh nghiệp",
    "SDĐPNN": "sử dụng đất phi nông nghiệp",
    "NNT": "Người nộp thuế",
    "TCT": "Tổng cục Thuế",
    "CSDL": "cơ sở dữ liệu",
    "CSDLQG": "cơ sở dữ liệu quốc gia",
    "NVQS": "nghĩa vụ quân sự",
    "BCHQS": "Ban Chỉ huy Quân sự",
    "DQTV": "dân quân tự vệ",
    "LLVT": "lực lượng vũ trang",
    "TNTN": "Thanh niên tình nguyện",
    "LHPN": "Liên hiệp Phụ nữ",
    "DVVL": "Dịch vụ việc làm",
    "GTVT": "Giao thông vận tải",
    "SGTVT": "Sở Giao thông vận tải",
    "SYT": "Sở Y tế",
    "STNMT": "Sở Tài nguyên và Môi trường",
    "SLĐTBXH": "Sở Lao động - Thương binh và Xã hội",
    "SGDĐT": "Sở Giáo dục và Đào tạo",
    "PGDĐT": "Phòng Giáo dục và Đào tạo",
    "BTTTT": "Bộ Thông tin và Truyền thông",
    "BKHĐT": "Bộ Kế hoạch và Đầu tư",
    "BKHCN": "Bộ Khoa học và Công nghệ",
    "BVHTTDL": "Bộ Văn hóa, Thể thao và Du lịch",
    "BATGT": "Ban An toàn giao thông",
    "TĐTN": "Thành đoàn",
    "TU": "Tỉnh ủy",
    "HU": "Huyện ủy",
    "ĐU": "Đảng ủy",
    "VT": "văn thư",
    "MBA": "máy biến áp",
    "TBA": "trạm biến áp",
    "ĐZ": "đường dây",
    "CSKH": "chăm sóc khách hàng",
    "EVN": "e vê en",
    "EVNCPC": "e vê en xê pê xê",
    "EVNNPC": "e vê en en pê xê",
    "EVNSPC": "e vê en ét pê xê",
    "VssID": "vê ét ét ai đi",
    "MN": "mầm non",
    "KT&HT": "Kinh tế và Hạ tầng",
    "VH&TT": "Văn hóa và Thông tin",
    "BTXH": "bảo trợ xã hội",
    "TCM": "tay chân miệng",
    "GPMB": "giải phóng mặt bằng",
    "OCOP": "ô cốp",
}

DEFAULT_ABBREVIATIONS: Mapping[str, str] = MappingProxyType(_DEFAULTS)
"""Abbreviations every commune gets; a commune's file adds to or overrides them."""

LETTER_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "a": "a",
        "b": "bê",
        "c": "xê",
        "d": "dê",
        "đ": "đê",
        "e": "e",
        "f": "ép",
        "g": "giê",
        "h": "hát",
        "i": "i",
        "j": "gi",
        "k": "ca",
        "l": "e lờ",
        "m": "em",
        "n": "en",
        "o": "o",
        "p": "pê",
        "q": "quy",
        "r": "e rờ",
        "s": "ét",
        "t": "tê",
        "u": "u",
        "v": "vê",
        "w": "vê kép",
        "x": "ích",
        "y": "i dài",
        "z": "dét",
    }
)
"""Vietnamese names of Latin letters, used to spell unknown tokens."""

_KEY = re.compile(r"\S+")
SENTENCE_START = re.compile(r"(?:^|\n|[.!?]\s)$")


def spell(token: str) -> str:
    """Spell a token letter by letter and digit by digit: "gov" → "giê o vê", "a1" → "a một"."""
    words = []
    for c in token.lower():
        if c.isascii() and c.isdigit():
            words.append(DIGITS[int(c)])
        else:
            words.append(LETTER_NAMES.get(c, "và" if c == "&" else c))
    return " ".join(words)


def load_abbreviations(path: Path) -> dict[str, str]:
    """Read a commune's `KEY = expansion` file; raise InvalidInput naming the first bad line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            f"cannot read abbreviation file {path}: {exc}",
            f"Không đọc được tệp viết tắt {path.name}: tệp không tồn tại hoặc không phải UTF-8.",
        ) from exc
    entries: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = (part.strip() for part in line.partition("="))
        problem = _line_problem(key, sep, value, entries)
        if problem:
            english, vietnamese = problem
            raise InvalidInput(
                f"{path.name} line {number}: {english}: {raw!r}",
                f"Tệp {path.name}, dòng {number}: {vietnamese}: «{raw.strip()}»",
            )
        entries[key] = value
    return entries


def _line_problem(key: str, sep: str, value: str, seen: Mapping[str, str]) -> tuple[str, str] | None:
    if not sep:
        return "expected 'KEY = expansion'", "thiếu dấu «=», cần viết «CHỮ VIẾT TẮT = cách đọc»"
    if not _KEY.fullmatch(key):
        return "the abbreviation must be one word", "chữ viết tắt phải là một từ, không có khoảng trắng"
    if not value:
        return "the expansion is empty", "chưa ghi cách đọc sau dấu «=»"
    if key in seen:
        return f"{key} is defined twice", f"chữ viết tắt {key} bị khai báo hai lần"
    return None


@lru_cache(maxsize=32)
def _pattern(keys: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))
    # Whole tokens only: no letter or digit on either side, and not part of a "GD&ĐT" or "đ/c" form.
    return re.compile(rf"(?<![\w&/])(?:{alternatives})(?![\w&/])")


def expand_abbreviations(text: str, table: Mapping[str, str]) -> str:
    """Replace whole-token, case-sensitive abbreviations by their expansions."""
    if not table:
        return text
    pattern = _pattern(tuple(sorted(table)))

    def expansion(m: re.Match[str]) -> str:
        words = table[m.group(0)]
        # A sentence that starts with an abbreviation still starts with a capital.
        if SENTENCE_START.search(m.string, 0, m.start()) or m.start() == 0:
            return words[:1].upper() + words[1:]
        return words

    return pattern.sub(expansion, text)
