"""The render benchmark at a tiny size: it runs and prints every row. Never timing."""

from __future__ import annotations

import re

import pytest

from benchmarks import render


def _cells(output: str, label: str) -> list[str]:
    match = re.search(rf"^\| {re.escape(label)}\s*\| (.+?)\s*\|$", output, re.MULTILINE)
    assert match, f"no row {label!r} in:\n{output}"
    return [cell.strip() for cell in match.group(1).split("|")]


def test_render_benchmark_prints_speed_loudness_size_and_cache_rows(capsys: pytest.CaptureFixture[str]) -> None:
    assert render.main(["--words", "40", "--voices", "vi", "vi-vn-x-south", "--lookups", "20"]) == 0
    out = capsys.readouterr().out
    assert "| voice | audio (s) | baseline: synthesis only (x real time) |" in re.sub(r" {2,}", " ", out)
    for voice in ("vi", "vi-vn-x-south"):
        cells = _cells(out, voice)
        assert len(cells) == 9
        lufs, peak, size_ratio = float(cells[4]), float(cells[5]), float(cells[8])
        assert abs(lufs + 16) <= 1 and peak <= -1.5
        assert size_ratio == pytest.approx(32 / 128, abs=0.06)  # 32 kbps against 128 kbps
    for label in ("render, cache miss", "cache hit, median", "cache hit, p95", "miss / hit"):
        assert _cells(out, label)
