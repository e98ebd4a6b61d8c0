"""A commune's abbreviation directory: files merged in name order, used by normalize while loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.errors import InvalidInput
from controller.text import normalize
from controller.text.commune import commune_abbreviations, load_abbreviations_dir, using_commune_abbreviations


def test_files_merge_in_name_order(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("HTXNN = hợp tác xã nông nghiệp\nĐLHT = Điện lực\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("ĐLHT = Điện lực Hương Trà\n", encoding="utf-8")
    (tmp_path / "ghi-chu.md").write_text("not read\n", encoding="utf-8")
    assert load_abbreviations_dir(tmp_path) == {"HTXNN": "hợp tác xã nông nghiệp", "ĐLHT": "Điện lực Hương Trà"}


def test_missing_directory_is_named_in_vietnamese(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_abbreviations_dir(tmp_path / "khong-co")
    assert "Không tìm thấy thư mục chữ viết tắt" in caught.value.message_vi


def test_normalize_uses_the_loaded_table_only_while_it_is_loaded() -> None:
    assert normalize("HTXNN thôn Đông.") == "HTXNN thôn Đông."
    with using_commune_abbreviations({"HTXNN": "hợp tác xã nông nghiệp", "HS": "hồ sơ"}):
        assert normalize("HTXNN thôn Đông nhận HS.") == "Hợp tác xã nông nghiệp thôn Đông nhận hồ sơ."
        assert commune_abbreviations()["HS"] == "hồ sơ"
    assert commune_abbreviations() == {}
