"""Many real edge agents in one asyncio loop, each with its own MockFactory and state directory.

With a `FaultPlan` in the spec, the agents it hits become faulty posts (`simulator.faults`): their
traffic goes through their own `simulator.link.Link`, their clock is skewed, their player fails,
and they crash and boot again on the same state directory. A fleet without faults has none of that.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import Counter
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from gpiozero.pins.mock import MockFactory

from common.broker_url import parse_broker_url
from common.clock import Clock, utcnow
from edge_agent import Agent, AgentConfig, VirtualPlayer
from edge_agent.media_client import MediaClient, Origin, Route
from simulator.faults import (
    Crash,
    Drop,
    FailDownload,
    FaultPlan,
    FaultyPlayer,
    Flap,
    Offline,
    PlayError,
    PostFaults,
    SlowDownload,
)
from simulator.link import Link, Outages

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
    late_grace_s: float = 60.0
    """How late a play may still start; keep it equal to the controller's `play_grace_s`."""
    reconnect_max_s: float = 60.0
    """The agents' longest pause between attempts to reach the broker."""
    faults: FaultPlan | None = None
    """What goes wrong, and for whom (`simulator.faults`). None: every post is healthy."""
    warmup_s: float | None = None
    """Amplifier warm-up. None scales the real 1 s by `speed`; a province run keeps 1 s, because a
    warm-up squeezed to 33 ms leaves a thousand agents on one core no time to arm their plays."""


