"""Local infrastructure for tests, benchmarks and the demo: free ports and a private Mosquitto."""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from common.errors import LoaError


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def mosquitto_exe() -> str:
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(exe).exists():
        raise LoaError("mosquitto is not installed: run .ci/run or apt-get install mosquitto")
    return exe


@contextmanager
def private_mosquitto(workdir: Path | None = None) -> Iterator[int]:
    """A Mosquitto of our own on a free loopback port, anonymous, with a deep queue. Yields the port."""
    exe = mosquitto_exe()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="loa-mosquitto-") as tmp:
        base = workdir or Path(tmp)
        conf = base / "mosquitto.conf"
        conf.write_text(
            f"listener {port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence false\n"
            "max_queued_messages 100000\n"
            "max_inflight_messages 100\n"
            "log_dest stderr\n"
            "log_type error\n"
            "log_type warning\n"
        )
        with (base / "mosquitto.log").open("wb") as log:
            proc = subprocess.Popen([exe, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
            try:
                wait_for_port(port)
                yield port
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def quiet_hours_away_from_now(zone: str = "Asia/Ho_Chi_Minh", hours_ahead: int = 6) -> tuple[str, str]:
    """A two-hour quiet window that starts `hours_ahead` hours from now, local time.

    Demos and tests book broadcasts a few seconds ahead at whatever time they run; they keep quiet hours
    switched on (controller and agents) but out of the way, instead of switching them off.
    """
    start = datetime.now(ZoneInfo(zone)) + timedelta(hours=hours_ahead)
    end = start + timedelta(hours=2)
    return f"{start:%H}:00", f"{end:%H}:00"


def throwaway_admin() -> tuple[str, str]:
    """A fresh admin login for a demo or test controller: no fixed password exists anywhere."""
    return "loa-admin", secrets.token_urlsafe(18)
