"""benchmarks.agent_resources at a tiny size: it runs a real agent and a paho baseline and prints its table.

It never asserts on the figures themselves (the machine is shared); only that they were measured.
"""

from __future__ import annotations

import re

import pytest

from benchmarks import agent_resources


def test_agent_resources_benchmark_measures_agent_and_baseline(capsys: pytest.CaptureFixture[str]) -> None:
    assert agent_resources.main(["--idle-s", "1", "--play-s", "1", "--settle-s", "0.5"]) == 0
    out = capsys.readouterr().out
    rows = re.findall(r"^\| (paho-mqtt baseline|loa agent)\s*\| (\w+)[^|]*\| ([\d.]+)\s*\|", out, re.MULTILINE)
    assert [(name, phase) for name, phase, _ in rows] == [
        ("paho-mqtt baseline", "idle"),
        ("loa agent", "idle"),
        ("loa agent", "playing"),
    ]
    assert all(float(rss) > 5 for _, _, rss in rows)  # a real process was measured
    assert "targets: idle RSS ≤ 40 MB:" in out
