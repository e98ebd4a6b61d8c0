"""Start skew: how closely 1,000 agents start one emergency, against what the OS timers can do.

    .venv/bin/python -m benchmarks.skew --agents 1000

On one private Mosquitto, with a real controller in this process and a `simulator.pool.FleetPool`
of N real edge agents with virtual players in other processes:

- **baseline**: N asyncio tasks in one other process, each sleeping until the same instant with
  `common.clock.SystemClock.sleep_until`, as the agents' players wait; each notes how late it woke.
- **emergency, audio not cached**: the two-step emergency (preview, then confirm) to every agent.
  Each agent's start is its virtual player's `started_at`, compared with the play's `starts_at`
  (the instant the officer confirmed). An emergency plays at once, so this includes the PlayNow
  fan-out, the audio download and the amplifier warm-up.
- **emergency, audio cached**: a second emergency of the same bulletin, so no agent downloads.
- **booking at one instant**: a normal booking a few seconds ahead; agents fetch the audio and
  warm the amplifier beforehand and start on the instant, as a scheduled bulletin does.

Skew is `started_at - starts_at` per agent; the table gives p50, p99 and max of its absolute
value and the spread (latest start minus earliest) across agents.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import select

from benchmarks.common import (
    BenchController,
    Out,
    bench_controller,
    machine,
    mosquitto_for_benchmark,
    ok,
    quiet_logging,
    recv,
    stamp,
    table,
)
from benchmarks.dispatch import SHORT_BULLETIN
from common.clock import SystemClock, utcnow
from controller.db.models import Play
from simulator.pool import AgentResult, FleetPool

STORM = {
    "title": "Cảnh báo bão khẩn cấp",
    "topic": "giao-thong-pccc",
    "priority": "emergency",
    "body": "Bão số ba đang vào. Bà con khẩn trương chằng chống nhà cửa và di chuyển đến nơi an toàn.",
}
TARGET_P99_MS = 20.0
EARLY = timedelta(seconds=1)
"""How far before its instant a play may start and still count as that run's (a skew can be negative)."""


@dataclass
class Skew:
    """Start skews of one run, in seconds (started minus scheduled), one per agent that started."""

    name: str
    expected: int
    skews: list[float]
    starts: list[datetime]
    extra_starts: int = 0

    def _pick(self, q: float) -> float:
        values = sorted(abs(s) for s in self.skews)
        return values[min(len(values) - 1, int(len(values) * q))] * 1000 if values else float("nan")

    def row(self) -> list[object]:
        spread = (max(self.starts) - min(self.starts)).total_seconds() * 1000 if self.starts else float("nan")
        p99 = self._pick(0.99)
        mean = sum(self.skews) / len(self.skews) * 1000 if self.skews else float("nan")
        return [
            self.name,
            f"{len(self.skews)}/{self.expected}",
            self._pick(0.5),
            p99,
            self._pick(1.0),
            spread,
            mean,
            "met" if p99 <= TARGET_P99_MS else "**missed**",
        ]


def _timers_worker(n: int, lead_s: float, conn: Connection) -> None:
    """Child process: N tasks sleep until one instant on `SystemClock`; send back each one's wake-up."""
    conn.send(asyncio.run(_timers(n, lead_s)))


async def _timers(n: int, lead_s: float) -> tuple[datetime, list[datetime]]:
    clock = SystemClock()
    instant = utcnow() + timedelta(seconds=lead_s)

    async def one() -> datetime:
        await clock.sleep_until(instant)
        return utcnow()

    woke = await asyncio.gather(*(one() for _ in range(n)))
    return instant, list(woke)


def os_baseline(n: int, lead_s: float = 2.0) -> Skew:
    """N plain asyncio tasks in another process (as the agents are) waking at one instant."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_timers_worker, args=(n, lead_s, child), daemon=True)
    proc.start()
    try:
        instant, woke = recv(parent, 60 + lead_s, "the baseline timers")
        proc.join(10)
    finally:
        if proc.is_alive():
            proc.terminate()
    return Skew(
        "OS timers: asyncio tasks, SystemClock.sleep_until", n, [(w - instant).total_seconds() for w in woke], woke
    )


async def _until_events(pool: FleetPool, event: str, count: int, timeout: float) -> bool:
    """Wait until the fleet has seen `count` more `event`s than now; False on timeout."""
    deadline = time.monotonic() + timeout
    while pool.progress.events[event] < count:
        if pool.errors:
            raise RuntimeError(f"simulator worker failed: {pool.errors[0]}")
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def _emergency(bench: BenchController, commune_id: int, bulletin_id: str) -> dict[str, Any]:
    request = {"commune_id": commune_id, "bulletin_id": bulletin_id, "interrupted": "skip"}
    preview = ok(bench.api.post("/api/emergencies/preview", json=request))
    return dict(ok(bench.api.post("/api/emergencies", json={"confirm_token": preview["confirm_token"]})))


def _scheduled(bench: BenchController, run: tuple[str, int]) -> dict[str, datetime]:
    """Each agent's `starts_at` for one run: ("emergency" or "schedule", id)."""
    column = Play.emergency_id if run[0] == "emergency" else Play.schedule_id
    with bench.controller.session_factory() as session:
        rows = session.execute(select(Play.agent_id, Play.starts_at).where(column == run[1])).all()
    return {agent_id: starts_at for agent_id, starts_at in rows}


