"""The normaliser benchmark runs on the corpus and names every candidate it could not run. Never timing."""

from __future__ import annotations

import re

import pytest

from benchmarks import normaliser


def test_normaliser_benchmark_scores_loa_xa_and_lists_skipped_candidates(capsys: pytest.CaptureFixture[str]) -> None:
    # The project venv holds none of the candidates, so each one is reported as skipped.
    assert normaliser.main([]) == 0
    out = capsys.readouterr().out
    guide = re.search(r"^\| guide \(strict\)\s*\| (\S+) %", out, re.MULTILINE)
    assert guide and float(guide.group(1)) >= 98.0
    assert re.search(r"^\| sentences/s\s*\| [\d,]+ ", out, re.MULTILINE)
    assert re.search(r"^\| document \(\d+\)\s*\| ", out, re.MULTILINE)
    for name in normaliser.CANDIDATES:
        assert f"skipped {name}: " in out


def test_words_only_ignores_punctuation_case_and_house_style() -> None:
    assert normaliser.words_only("Năm mươi bốn, Một Ngàn lẻ một.") == "năm mươi tư một nghìn linh một"
