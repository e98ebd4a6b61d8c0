"""`loa agent --config FILE`: run one edge agent until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from edge_agent.agent import Agent
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


async def serve(config: AgentConfig) -> None:
    """Run an agent for `config` until SIGINT/SIGTERM, then shut it down cleanly."""
    pins = pin_factory_for(config)
    agent = Agent(config, player=player_for(config), pin_factory=pins)
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


def run_agent(config_path: Path | str) -> int:
    """Entry point of `loa agent`. Returns the process exit code."""
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print(f"loa agent: {exc}", file=sys.stderr)
        return 2
    log.info("agent %s starting with %s", config.agent_id, config_path)
    try:
        asyncio.run(serve(config))
    except Exception as exc:
        log.exception("agent %s stopped by an error", config.agent_id)
        print(f"loa agent: {exc}", file=sys.stderr)
        return 1
    return 0
