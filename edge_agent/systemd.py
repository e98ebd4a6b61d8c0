"""sd_notify over a plain datagram socket: READY, STATUS, STOPPING and the watchdog ping.

No libsystemd binding: the protocol is one datagram of `KEY=value` lines to the socket named
in `$NOTIFY_SOCKET` (a leading `@` means the abstract namespace). Outside systemd it does nothing.
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)


def notify(state: str, *, env: dict[str, str] | None = None) -> bool:
    """Send `state` (e.g. "READY=1") to systemd. False, silently, when not run by systemd."""
    address = (env if env is not None else os.environ).get("NOTIFY_SOCKET")
    if not address:
        return False
    target = "\0" + address[1:] if address.startswith("@") else address
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(target)
            sock.sendall(state.encode("utf-8"))
    except OSError as exc:
        log.warning("sd_notify to %s failed: %s", address, exc)
        return False
    return True


def watchdog_interval_s(env: dict[str, str] | None = None) -> float | None:
    """Half the `WatchdogSec=` systemd set for this process, or None when there is no watchdog."""
    env = env if env is not None else dict(os.environ)
    usec = env.get("WATCHDOG_USEC")
    if not usec:
        return None
    pid = env.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):
        return None  # the watchdog is meant for another process
    try:
        return max(0.5, int(usec) / 1_000_000 / 2)
    except ValueError:
        return None
