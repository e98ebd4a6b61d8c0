"""Thousands of simulated agents: one `Fleet` per worker process, each on its own asyncio loop.

One process cannot hold a province. A paho client per agent runs out of descriptors at about
340 clients (the `select()` limit), and a single asyncio loop for 5,000 real agents leaves one
core doing all the Ed25519 checks, SQLite commits and HTTP downloads while the other idles.
`FleetPool` splits the agent ids into contiguous slices, starts a spawned process per slice, and
talks to each over a pipe:

- workers send progress counts about four times a second, which the pool adds up;
- `arm()` marks the start of a measurement (a booking): from then on, each worker notes when each
  agent first accepts a manifest, and which plays its player makes;
- `stop()` stops every agent cleanly and returns one `AgentResult` per agent.

Times that cross processes use `time.monotonic()`, which is one system-wide clock on Linux, and
the players' UTC start instants.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import resource
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

from simulator.fleet import MILESTONES, Fleet, FleetSpec

log = logging.getLogger(__name__)

AGENTS_PER_PROCESS = 1500
"""Default slice size; the number of processes is also capped by the CPU count."""
PROGRESS_INTERVAL_S = 0.25


@dataclass(frozen=True)
class PlaySeen:
    """One play a simulated player made after `arm()`: when it began (UTC) and how it ended."""

    started: datetime
    duration_s: float
    completed: bool
    error: str | None


@dataclass
class AgentResult:
    """What one agent did after `arm()`."""

    agent_id: str
    manifest_at: float | None = None
    """`time.monotonic()` when the agent first accepted a manifest after `arm()`."""
    downloaded_at: float | None = None
    """`time.monotonic()` when the agent first had a play's audio ready after `arm()`."""
    plays: list[PlaySeen] = field(default_factory=list)
    events: Counter[str] = field(default_factory=Counter)


@dataclass
class PoolProgress:
    """The fleet's milestones summed over workers: distinct agents ever, and since `arm()`."""

    agents: int
    reached: Counter[str] = field(default_factory=Counter)
    since_arm: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)

    def count(self, milestone: str, *, since_arm: bool = False) -> int:
        return (self.since_arm if since_arm else self.reached)[milestone]

    def line(self, *, since_arm: bool = True) -> str:
        counts = self.since_arm if since_arm else self.reached
        keys = ("manifest", "downloaded", "started", "finished")
        head = f"connected={self.reached['connected']}/{self.agents}"
        rest = "  ".join(f"{k}={counts[k]}/{self.agents}" for k in keys)
        return f"{head}  {rest}  confirmed={counts['confirmed']}"


