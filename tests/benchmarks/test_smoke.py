"""The benchmarks at a tiny size: they run, print their tables, and lose or duplicate nothing. Never timing."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest

from benchmarks import dispatch, ingest


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The benchmarks quieten the agents' loggers for their tables; later tests need them back."""
    saved = {name: logging.getLogger(name).level for name in ("", "edge_agent")}
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def _row(output: str, label: str) -> str:
    match = re.search(rf"^\| {re.escape(label)}\s*\| (.+?)\s*\|$", output, re.MULTILINE)
    assert match, f"no row {label!r} in:\n{output}"
    return match.group(1)


def test_dispatch_benchmark_delivers_every_manifest_and_stores_every_confirmation_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert dispatch.main(["--agents", "5", "--lead", "3"]) == 0
    out = capsys.readouterr().out
    assert _row(out, "confirmations stored (finished)") == "5/5"
    assert _row(out, "lost (expected − stored)") == "0"
    assert _row(out, "duplicate PlayEvent rows") == "0"
    assert _row(out, "plays started more than once") == "0"
    assert "| agents | raw fan-out (s) |" in out


def test_ingest_benchmark_on_sqlite_stores_each_confirmation_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert ingest.main(["--count", "200", "--no-postgres"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("| SQLite"))
    assert "| 0 new / 200 dup" in row


@pytest.mark.postgres
def test_ingest_benchmark_on_postgres_stores_each_confirmation_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert ingest.main(["--count", "200"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("| PostgreSQL"))
    assert "| 0 new / 200 dup" in row
