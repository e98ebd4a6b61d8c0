"""Vietnamese readings of cardinals, digit strings, decimals, months, ordinals and Roman numerals."""

from __future__ import annotations

import pytest

from controller.text.numbers import read_decimal, read_digits, read_month, read_number, read_ordinal, roman_to_int


@pytest.mark.parametrize(
    ("n", "spoken"),
    [
        pytest.param(0, "không", id="0"),
        pytest.param(1, "một", id="1"),
        pytest.param(4, "bốn", id="4-bon"),
        pytest.param(5, "năm", id="5-nam"),
        pytest.param(10, "mười", id="10"),
        pytest.param(11, "mười một", id="11-mot-not-mot"),
        pytest.param(14, "mười bốn", id="14-bon"),
        pytest.param(15, "mười lăm", id="15-lam"),
        pytest.param(20, "hai mươi", id="20-muoi"),
        pytest.param(21, "hai mươi mốt", id="21-mot"),
        pytest.param(24, "hai mươi tư", id="24-tu"),
        pytest.param(25, "hai mươi lăm", id="25-lam"),
        pytest.param(30, "ba mươi", id="30"),
        pytest.param(55, "năm mươi lăm", id="55"),
        pytest.param(99, "chín mươi chín", id="99"),
        pytest.param(100, "một trăm", id="100"),
        pytest.param(101, "một trăm linh một", id="101-linh"),
        pytest.param(104, "một trăm linh bốn", id="104-linh-bon"),
        pytest.param(105, "một trăm linh năm", id="105-linh-nam"),
        pytest.param(110, "một trăm mười", id="110"),
        pytest.param(111, "một trăm mười một", id="111"),
        pytest.param(115, "một trăm mười lăm", id="115"),
        pytest.param(121, "một trăm hai mươi mốt", id="121"),
        pytest.param(999, "chín trăm chín mươi chín", id="999"),
        pytest.param(1000, "một nghìn", id="1000"),
        pytest.param(1001, "một nghìn không trăm linh một", id="1001"),
        pytest.param(1005, "một nghìn không trăm linh năm", id="1005"),
        pytest.param(1010, "một nghìn không trăm mười", id="1010"),
        pytest.param(1015, "một nghìn không trăm mười lăm", id="1015"),
        pytest.param(1369, "một nghìn ba trăm sáu mươi chín", id="1369"),
        pytest.param(2026, "hai nghìn không trăm hai mươi sáu", id="2026"),
        pytest.param(10000, "mười nghìn", id="10000"),
        pytest.param(15000, "mười lăm nghìn", id="15000"),
        pytest.param(100000, "một trăm nghìn", id="100000"),
        pytest.param(500000, "năm trăm nghìn", id="500000"),
        pytest.param(1000000, "một triệu", id="1000000"),
        pytest.param(1000001, "một triệu không trăm linh một", id="1000001"),
        pytest.param(1001000, "một triệu không trăm linh một nghìn", id="1001000"),
        pytest.param(1200000, "một triệu hai trăm nghìn", id="1200000"),
        pytest.param(1000000000, "một tỷ", id="1000000000"),
        pytest.param(2500000000, "hai tỷ năm trăm triệu", id="2500000000"),
        pytest.param(2000000005, "hai tỷ không trăm linh năm", id="2000000005"),
        pytest.param(1000000000000, "một nghìn tỷ", id="1000000000000"),
    ],
)
def test_read_number(n: int, spoken: str) -> None:
    assert read_number(n) == spoken


def test_read_number_negative() -> None:
    assert read_number(-5) == "âm năm"


@pytest.mark.parametrize(
    ("digits", "spoken"),
    [
        pytest.param("0912", "không chín một hai", id="mobile-prefix"),
        pytest.param("113", "một một ba", id="hotline"),
        pytest.param("0", "không", id="zero"),
        pytest.param("4705", "bốn bảy không năm", id="four-seven"),
    ],
)
def test_read_digits(digits: str, spoken: str) -> None:
    assert read_digits(digits) == spoken


@pytest.mark.parametrize("bad", ["", "12a", "1 2", "١٢"], ids=["empty", "letter", "space", "arabic-indic"])
def test_read_digits_rejects_non_digits(bad: str) -> None:
    with pytest.raises(ValueError, match="ASCII digits"):
        read_digits(bad)


@pytest.mark.parametrize(
    ("integer", "fraction", "spoken"),
    [
        pytest.param("2", "5", "hai phẩy năm", id="2,5"),
        pytest.param("2", "05", "hai phẩy không năm", id="2,05-leading-zero"),
        pytest.param("12", "25", "mười hai phẩy hai mươi lăm", id="12,25"),
        pytest.param("0", "5", "không phẩy năm", id="0,5"),
        pytest.param("3", "0", "ba phẩy không", id="3,0"),
    ],
)
def test_read_decimal(integer: str, fraction: str, spoken: str) -> None:
    assert read_decimal(integer, fraction) == spoken


@pytest.mark.parametrize(("month", "spoken"), [(1, "một"), (4, "tư"), (5, "năm"), (11, "mười một"), (12, "mười hai")])
def test_read_month(month: int, spoken: str) -> None:
    assert read_month(month) == spoken


@pytest.mark.parametrize(("n", "spoken"), [(1, "nhất"), (2, "hai"), (4, "tư"), (7, "bảy"), (14, "mười bốn")])
def test_read_ordinal(n: int, spoken: str) -> None:
    assert read_ordinal(n) == spoken


@pytest.mark.parametrize(
    ("numeral", "value"),
    [("I", 1), ("IV", 4), ("IX", 9), ("XIV", 14), ("XV", 15), ("XXI", 21), ("IIII", None), ("VX", None), ("", None)],
)
def test_roman_to_int(numeral: str, value: int | None) -> None:
    assert roman_to_int(numeral) == value
