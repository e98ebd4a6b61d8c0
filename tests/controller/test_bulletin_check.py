"""`loa bulletin check`: the estimate tracks the real render, and problems are named in Vietnamese."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from controller.audio import EspeakEngine, Voice
from controller.audio.estimate import estimate_seconds
from controller.services.bulletin_check import check_bulletin_file

SAMPLE = Path(__file__).resolve().parents[2] / "bulletins" / "an-ninh-mang-lua-dao-truc-tuyen.md"


@pytest.mark.parametrize("voice", ["vi", "vi-vn-x-central", "vi-vn-x-south"])
def test_estimate_is_within_ten_percent_of_the_real_synthesis(voice: str) -> None:
    check = check_bulletin_file(SAMPLE)
    real = EspeakEngine().synthesize(check.spoken_text, Voice(engine="espeak-ng", name=voice)).duration_s
    estimate = estimate_seconds(check.spoken_text, Voice(engine="espeak-ng", name=voice))
    assert estimate == pytest.approx(real, rel=0.10)


def test_minutes_and_seconds_never_show_sixty() -> None:
    from controller.services.bulletin_check import _mmss

    assert (_mmss(239.6), _mmss(180.0), _mmss(299.4)) == ("4:00", "3:00", "4:59")


def test_sample_bulletin_passes() -> None:
    check = check_bulletin_file(SAMPLE)
    assert check.problems == []
    assert 180 <= check.estimated_s <= 300
    assert not any(c.isdigit() for c in check.spoken_text)


def test_short_bulletin_with_a_custom_topic_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "ngan.md"
    path.write_text('---\ntitle: "Họp"\ntopic: rieng-cua-xa\n---\nHọp lúc 17h30 ngày 27/5/2026 tại UBND xã.\n')
    check = check_bulletin_file(path)
    assert "mười bảy giờ ba mươi phút" in check.spoken_text
    assert any("3–5 phút" in p for p in check.problems)
    assert any("rieng-cua-xa" in n for n in check.notes)


def test_emergency_bulletins_are_exempt_from_the_length_rule(tmp_path: Path) -> None:
    path = tmp_path / "khan.md"
    path.write_text(
        '---\ntitle: "Bão"\ntopic: giao-thong-pccc\npriority: emergency\n---\nBão sắp đổ bộ, bà con vào nơi an toàn.\n'
    )
    assert check_bulletin_file(path).problems == []


def test_cli_exit_codes_and_vietnamese_errors(tmp_path: Path) -> None:
    bad = tmp_path / "hong.md"
    bad.write_text("không có khai báo\n")
    ok = subprocess.run(
        [sys.executable, "-m", "loa.cli", "bulletin", "check", str(SAMPLE)], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    assert "Không phát hiện vấn đề." in ok.stdout
    failed = subprocess.run(
        [sys.executable, "-m", "loa.cli", "bulletin", "check", str(bad), str(tmp_path / "missing.md")],
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 1
    assert "thiếu phần khai báo" in failed.stdout
    assert "Không tìm thấy tệp." in failed.stdout


def test_ambiguous_abbreviation_is_a_problem_for_the_officer(tmp_path: Path) -> None:
    path = tmp_path / "mo-ho.md"
    path.write_text('---\ntitle: "Thông báo"\ntopic: giao-thong-pccc\npriority: emergency\n---\nHS nộp tại xã.\n')
    check = check_bulletin_file(path)
    assert check.problems == ["Chữ viết tắt có nhiều cách đọc: HS. Hãy viết rõ ra hoặc ghim cách đọc cho bản tin."]


def test_cli_reads_the_communes_abbreviation_directory(tmp_path: Path) -> None:
    words = tmp_path / "viet-tat"
    words.mkdir()
    (words / "xa.txt").write_text("HS = hồ sơ\nĐLHT = Điện lực Hương Trà\n", encoding="utf-8")
    path = tmp_path / "dien.md"
    path.write_text(
        '---\ntitle: "Cắt điện"\ntopic: giao-thong-pccc\npriority: emergency\n---\n'
        "Theo Thông báo số 38/TB-ĐLHT, HS nộp tại xã.\n",
        encoding="utf-8",
    )
    env = {"LOA_ABBREVIATIONS_DIR": str(words), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "loa.cli", "bulletin", "check", str(path)], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "số ba mươi tám của Điện lực Hương Trà, hồ sơ nộp tại xã." in done.stdout
    (words / "zz.txt").write_text("HS học sinh\n", encoding="utf-8")
    bad = subprocess.run(
        [sys.executable, "-m", "loa.cli", "bulletin", "check", str(path)], capture_output=True, text=True, env=env
    )
    assert bad.returncode == 1
    assert "Tệp zz.txt, dòng 1: thiếu dấu «=»" in bad.stdout
