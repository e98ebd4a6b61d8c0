"""What the benchmarks share: a private Mosquitto, a real controller, a description of the machine, tables."""

from __future__ import annotations

import logging
import os
import subprocess
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from common.errors import LoaError
from controller.app import create_app
from controller.config import Settings
from controller.runtime import Controller
from controller.server import ServerThread
from simulator.fleet import FleetSpec
from simulator.local import free_port, mosquitto_exe, private_mosquitto, quiet_hours_away_from_now, throwaway_admin
from simulator.province import generate_layout, seed_province
from simulator.steps import submit_and_approve

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


def quiet_logging() -> None:
    """Warnings only; the agents' per-play errors are left out (a late or failed play shows in the table)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("edge_agent").setLevel(logging.ERROR)


def ok(response: httpx.Response) -> Any:
    """The response's JSON, or a RuntimeError naming the request that failed."""
    if response.is_error:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response.json()


def recv(conn: Connection, timeout: float, what: str) -> Any:
    """The next message from a benchmark's child process, or TimeoutError naming what was awaited."""
    if not conn.poll(timeout):
        raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
    return conn.recv()


def spawned_children_cpu_s() -> float:
    """CPU seconds used so far by this process's spawned Python children (simulator workers, subscribers).

    Mosquitto is a child too, but not a `multiprocessing` one, so it is left out.
    """
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for children in Path(f"/proc/{os.getpid()}/task").glob("*/children"):
        for pid in children.read_text().split():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if b"multiprocessing" in cmdline:
                total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


@dataclass
class BenchController:
    """A real controller for a benchmark: HTTP in a thread, SQLite in a temporary directory, scheduler, bus."""

    controller: Controller
    settings: Settings
    api: httpx.Client

    @property
    def base_url(self) -> str:
        return self.settings.resolved_public_base_url

    def fleet_spec(self, state_root: Path, speed: float) -> FleetSpec:
        return FleetSpec(
            quiet_hours=quiet_hours_away_from_now(),
            broker_url=self.controller.broker_url,
            public_key=self.controller.public_key,
            topic_root=self.settings.topic_root,
            media_base_url=self.base_url,
            state_root=state_root,
            speed=speed,
        )

    def seed_commune(self, agents: int) -> tuple[int, list[str]]:
        """One commune of `agents` clusters, registered in one transaction (over HTTP it is ~10 s per 1,000)."""
        prefix = f"b{uuid.uuid4().hex[:6]}"
        layout = generate_layout(agents, per_commune=agents, prefix=prefix)
        seeded = seed_province(self.controller, layout, quiet_hours_away_from_now())
        return seeded.commune_ids[layout.communes[0].code], seeded.agent_ids

    def approved_bulletin(self, data: dict[str, Any]) -> dict[str, Any]:
        """Create, render and approve a bulletin; returns the rendered asset with the bulletin's `id`."""
        bulletin = ok(self.api.post("/api/bulletins", json=data))
        asset = ok(self.api.post(f"/api/bulletins/{bulletin['id']}/render"))
        submit_and_approve(self.api, bulletin["id"], override="benchmark: short test audio")
        return {**asset, "id": bulletin["id"]}


@contextmanager
def bench_controller(broker_url: str, workdir: Path) -> Iterator[BenchController]:
    """Start a controller on `broker_url` with its own topic root and a throwaway admin; stop it on exit."""
    run = uuid.uuid4().hex[:8]
    port = free_port()
    admin = throwaway_admin()
    settings = Settings(
        admin_username=admin[0],
        admin_password=SecretStr(admin[1]),
        data_dir=workdir / "controller",
        mqtt_url=broker_url,
        embedded_mqtt_port=free_port(),
        http_port=port,
        mqtt_client_id=f"bench-{run}",
        topic_root=f"bench{run}/loa/v1",
    )
    app = create_app(settings)
    server = ServerThread(app, settings.http_host, port)
    server.start()
    try:
        with httpx.Client(base_url=settings.resolved_public_base_url, timeout=120, auth=admin) as api:
            yield BenchController(app.state.controller, settings, api)
    finally:
        server.stop()
