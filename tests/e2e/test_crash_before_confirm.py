"""An agent killed after playing but before its confirmation leaves still yields exactly one counted play."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from common.clock import utcnow
from simulator.demo import seed_commune
from simulator.local import quiet_hours_away_from_now
from tests.e2e.conftest import System, quarter_params
from tests.e2e.test_broadcast_loop import render_short_bulletin

pytestmark = pytest.mark.e2e

FAULT_EXIT = 86


def agent_toml(system: System, agent_id: str, state_dir: Path) -> str:
    quiet = quiet_hours_away_from_now()  # as seed_commune sets the commune's: on, but away from now
    lines = [
        f'agent_id = "{agent_id}"',
        f'broker_url = "{system.controller.broker_url}"',
        f'controller_public_key = "{system.controller.public_key}"',
        f'topic_root = "{system.settings.topic_root}"',
        f'state_dir = "{state_dir}"',
        f'media_base_url = "{system.base_url}"',
        'player = "virtual"',
        "amplifier_warmup_s = 0.1",
        "amplifier_cooldown_s = 0.1",
        f'quiet_hours_start = "{quiet[0]}"',
        f'quiet_hours_end = "{quiet[1]}"',
    ]
    if system.credentials:
        user, password = system.credentials(agent_id)
        lines += [f'username = "{user}"', f'password = "{password}"']
    return "\n".join(lines) + "\n"


def run_agent(config: Path, fault: str | None) -> subprocess.Popen[bytes]:
    env = dict(os.environ, GPIOZERO_PIN_FACTORY="mock")
    env.pop("LOA_AGENT_FAULT", None)
    if fault:
        env["LOA_AGENT_FAULT"] = fault
    return subprocess.Popen([sys.executable, "-m", "loa.cli", "agent", "--config", str(config)], env=env)


def confirmed(system: System, agent_id: str) -> list[dict[str, object]]:
    system.controller.ingestor.wait_idle(5)
    plays = system.api.get("/api/plays", params={"agent_id": agent_id}).json()
    return [p for p in plays if p["status"] == "finished"]


def test_kill_after_play_before_confirm_counts_once(system: System, tmp_path: Path) -> None:
    commune_id, (agent_id,) = seed_commune(system.api, 1, prefix="crash")
    made = render_short_bulletin(system)
    config = tmp_path / "agent.toml"
    config.write_text(agent_toml(system, agent_id, tmp_path / "state"))

    first = run_agent(config, "exit-before-confirm")
    try:
        # Wait for the agent to come online before booking, so it gets the manifest live.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            agents = {a["id"]: a for a in system.api.get("/api/agents").json()}
            if agents[agent_id]["status"] == "online":
                break
            time.sleep(0.2)
        else:
            pytest.fail("agent never came online")
        starts = utcnow() + timedelta(seconds=3)
        r = system.api.post(
            "/api/schedules",
            json={"bulletin_id": made["bulletin"]["id"], "commune_id": commune_id, "starts_at": starts.isoformat()},
        )
        assert r.status_code == 201, r.text
        assert first.wait(timeout=60 + made["asset"]["duration_s"]) == FAULT_EXIT
    finally:
        if first.poll() is None:
            first.kill()
    assert confirmed(system, agent_id) == []  # the process died before sending it

    second = run_agent(config, None)
    try:
        deadline = time.monotonic() + 30
        while not confirmed(system, agent_id) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # room for a duplicate to arrive, if the agent sent one
    finally:
        second.terminate()
        second.wait(timeout=20)

    assert len(confirmed(system, agent_id)) == 1
    report = system.api.get("/api/reports/quarterly", params=quarter_params(starts)).json()
    assert report["total_confirmed_plays"] == 1