def default_processes(agents: int) -> int:
    wanted = -(-agents // AGENTS_PER_PROCESS)
    return max(1, min(wanted, os.cpu_count() or 1))


def _raise_descriptor_limit() -> None:
    """Each agent holds a broker socket, an HTTP connection share and a SQLite file: lift the soft cap."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class _Worker:
    """Inside a worker process: one Fleet, a pipe to the pool, and the per-agent records."""

    def __init__(self, ids: list[str], spec: FleetSpec, conn: Connection) -> None:
        self.conn = conn
        self.fleet = Fleet(ids, spec, on_event=self._on_event)
        self.armed = False
        self.results: dict[str, AgentResult] = {a: AgentResult(a) for a in ids}
        self.since_arm: dict[str, set[str]] = {}
        self.history_mark: dict[str, int] = {}

    def _on_event(self, agent_id: str, event: str) -> None:
        if not self.armed:
            return
        result = self.results[agent_id]
        result.events[event] += 1
        self.since_arm.setdefault(event, set()).add(agent_id)
        if event == "manifest" and result.manifest_at is None:
            result.manifest_at = time.monotonic()
        elif event == "downloaded" and result.downloaded_at is None:
            result.downloaded_at = time.monotonic()

    def _progress(self) -> tuple[str, dict[str, int], dict[str, int], dict[str, int]]:
        progress = self.fleet.progress
        reached = {m: progress.count(m) for m in progress.reached}
        since = {m: len(agents) for m, agents in self.since_arm.items()}
        return ("progress", reached, since, dict(progress.events))

    def _arm(self) -> None:
        self.history_mark = {a: len(p.history) for a, p in self.fleet.players.items()}
        self.since_arm = {}
        for result in self.results.values():
            result.manifest_at = result.downloaded_at = None
            result.events.clear()
        self.armed = True

    def _collect(self) -> list[AgentResult]:
        for agent_id, player in self.fleet.players.items():
            for record in player.history[self.history_mark.get(agent_id, 0) :]:
                if record.kind != "audio":
                    continue
                outcome = record.outcome
                self.results[agent_id].plays.append(
                    PlaySeen(outcome.started_at, record.duration_s, outcome.completed, outcome.error)
                )
        return list(self.results.values())

    async def run(self) -> None:
        await self.fleet.start()
        self.conn.send(("started", len(self.fleet.agent_ids)))
        last: Any = None
        try:
            while True:
                while self.conn.poll():
                    command = self.conn.recv()
                    if command == "arm":
                        self._arm()
                        self.conn.send(("armed",))
                    elif command == "stop":
                        return
                snapshot = self._progress()
                if snapshot != last:
                    self.conn.send(snapshot)
                    last = snapshot
                await asyncio.sleep(PROGRESS_INTERVAL_S)
        finally:
            # A thousand agents saying goodbye at once time out here and there; that is not news.
            for name in ("edge_agent.agent", "asyncio"):
                logging.getLogger(name).setLevel(logging.CRITICAL)
            await self.fleet.stop()
            self.conn.send(("results", self._collect()))


def _worker_main(ids: list[str], spec: FleetSpec, conn: Connection, log_level: int) -> None:
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _raise_descriptor_limit()
    try:
        asyncio.run(_Worker(ids, spec, conn).run())
    except Exception as exc:  # the pool must hear about it rather than wait forever
        log.exception("simulator worker failed")
        with contextlib.suppress(OSError):
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


class FleetPool:
    """`Fleet`'s interface over several processes. Use from an asyncio loop in the parent."""

    def __init__(
        self,
        agent_ids: Sequence[str],
        spec: FleetSpec,
        *,
        processes: int | None = None,
        worker_log_level: int = logging.WARNING,
    ) -> None:
        self.agent_ids = list(agent_ids)
        self.spec = spec
        self.processes = max(1, min(processes or default_processes(len(self.agent_ids)), len(self.agent_ids) or 1))
        self.progress = PoolProgress(len(self.agent_ids))
        self._log_level = worker_log_level
        self._procs: list[multiprocessing.process.BaseProcess] = []
        self._conns: list[Connection] = []
        self._latest: dict[int, tuple[dict[str, int], dict[str, int], dict[str, int]]] = {}
        self._replies: dict[int, asyncio.Queue[tuple[Any, ...]]] = {}
        self.errors: list[str] = []

    def _slices(self) -> list[list[str]]:
        n, k = len(self.agent_ids), self.processes
        bounds = [round(i * n / k) for i in range(k + 1)]
        return [self.agent_ids[bounds[i] : bounds[i + 1]] for i in range(k)]

    def _on_readable(self, index: int) -> None:
        conn = self._conns[index]
        try:
            while conn.poll():
                message = conn.recv()
                if message[0] == "progress":
                    self._latest[index] = message[1:]
                    self._sum_progress()
                elif message[0] == "error":
                    self.errors.append(message[1])
                    self._replies[index].put_nowait(message)
                else:
                    self._replies[index].put_nowait(message)
        except (EOFError, OSError):
            asyncio.get_running_loop().remove_reader(conn.fileno())
            self._replies[index].put_nowait(("gone",))

    def _sum_progress(self) -> None:
        reached: Counter[str] = Counter()
        since: Counter[str] = Counter()
        events: Counter[str] = Counter()
        for r, s, e in self._latest.values():
            reached.update(r)
            since.update(s)
            events.update(e)
        self.progress.reached, self.progress.since_arm, self.progress.events = reached, since, events

    async def _expect(self, kind: str, timeout: float) -> list[tuple[Any, ...]]:
        async def one(index: int) -> tuple[Any, ...]:
            message = await self._replies[index].get()
            if message[0] != kind:
                detail = message[1] if len(message) > 1 else "the worker exited"
                raise RuntimeError(f"simulator worker {index}: expected {kind!r}, got {message[0]!r}: {detail}")
            return message

        return list(await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(len(self._conns)))), timeout))

    async def start(self, timeout: float = 300.0) -> None:
        """Spawn the workers; returns once every worker has started all its agents (not yet connected)."""
        ctx = multiprocessing.get_context("spawn")
        loop = asyncio.get_running_loop()
        for index, ids in enumerate(self._slices()):
            parent, child = ctx.Pipe()
            proc = ctx.Process(
                target=_worker_main,
                args=(ids, self.spec, child, self._log_level),
                name=f"loa-sim-{index}",
                daemon=True,
            )
            proc.start()
            child.close()
            self._procs.append(proc)
            self._conns.append(parent)
            self._replies[index] = asyncio.Queue()
            loop.add_reader(parent.fileno(), self._on_readable, index)
        await self._expect("started", timeout)

    async def wait_for(self, milestone: str, count: int, timeout: float, *, since_arm: bool = False) -> bool:
        """Wait until `count` agents reached `milestone` (ever, or since `arm()`); False on timeout."""
        if milestone not in MILESTONES:
            raise ValueError(f"unknown milestone {milestone!r}")
        deadline = time.monotonic() + timeout
        while self.progress.count(milestone, since_arm=since_arm) < count:
            if self.errors:
                raise RuntimeError(f"simulator worker failed: {self.errors[0]}")
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    async def arm(self, timeout: float = 30.0) -> None:
        """Start recording per-agent manifest times and plays. Returns once every worker has armed."""
        for conn in self._conns:
            conn.send("arm")
        await self._expect("armed", timeout)
        self.progress.since_arm = Counter()

    async def stop(self, timeout: float = 120.0) -> dict[str, AgentResult]:
        """Stop every agent cleanly and collect what each did since `arm()`."""
        results: dict[str, AgentResult] = {}
        if not self._conns:
            return results
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.send("stop")
        try:
            for message in await self._expect("results", timeout):
                results.update((r.agent_id, r) for r in message[1])
        finally:
            loop = asyncio.get_running_loop()
            for conn in self._conns:
                with contextlib.suppress(ValueError, OSError):
                    loop.remove_reader(conn.fileno())
                conn.close()
            for proc in self._procs:
                proc.join(10)
                if proc.is_alive():
                    proc.kill()
                    proc.join(5)
            self._conns, self._procs = [], []
        return results
