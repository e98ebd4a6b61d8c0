"""`loa sim`: simulated agents against a running controller and any broker."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from simulator.fleet import Fleet, FleetSpec


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


def embedded_credentials(controller_data_dir: Path) -> Callable[[str], tuple[str, str]]:
    """Agent logins for the controller's embedded broker, derived from its secret (same machine only)."""
    from controller.dispatch.broker_auth import derive_password

    secret_file = controller_data_dir / "mqtt_secret"
    if not secret_file.exists():
        raise SystemExit(f"{secret_file} not found: is --controller-data-dir the controller's data directory?")
    secret = bytes.fromhex(secret_file.read_text().strip())
    return lambda agent_id: (agent_id, derive_password(secret, agent_id))


def run_sim(
    *,
    agents: int,
    controller_url: str,
    broker_url: str,
    speed: float,
    state_dir: Path | None,
    controller_data_dir: Path | None = None,
    login: tuple[str, str] | None = None,
) -> int:
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
    print(f"loa sim: {agents} agents, broker {broker_url}, players at {speed:g}x real time. Ctrl-C stops.")

    async def main() -> None:
        fleet = Fleet(ids, spec)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await fleet.start()
        last = ""
        try:
            while not stop.is_set():
                line = fleet.progress.line()
                if line != last:
                    print(line, flush=True)
                    last = line
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=2)
        finally:
            await fleet.stop()

    asyncio.run(main())
    return 0