@dataclass(eq=False)
class _Post:
    """One simulated post across its restarts: what a crash does not take away.

    The state directory, the pins, the player (so its `history` covers every boot), the link and
    the clock outlive a crash; the `Agent` and its task are new at each boot.
    """

    agent_id: str
    index: int
    player: VirtualPlayer
    pins: MockFactory
    http: MediaClient
    faults: PostFaults
    link: Link | None = None
    clock: Clock | None = None
    faulty_player: FaultyPlayer | None = None
    agent: Agent | None = None
    task: asyncio.Task[None] | None = None
    dead: bool = False


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
        self.links: dict[str, Link] = {}
        """The faulty agents' links, by agent id."""
        self._posts: dict[str, _Post] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._http: list[MediaClient] = []
        self._fault_tasks: set[asyncio.Task[None]] = set()
        self._epoch = 0.0
        self._stopping = False

    def _listener(self, agent_id: str, event: str) -> None:
        self.progress.record(agent_id, event)
        if self._on_event:
            self._on_event(agent_id, event)

    def _config(self, agent_id: str, link: Link | None = None) -> AgentConfig:
        s = self.spec
        username, password = s.credentials(agent_id) if s.credentials else (None, None)
        return AgentConfig(
            agent_id=agent_id,
            broker_url=s.broker_url if link is None else _via(s.broker_url, link.broker_port),
            username=username,
            password=password,
            controller_public_key=s.public_key,
            topic_root=s.topic_root,
            state_dir=s.state_root / agent_id,
            media_base_url=s.media_base_url,
            player="virtual",
            amplifier_warmup_s=s.warmup_s if s.warmup_s is not None else 1.0 / s.speed,
            amplifier_cooldown_s=2.0 / s.speed,
            quiet_hours_start=s.quiet_hours[0],
            quiet_hours_end=s.quiet_hours[1],
            late_grace_s=s.late_grace_s,
            reconnect_max_s=s.reconnect_max_s,
        )

    async def start(self) -> None:
        self._epoch = asyncio.get_running_loop().time()
        booted = utcnow()
        # One HTTP client per group of agents, each allowing 100 downloads at once, as the httpx pools
        # this replaced did (one pool for the whole fleet grew with its square; benchmarks/README.md).
        groups = max(1, -(-len(self.agent_ids) // AGENTS_PER_HTTP_CLIENT))
        self._http = [MediaClient() for _ in range(groups)]
        plan = self.spec.faults.assignments(self.agent_ids) if self.spec.faults else {}
        for index, agent_id in enumerate(self.agent_ids):
            post = _Post(
                agent_id,
                index,
                VirtualPlayer(speed=self.spec.speed),
                MockFactory(),
                self._http[index // AGENTS_PER_HTTP_CLIENT],
                PostFaults(plan.get(agent_id, [])),
            )
            if post.faults.rules:
                await self._equip(post, booted)
            self._posts[agent_id] = post
            self.players[agent_id] = post.player
            self.pin_factories[agent_id] = post.pins
            self._boot(post)

    def _boot(self, post: _Post) -> None:
        """Start a new `Agent` for the post, on its state directory: at start, and after a crash."""
        agent = Agent(
            self._config(post.agent_id, post.link),
            player=post.faulty_player or post.player,
            pin_factory=post.pins,
            clock=post.clock,
            http=post.http,
            listener=self._listener,
        )
        post.agent = agent
        if post.index < len(self.agents):
            self.agents[post.index] = agent
        else:
            self.agents.append(agent)
        post.task = asyncio.create_task(agent.run(), name=f"agent-{post.agent_id}")
        self._tasks.append(post.task)

    async def stop(self) -> None:
        self._stopping = True
        for task in self._fault_tasks:
            task.cancel()
        await asyncio.gather(*self._fault_tasks, return_exceptions=True)
        await asyncio.gather(*(a.stop() for a in self.agents), return_exceptions=True)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*(link.close() for link in self.links.values()), return_exceptions=True)
        for pins in self.pin_factories.values():
            pins.close()
        self._http = []

    # -- faults ----------------------------------------------------------------------------------

    async def _equip(self, post: _Post, booted: datetime) -> None:
        """Give a faulty post its link, clock and player, and set its crash timers."""
        faults = post.faults
        if faults.needs_clock:
            post.clock = faults.clock(since=booted)
        if faults.needs_player:
            post.faulty_player = FaultyPlayer(
                post.player,
                error=faults.first(PlayError),
                cut_mid_play=faults.power_cut("play") is not None,
                speed=self.spec.speed,
                on_power_cut=lambda: self._power_cut(post, "play"),
            )
        if faults.needs_link:
            await self._connect_link(post)
        for crash in faults.all(Crash):
            self._spawn(self._crash_at(post, crash), f"crash-{post.agent_id}")

    async def _connect_link(self, post: _Post) -> None:
        faults = post.faults
        broker = parse_broker_url(self.spec.broker_url)
        if broker.tls:
            raise ValueError("link faults need a plain mqtt:// broker: the proxy cannot read or re-sign TLS")
        downloads = bool(faults.all(SlowDownload) or faults.all(FailDownload) or faults.power_cut("download"))
        http: tuple[str, int] | None = None
        origin: tuple[str, str, int] | None = None
        if self.spec.media_base_url:
            url = urlsplit(self.spec.media_base_url)
            if url.scheme == "http" and url.hostname:
                port = url.port or 80
                http, origin = (url.hostname, port), (url.scheme, url.hostname, port)
        if downloads and http is None:
            raise ValueError("download faults need an http:// media_base_url: the controller the audio comes from")
        link = Link(
            post.agent_id,
            broker=(broker.host, broker.port),
            http=http,
            drop=faults.first(Drop),
            slow=faults.first(SlowDownload),
            fail=faults.first(FailDownload),
            on_download_power_cut=(lambda: self._power_cut(post, "download")) if faults.power_cut("download") else None,
        )
        await link.open()
        outages = Outages([*faults.all(Offline), *faults.all(Flap)])
        if outages.windows or outages.flaps:
            link.follow(outages, self._epoch)
        if http is not None and origin is not None:
            # The agent's downloads from the controller dial its link instead, as a modem routes them.
            post.http = MediaClient(route=_via_link(origin, link.http_port))
        post.link = self.links[post.agent_id] = link

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._fault_tasks.add(task)
        task.add_done_callback(self._fault_tasks.discard)

    async def _crash_at(self, post: _Post, crash: Crash) -> None:
        await asyncio.sleep(max(0.0, self._epoch + crash.at - asyncio.get_running_loop().time()))
        await self._crash(post, crash.down, "crash")

    def _power_cut(self, post: _Post, during: str) -> None:
        cut = post.faults.power_cut(during)
        if cut is not None:
            self._spawn(self._crash(post, cut.down, f"power cut mid-{during}"), f"power-cut-{post.agent_id}")

    async def _crash(self, post: _Post, down_s: float, why: str) -> None:
        """The post dies at once: links cut (no DISCONNECT: the broker publishes the Last Will), the
        player silenced and the agent cancelled without `stop()`; it boots again `down_s` later."""
        if post.dead or self._stopping:
            return
        post.dead = True
        log.warning("[%s] %s: the post is down for %gs", post.agent_id, why, down_s)
        self._listener(post.agent_id, "crashed")
        if post.link is not None:
            post.link.power_off()
        if post.faulty_player is not None:
            await post.faulty_player.power_off()
        if post.task is not None:
            post.task.cancel()
            await asyncio.gather(post.task, return_exceptions=True)
        if post.agent is not None:
            post.agent.amplifier.close()  # the relay drops with the power; the next boot claims the pin
        if not math.isfinite(down_s):
            return
        await asyncio.sleep(down_s)
        if self._stopping:
            return
        if post.link is not None:
            post.link.power_on()
        if post.faulty_player is not None:
            post.faulty_player.power_on()
        post.dead = False
        self._boot(post)
        self._listener(post.agent_id, "rebooted")

    async def wait_for(self, milestone: str, count: int, timeout: float) -> bool:
        """Wait until `count` agents reached `milestone`; False on timeout."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self.progress.count(milestone) < count:
            if asyncio.get_running_loop().time() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True


def _via(broker_url: str, port: int) -> str:
    """The broker URL with its host and port replaced by the link's proxy, keeping any login."""
    parts = urlsplit(broker_url)
    login, at, _ = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{login}{at}127.0.0.1:{port}"))


def _via_link(origin: Origin, port: int) -> Route:
    """Downloads from `origin` dial the agent's link proxy on `port` instead, as a modem routes them."""

    def route(target: Origin) -> tuple[str, int] | None:
        return ("127.0.0.1", port) if target == origin else None

    return route
