"""Many real edge agents in one asyncio loop, each with its own MockFactory and state directory."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from gpiozero.pins.mock import MockFactory

from edge_agent import Agent, AgentConfig, VirtualPlayer

log = logging.getLogger(__name__)

AGENTS_PER_HTTP_CLIENT = 50
MILESTONES = ("connected", "manifest", "downloaded", "started", "finished", "confirmed", "failed", "rejected")


@dataclass
class FleetProgress:
    """How many distinct agents reached each milestone, and how many times each happened."""

    agents: int
    reached: dict[str, set[str]] = field(default_factory=lambda: {m: set() for m in MILESTONES})
    events: Counter[str] = field(default_factory=Counter)

    def record(self, agent_id: str, event: str) -> None:
        self.events[event] += 1
        self.reached.setdefault(event, set()).add(agent_id)

    def count(self, milestone: str) -> int:
        return len(self.reached.get(milestone, ()))

    def line(self) -> str:
        keys = ("connected", "manifest", "downloaded", "started", "finished")
        reached = "  ".join(f"{k}={self.count(k)}/{self.agents}" for k in keys)
        return f"{reached}  confirmations acked={self.events['confirmed']}"


@dataclass(frozen=True)
class FleetSpec:
    """Where the simulated agents connect, whom they trust, and how fast their players run."""

    broker_url: str
    public_key: str
    topic_root: str
    media_base_url: str
    state_root: Path
    speed: float = 1.0
    credentials: Callable[[str], tuple[str, str]] | None = None
    quiet_hours: tuple[str, str] = ("21:00", "05:00")
    """The agents' own quiet hours (local start, end), as a real post's config sets them."""


class Fleet:
    """Runs the given agent ids until `stop()`. Every agent is the real `edge_agent.Agent` code."""

    def __init__(
        self,
        agent_ids: Sequence[str],
        spec: FleetSpec,
        *,
        on_event: Callable[[str, str], None] | None = None,
    ) -> None:
        self.spec = spec
        self.progress = FleetProgress(len(agent_ids))
        self._on_event = on_event
        self.agent_ids = list(agent_ids)
        self.agents: list[Agent] = []
        self.players: dict[str, VirtualPlayer] = {}
        self.pin_factories: dict[str, MockFactory] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._http: list[httpx.AsyncClient] = []

    def _listener(self, agent_id: str, event: str) -> None:
        self.progress.record(agent_id, event)
        if self._on_event:
            self._on_event(agent_id, event)

    def _config(self, agent_id: str) -> AgentConfig:
        s = self.spec
        username, password = s.credentials(agent_id) if s.credentials else (None, None)
        return AgentConfig(
            agent_id=agent_id,
            broker_url=s.broker_url,
            username=username,
            password=password,
            controller_public_key=s.public_key,
            topic_root=s.topic_root,
            state_dir=s.state_root / agent_id,
            media_base_url=s.media_base_url,
            player="virtual",
            amplifier_warmup_s=1.0 / s.speed,
            amplifier_cooldown_s=2.0 / s.speed,
            quiet_hours_start=s.quiet_hours[0],
            quiet_hours_end=s.quiet_hours[1],
        )

    async def start(self) -> None:
        # One HTTP client per group of agents. A single shared client's pool rescans every queued
        # request against every connection, which grew with the square of the fleet (benchmarks/README.md).
        groups = max(1, -(-len(self.agent_ids) // AGENTS_PER_HTTP_CLIENT))
        self._http = [httpx.AsyncClient(timeout=30) for _ in range(groups)]
        for agent_id in self.agent_ids:
            player = VirtualPlayer(speed=self.spec.speed)
            pins = MockFactory()
            agent = Agent(
                self._config(agent_id),
                player=player,
                pin_factory=pins,
                http=self._http[len(self.agents) // AGENTS_PER_HTTP_CLIENT],
                listener=self._listener,
            )
            self.players[agent_id] = player
            self.pin_factories[agent_id] = pins
            self.agents.append(agent)
            self._tasks.append(asyncio.create_task(agent.run(), name=f"agent-{agent_id}"))

    async def stop(self) -> None:
        await asyncio.gather(*(a.stop() for a in self.agents), return_exceptions=True)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for pins in self.pin_factories.values():
            pins.close()
        await asyncio.gather(*(client.aclose() for client in self._http))
        self._http = []

    async def wait_for(self, milestone: str, count: int, timeout: float) -> bool:
        """Wait until `count` agents reached `milestone`; False on timeout."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self.progress.count(milestone) < count:
            if asyncio.get_running_loop().time() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True
