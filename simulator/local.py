"""Local infrastructure for tests, benchmarks and the demo: free ports and a private Mosquitto."""

from __future__ import annotations

import os
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
def _broker_process(exe: str, conf: Path, log_path: Path, port: int, timeout: float = 10.0) -> Iterator[int]:
    """Run a broker on its config file until the block ends, logging to `log_path`; yields once `port` answers."""
    with log_path.open("wb") as log:
        proc = subprocess.Popen([exe, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_port(port, timeout=timeout)
            yield port
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


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
        with _broker_process(exe, conf, base / "mosquitto.log", port):
            yield port


@contextmanager
def private_nats(workdir: Path) -> Iterator[int]:
    """Debian's nats-server as an MQTT broker on a free loopback port, anonymous. Yields the MQTT port.

    Its MQTT server needs JetStream (sessions, retained messages and QoS 1 live there) and a server name.
    """
    exe = shutil.which("nats-server") or "/usr/sbin/nats-server"
    if not Path(exe).exists():
        raise LoaError("nats-server is not installed: apt-get install nats-server")
    workdir.mkdir(parents=True, exist_ok=True)
    client_port, mqtt_port = free_port(), free_port()
    conf = workdir / "nats.conf"
    conf.write_text(
        f"listen: 127.0.0.1:{client_port}\n"
        f"server_name: loa-nats-{mqtt_port}\n"
        f'jetstream {{ store_dir: "{workdir / "jetstream"}" }}\n'
        f"mqtt {{ listen: 127.0.0.1:{mqtt_port} }}\n"
    )
    with _broker_process(exe, conf, workdir / "nats.log", mqtt_port, timeout=30):
        yield mqtt_port


DYNSEC_PLUGIN_PATHS = (
    "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so",
    "/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so",
    "/usr/lib/mosquitto_dynamic_security.so",
)


def dynsec_plugin() -> str:
    """The dynamic-security plugin Debian's mosquitto package ships."""
    for path in DYNSEC_PLUGIN_PATHS:
        if Path(path).exists():
            return path
    raise LoaError("mosquitto's dynamic-security plugin is missing: apt-get install mosquitto (2.0 or newer)")


@contextmanager
def secured_mosquitto(workdir: Path, admin: tuple[str, str]) -> Iterator[int]:
    """A Mosquitto configured as firmware_config/mosquitto/ ships it: no anonymous access, client id = login,
    logins and ACLs in the dynamic-security plugin. Only `admin` exists at first. Yields the port."""
    exe = mosquitto_exe()
    ctrl = shutil.which("mosquitto_ctrl")
    if ctrl is None:
        raise LoaError("mosquitto_ctrl is not installed: apt-get install mosquitto")
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    # The plugin's state lives in a directory of its own under the system temp dir: started as root, mosquitto
    # runs as its own user, which must reach it (pytest's temp dirs are private to root).
    state_dir = Path(tempfile.mkdtemp(prefix="loa-dynsec-"))
    state = state_dir / "dynamic-security.json"
    subprocess.run([ctrl, "dynsec", "init", str(state), *admin], check=True, capture_output=True)
    _hand_to_broker_user(state_dir, state)
    conf = workdir / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\n"
        "per_listener_settings false\n"
        "allow_anonymous false\n"
        "use_username_as_clientid true\n"
        f"plugin {dynsec_plugin()}\n"
        f"plugin_opt_config_file {state}\n"
        "persistence false\n"
        "max_queued_messages 100000\n"
        "log_dest stderr\n"
        "log_type error\n"
        "log_type warning\n"
    )
    try:
        with _broker_process(exe, conf, workdir / "mosquitto.log", port):
            yield port
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)


def _hand_to_broker_user(*paths: Path) -> None:
    """Started as root, mosquitto drops to its own user, which must read and rewrite the plugin's state file."""
    if os.geteuid() != 0:
        return
    import pwd

    try:
        user = pwd.getpwnam("mosquitto")
    except KeyError:
        return
    for path in paths:
        os.chown(path, user.pw_uid, user.pw_gid)


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
