"""The start-skew benchmark at a tiny size: every agent starts each run once and gets a skew. Never timing."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from benchmarks import skew


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The benchmark quietens the agents' loggers for its table; later tests need them back."""
    saved = {name: logging.getLogger(name).level for name in ("", "edge_agent")}
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def test_skew_benchmark_measures_every_agents_start_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert skew.main(["--agents", "3"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ") and not line.startswith("| run ")]
    assert [row.split("|")[1].strip() for row in rows] == [
        "OS timers: asyncio tasks, SystemClock.sleep_until",
        "emergency, audio not cached",
        "emergency, audio cached",
        "booking at one instant, 5 s ahead",
    ]
    for row in rows:
        cells = [c.strip() for c in row.split("|")[1:-1]]
        assert cells[1] == "3/3", row
        assert all(float(c.replace(",", "")) >= 0 for c in cells[2:6]), row  # p50, p99, max, spread computed
    assert "plays started more than once: 0" in out
