"""Health figures for telemetry, each read where the Pi exposes it and None where it does not."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

THERMAL = Path("/sys/class/thermal/thermal_zone0/temp")
WIRELESS = Path("/proc/net/wireless")
CHRONYC: tuple[str, ...] = ("chronyc", "-c", "tracking")


@dataclass(frozen=True)
class HealthSources:
    """Where the figures come from; tests point these at files of their own."""

    thermal: Path = THERMAL
    wireless: Path = WIRELESS
    chronyc: tuple[str, ...] = CHRONYC


def cpu_temp_c(path: Path = THERMAL) -> float | None:
    """The SoC temperature in °C (the kernel gives millidegrees)."""
    try:
        return round(int(path.read_text().strip()) / 1000, 1)
    except (OSError, ValueError):
        return None


def disk_free_bytes(path: Path) -> int | None:
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def load_1m() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def link_quality(path: Path = WIRELESS) -> int | None:
    """The first wireless interface's link quality in percent (of 70, the usual maximum), else None.

    A 4G modem or Ethernet has no line here; their quality is not readable without ModemManager.
    """
    try:
        lines = path.read_text().splitlines()[2:]
    except OSError:
        return None
    for line in lines:
        if ":" not in line:
            continue
        fields = line.split(":", 1)[1].split()
        with contextlib.suppress(IndexError, ValueError):
            return max(0, min(100, round(float(fields[1].rstrip(".")) * 100 / 70)))
    return None


def parse_chrony_tracking(csv_line: str) -> float | None:
    """Seconds the system clock is ahead of NTP time, from `chronyc -c tracking`.

    Field 5 is chrony's "System time" correction, positive when the clock is slow; we negate it
    so a positive offset means the clock runs ahead.
    """
    fields = csv_line.strip().split(",")
    try:
        return -float(fields[4])
    except (IndexError, ValueError):
        return None


async def clock_offset_s(command: Sequence[str] = CHRONYC, timeout_s: float = 2.0) -> float | None:
    """The offset chrony measures, or None when chrony is missing, not synchronised or slow to answer."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
        )
    except OSError:
        return None
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout_s)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        return None
    if proc.returncode != 0:
        return None
    return parse_chrony_tracking(out.decode("utf-8", errors="replace"))
