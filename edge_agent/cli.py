"""`loa agent --config FILE`: run one edge agent until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from edge_agent.agent import EXIT_RESTART, Agent
from edge_agent.config import AgentConfig, load_config
from edge_agent.errors import ConfigError
from edge_agent.player import AlsaPlayer, Player, VirtualPlayer

log = logging.getLogger(__name__)


def pin_factory_for(config: AgentConfig) -> Any:
    """A MockFactory for a virtual player or when GPIOZERO_PIN_FACTORY=mock; else None, gpiozero's default."""
    if config.player == "virtual" or os.environ.get("GPIOZERO_PIN_FACTORY", "").lower() == "mock":
        from gpiozero.pins.mock import MockFactory

        return MockFactory()
    return None


def player_for(config: AgentConfig) -> Player:
    if config.player == "virtual":
        return VirtualPlayer()
    return AlsaPlayer(config.alsa_device, config.player_command, tone_dir=config.state_dir / "tones")


def run_reboot_command(config: AgentConfig) -> None:
    """The reboot hook: run `reboot_command` (systemctl reboot, allowed by the polkit rule)."""
    log.warning("running the reboot command: %s", " ".join(config.reboot_command))
    try:
        subprocess.run(list(config.reboot_command), check=False, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        log.error("the reboot command failed: %s", exc)


async def serve(config: AgentConfig, config_path: Path | None = None) -> Agent:
    """Run an agent for `config` until SIGINT/SIGTERM (or a reboot or restart it asks for), then shut it
    down cleanly. Returns the agent, so the caller can see why it stopped."""
    pins = pin_factory_for(config)
    agent = Agent(
        config,
        player=player_for(config),
        pin_factory=pins,
        config_path=config_path,
        on_reboot=lambda: run_reboot_command(config),
    )
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    run = asyncio.create_task(agent.run(), name=f"agent-{config.agent_id}")
    stopper = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait([run, stopper], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        stopper.cancel()
        await agent.stop()
        await run
        if pins is not None:
            pins.close()
    return agent


def run_agent(config_path: Path | str) -> int:
    """Entry point of `loa agent`. Returns the process exit code."""
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print(f"loa agent: {exc}", file=sys.stderr)
        return 2
    log.info("agent %s starting with %s", config.agent_id, config_path)
    try:
        agent = asyncio.run(serve(config, Path(config_path)))
    except Exception as exc:
        log.exception("agent %s stopped by an error", config.agent_id)
        print(f"loa agent: {exc}", file=sys.stderr)
        return 1
    if agent.restart_requested:
        log.warning("agent %s restarting for a reloaded config", config.agent_id)
        return EXIT_RESTART
    return 0