def _skews(name: str, n: int, index: int, runs: list[dict[str, datetime]], results: dict[str, AgentResult]) -> Skew:
    """Each agent's plays in run `index`: those that started after its `starts_at` (less `EARLY`) and
    before the next run's. Runs follow one another: each begins only after the last one's plays finished."""
    skew = Skew(name, n, [], [])
    for agent_id, starts_at in runs[index].items():
        later = [r[agent_id] for r in runs[index + 1 :] if agent_id in r]
        until = min(later) - EARLY if later else datetime.max.replace(tzinfo=UTC)
        result = results.get(agent_id)
        mine = [p.started for p in (result.plays if result else []) if starts_at - EARLY <= p.started < until]
        if mine:
            skew.skews.append((mine[0] - starts_at).total_seconds())
            skew.starts.append(mine[0])
            skew.extra_starts += len(mine) - 1
    return skew


async def _run_loa(bench: BenchController, n: int, speed: float, workdir: Path, out: Out) -> list[Skew]:
    timeout = 60 + n / 20
    t = time.monotonic()
    commune_id, ids = await asyncio.to_thread(bench.seed_commune, n)
    storm = await asyncio.to_thread(bench.approved_bulletin, STORM)
    normal = await asyncio.to_thread(bench.approved_bulletin, SHORT_BULLETIN)
    out(f"  loa-xa: registered {n} agents in {time.monotonic() - t:.1f}s; emergency audio {storm['duration_s']:.1f}s")
    pool = FleetPool(ids, bench.fleet_spec(workdir / "agents", speed))
    t = time.monotonic()
    await pool.start()
    runs: list[tuple[str, tuple[str, int], float]] = []
    try:
        for milestone in ("connected", "manifest"):
            if not await pool.wait_for(milestone, n, timeout):
                raise TimeoutError(f"only {pool.progress.count(milestone)}/{n} agents reached {milestone!r}")
        out(f"  loa-xa: {n} agents in {pool.processes} process(es) connected in {time.monotonic() - t:.1f}s")
        await pool.arm()
        for name in ("emergency, audio not cached", "emergency, audio cached"):
            finished = pool.progress.events["finished"]
            t = time.monotonic()
            row = await asyncio.to_thread(_emergency, bench, commune_id, storm["id"])
            runs.append((name, ("emergency", int(row["id"])), time.monotonic() - t))
            if not await _until_events(pool, "finished", finished + n, timeout):
                out(f"  timeout: {name}: {pool.progress.events['finished'] - finished}/{n} plays finished")
            await asyncio.sleep(1.0)  # amplifiers cool down; stragglers' confirmations go out
        finished = pool.progress.events["finished"]
        lead = 5 + n / 40  # room for every agent to fetch the audio first
        body = {
            "bulletin_id": normal["id"],
            "commune_id": commune_id,
            "starts_at": (utcnow() + timedelta(seconds=lead)).isoformat(),
            "slot_name": "Benchmark",
        }
        t = time.monotonic()
        schedule = ok(await asyncio.to_thread(bench.api.post, "/api/schedules", json=body))
        runs.append(
            (f"booking at one instant, {lead:.0f} s ahead", ("schedule", int(schedule["id"])), time.monotonic() - t)
        )
        if not await _until_events(pool, "finished", finished + n, timeout + lead):
            out(f"  timeout: booking: {pool.progress.events['finished'] - finished}/{n} plays finished")
    finally:
        results = await pool.stop()
    scheduled = [_scheduled(bench, run) for _, run, _ in runs]
    skews = []
    for index, (name, _, post_s) in enumerate(runs):
        skews.append(_skews(name, n, index, scheduled, results))
        out(f"  {name}: the request took {post_s:.2f}s")
    return skews


def run(broker_url: str, n: int, speed: float, workdir: Path, out: Out) -> list[Skew]:
    with bench_controller(broker_url, workdir) as bench:
        return asyncio.run(_run_loa(bench, n, speed, workdir, out))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.skew", description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000, help="fleet size (default 1000)")
    parser.add_argument("--speed", type=float, default=50.0, help="virtual player speed-up (default 50x)")
    args = parser.parse_args(argv)
    quiet_logging()
    out: Out = print
    n = args.agents
    with mosquitto_for_benchmark() as (broker_url, version), tempfile.TemporaryDirectory(prefix="loa-skew-") as tmp:
        out(f"benchmarks.skew {stamp()}: broker {version} at {broker_url}; {machine()}")
        out(f"baseline: {n} asyncio tasks waking at one instant ...")
        base = os_baseline(n)
        out(f"loa-xa: controller + {n} simulated agents ...")
        skews = run(broker_url, n, args.speed, Path(tmp), out)
        out("")
        out(
            f"Start skew, {n} agents ({stamp()}). Broker: {version} (private, loopback). Machine: {machine()}. "
            f"Players virtual at {args.speed:g}x; amplifier warm-up {1000 / args.speed:.0f} ms."
        )
        out(
            table(
                [
                    "run",
                    "started",
                    "p50 abs skew (ms)",
                    "p99 abs skew (ms)",
                    "max abs skew (ms)",
                    "spread max−min (ms)",
                    "mean skew (ms)",
                    f"p99 ≤ {TARGET_P99_MS:.0f} ms",
                ],
                [base.row(), *(s.row() for s in skews)],
            )
        )
        extra = sum(s.extra_starts for s in skews)
        out(f"plays started more than once: {extra}")
    complete = all(len(s.skews) == s.expected for s in [base, *skews])
    return 0 if complete and extra == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
