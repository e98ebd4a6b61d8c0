"""What the benchmarks share: a private Mosquitto, a description of the machine, and table printing."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from loa.errors import LoaError
from simulator.local import mosquitto_exe, private_mosquitto

Out = Callable[[str], None]


def mosquitto_version(exe: str) -> str:
    try:
        done = subprocess.run([exe, "-h"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return "mosquitto"
    first = (done.stdout or done.stderr).splitlines()
    return first[0].strip() if first else "mosquitto"


@contextmanager
def mosquitto_for_benchmark() -> Iterator[tuple[str, str]]:
    """A private Mosquitto (see simulator.local). Yields (mqtt URL, version line); stopped on exit."""
    try:
        exe = mosquitto_exe()
    except LoaError as exc:
        raise SystemExit(str(exc)) from None
    with private_mosquitto() as port:
        yield f"mqtt://127.0.0.1:{port}", mosquitto_version(exe)


def machine() -> str:
    """`nproc`, the CPU model and the 1-minute load (the machine may be shared), for every table."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"nproc={os.cpu_count()}, {model}, load average {os.getloadavg()[0]:.2f}"


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table, so the output can be pasted into benchmarks/README.md as it is."""
    cells = [[str(h) for h in headers], *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        if abs(value) < 10:
            return f"{value:.3f}"
        return f"{value:.1f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)
