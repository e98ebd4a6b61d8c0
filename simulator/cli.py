"""`loa sim`: a province-scale slot on a local controller, or simulated agents against a running one."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import tempfile
from pathlib import Path
from typing import Any

import httpx

from common.broker_url import redact_url
from controller.dispatch.broker_auth import DerivedCredentials
from simulator.fleet import FleetSpec
from simulator.pool import FleetPool
from simulator.province import generate_layout, load_layout
from simulator.slot import SlotOptions, run_slot, write_json


def _ok(response: httpx.Response) -> Any:
    if response.is_error:
        raise SystemExit(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response.json()


def ensure_agents(api: httpx.Client, agents: int) -> list[str]:
    """Register `sim-0001`... in a simulated commune unless the controller already has them."""
    existing = {a["id"] for a in _ok(api.get("/api/agents"))}
    ids = [f"sim-{i:04d}" for i in range(1, agents + 1)]
    missing = [a for a in ids if a not in existing]
    if missing:
        communes = [c for c in _ok(api.get("/api/communes")) if c["code"] == "sim-x"]
        if communes:
            commune_id = communes[0]["id"]
        else:
            province = _ok(api.post("/api/provinces", json={"code": "sim-p", "name": "Tỉnh Mô Phỏng"}))
            commune_id = _ok(
                api.post(
                    "/api/communes",
                    json={"province_id": province["id"], "code": "sim-x", "name": "Xã Mô Phỏng"},
                )
            )["id"]
        for agent_id in missing:
            _ok(api.post("/api/agents", json={"id": agent_id, "commune_id": commune_id}))
    return ids


def embedded_credentials(controller_data_dir: Path) -> DerivedCredentials:
    """Agent logins for the controller's embedded broker, derived from its secret (same machine only)."""
    secret_file = controller_data_dir / "mqtt_secret"
    if not secret_file.exists():
        raise SystemExit(f"{secret_file} not found: is --controller-data-dir the controller's data directory?")
    return DerivedCredentials(bytes.fromhex(secret_file.read_text().strip()))


def run_agents(
    *,
    agents: int,
    controller_url: str,
    broker_url: str,
    speed: float,
    state_dir: Path | None,
    controller_data_dir: Path | None = None,
    login: tuple[str, str] | None = None,
    processes: int | None = None,
) -> int:
    """Simulated agents against a running controller, until Ctrl-C. Bookings are the controller's business."""
    with httpx.Client(base_url=controller_url, timeout=30, auth=login) as api:
        system = _ok(api.get("/api/system"))
        ids = ensure_agents(api, agents)
    spec = FleetSpec(
        broker_url=broker_url,
        public_key=system["public_key"],
        topic_root=system["topic_root"],
        media_base_url=controller_url,
        state_root=state_dir or Path(tempfile.mkdtemp(prefix="loa-sim-")),
        speed=speed,
        credentials=embedded_credentials(controller_data_dir) if controller_data_dir else None,
    )
    print(f"loa sim: {agents} agents, broker {redact_url(broker_url)}, players at {speed:g}x real time. Ctrl-C stops.")

    async def main() -> None:
        pool = FleetPool(ids, spec, processes=processes)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await pool.start()
        last = ""
        try:
            while not stop.is_set():
                line = pool.progress.line(since_arm=False)
                if line != last:
                    print(line, flush=True)
                    last = line
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=2)
        finally:
            await pool.stop()

    asyncio.run(main())
    return 0


def run_province_slot(
    *,
    agents: int,
    broker: str,
    speed: float,
    processes: int | None,
    fleet_file: Path | None,
    bulletin: Path | None,
    faults: list[str],
    seed: int,
    json_path: Path | None,
    lead_s: float | None,
    data_dir: Path | None,
) -> int:
    """One slot for a whole simulated province on a local controller; prints the report. 0 when nothing was lost."""
    layout = load_layout(fleet_file) if fleet_file else generate_layout(agents)
    plan = None
    if faults:
        from simulator.faults import parse_faults

        try:
            plan = parse_faults(faults, seed)
        except ValueError as exc:
            raise SystemExit(f"loa sim: {exc}") from None
    print(
        f"loa sim: {layout.agents} agents in {len(layout.communes)} commune(s), one slot, "
        f"players at {speed:g}x real time, faults: {', '.join(faults) or 'none'}."
    )
    opts = SlotOptions(
        agents=layout.agents,
        layout=layout,
        broker=broker,
        speed=speed,
        processes=processes,
        bulletin=bulletin,
        faults=plan,
        fault_label="; ".join(faults) + f" (seed {seed})",
        lead_s=lead_s,
        data_dir=data_dir,
        progress_every_s=1.0 if layout.agents <= 1000 else 2.0,
    )
    run = run_slot(opts)
    print("")
    print("\n".join(run.report.lines()))
    if json_path is not None:
        write_json(run.report, json_path)
    report = run.report
    print(f"\nDone in {run.wall_s:.0f}s: {report.lost_confirmations} lost, {report.duplicates} duplicates.")
    return 0 if report.ok else 1
