"""Manifest dispatch and confirmation round trip, against raw MQTT fan-out on the same Mosquitto.

    .venv/bin/python -m benchmarks.dispatch --agents 1000 5000

For each N, on one private Mosquitto:

- **baseline**: N aiomqtt subscribers, each on its own topic, and one paho publisher (as the
  controller's bus: QoS 1, retained, `MAX_INFLIGHT` in flight) sending one message of a signed
  one-play manifest's size to each topic. Timed from the first publish until every subscriber has
  its message.
- **loa-xa**: a real controller (HTTP, SQLite, scheduler, bus) and a `simulator.pool.FleetPool` of
  N real edge agents with virtual players. Agents are registered (in one transaction) and connected
  first, timed apart; then one booking is POSTed. Timed: booking POST to every agent accepting the
  new manifest, and the booked start instant to every `finished` confirmation being stored.

Both sides have the same shape, so the ratio compares like with like on the same cores: the
publisher (paho thread) or the controller runs in this process, and the subscribers or agents run
in as many other processes as `FleetPool` picks for N (one per 1,500 agents, at most one per
core); they are separate devices in the field, and one process holding both starves the
controller of the GIL.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import tempfile
import threading
import time
import uuid
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiomqtt
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import distinct, func, select

from benchmarks.common import (
    BenchController,
    Out,
    bench_controller,
    machine,
    mosquitto_for_benchmark,
    ok,
    quiet_logging,
    recv,
    spawned_children_cpu_s,
    stamp,
    table,
)
from common.broker_url import parse_broker_url
from common.clock import utcnow
from controller.db.models import Play, PlayEvent
from controller.dispatch.bus import MAX_INFLIGHT
from controller.runtime import Controller
from protocol import ManifestPlay, ScheduleManifest, Signer, Topics
from protocol.signing import generate_private_key
from simulator.pool import FleetPool, default_processes

SHORT_BULLETIN = {
    "title": "Cảnh giác lừa đảo qua điện thoại",
    "topic": "an-ninh-mang",
    "body": "Bà con lưu ý. Cơ quan công an không bao giờ gọi điện yêu cầu chuyển tiền.",
    "legal_references": ["Luật An ninh mạng số 24/2018/QH14"],
}
FINAL = ("finished", "failed", "skipped")
CONNECT_CONCURRENCY = 50
"""How many MQTT connects are in progress at once, so neither side is timed on a connect storm."""


@dataclass
class Baseline:
    connect_s: float
    fanout_s: float
    payload_bytes: int


@dataclass
class LoaRun:
    agents: int
    processes: int
    register_s: float
    connect_s: float
    manifest_s: float
    accepted: str
    post_s: float
    published_s: float
    lead_s: float
    audio_s: float
    stored_after_start_s: float
    finished_stored: int
    final_stored: int
    lost: int
    duplicate_rows: int
    extra_starts: int
    redeliveries_absorbed: int
    finished_per_s: float
    played: str
    lag: str
    controller_cpu: float
    agents_cpu: float


def manifest_sized_payload(agent_id: str, root: str, base_url: str) -> bytes:
    """A signed manifest with one play, as the controller sends it: the baseline's message."""
    now = utcnow()
    topic = Topics(root).manifest(agent_id)
    manifest = ScheduleManifest(
        agent_id=agent_id,
        issued_at=now,
        expires_at=now + timedelta(hours=96),
        revision=2,
        horizon_end=now + timedelta(hours=72),
        plays=(
            ManifestPlay(
                play_id=uuid.uuid4().hex,
                starts_at=now + timedelta(seconds=10),
                bulletin_id="canh-giac-lua-dao-qua-dien-thoai",
                title=str(SHORT_BULLETIN["title"]),
                audio_url=f"{base_url}/media/{'a' * 64}.mp3",
                sha256="a" * 64,
                size_bytes=20_000,
                duration_s=5.0,
            ),
        ),
    )
    return Signer(generate_private_key()).sign(topic, manifest)


def _subscribers_worker(broker_url: str, topics: list[str], root: str, timeout: float, conn: Connection) -> None:
    """Child process: one aiomqtt subscriber per topic. Reports when each has one message."""
    quiet_logging()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(_subscribers(broker_url, topics, root, timeout, conn))


async def _subscribers(broker_url: str, topics: list[str], root: str, timeout: float, conn: Connection) -> None:
    address = parse_broker_url(broker_url)
    n = len(topics)
    slots = asyncio.Semaphore(CONNECT_CONCURRENCY)
    subscribed = received = 0
    all_subscribed, all_received, stop = asyncio.Event(), asyncio.Event(), asyncio.Event()
    last_at = 0.0

    async def subscriber(topic: str) -> None:
        nonlocal subscribed, received, last_at
        async with AsyncExitStack() as stack:
            async with slots:
                client = await stack.enter_async_context(
                    aiomqtt.Client(
                        address.host,
                        address.port,
                        identifier=f"{root}-sub-{topic.rsplit('/', 1)[-1]}",
                        protocol=aiomqtt.ProtocolVersion.V311,
                        timeout=30,
                    )
                )
                await client.subscribe(topic, qos=1)
            subscribed += 1
            if subscribed == n:
                all_subscribed.set()
            async for _message in client.messages:
                received += 1
                last_at = time.monotonic()
                if received == n:
                    all_received.set()
                break
            await stop.wait()

    t = time.monotonic()
    tasks = [asyncio.create_task(subscriber(topic)) for topic in topics]
    try:
        await asyncio.wait_for(all_subscribed.wait(), timeout)
        conn.send(("ready", time.monotonic() - t))
        with suppress(TimeoutError):
            await asyncio.wait_for(all_received.wait(), timeout)
        conn.send(("received", received, last_at))  # CLOCK_MONOTONIC is system-wide on Linux
        await asyncio.to_thread(conn.recv)
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


def raw_fanout(broker_url: str, n: int, payload: bytes, timeout: float, processes: int) -> Baseline:
    """N subscribers (in `processes` other processes, as the agents) on their own topics; one paho
    publisher (this process) sends one retained QoS 1 message to each. Timed from the first publish
    to the last message received."""
    address = parse_broker_url(broker_url)
    root = f"raw{uuid.uuid4().hex[:8]}"
    topics = [f"{root}/{i}" for i in range(n)]
    bounds = [round(i * n / processes) for i in range(processes + 1)]
    ctx = multiprocessing.get_context("spawn")
    procs: list[multiprocessing.process.BaseProcess] = []
    conns: list[Connection] = []
    try:
        for i in range(processes):
            parent, child = ctx.Pipe()
            part = topics[bounds[i] : bounds[i + 1]]
            proc = ctx.Process(target=_subscribers_worker, args=(broker_url, part, root, timeout, child), daemon=True)
            proc.start()
            procs.append(proc)
            conns.append(parent)
        connect_s = max(recv(c, timeout + 30, "the baseline subscribers to connect")[1] for c in conns)
        publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{root}-pub", protocol=mqtt.MQTTv311)
        publisher.max_inflight_messages_set(MAX_INFLIGHT)  # as controller.dispatch.bus.MqttBus
        connected = threading.Event()
        publisher.on_connect = lambda *_args: connected.set()
        publisher.connect(address.host, address.port, keepalive=30)
        publisher.loop_start()
        try:
            if not connected.wait(15):
                raise TimeoutError("the baseline publisher could not connect")
            first_publish = time.monotonic()
            for topic in topics:
                publisher.publish(topic, payload, qos=1, retain=True)
            replies = [recv(c, timeout + 30, "the baseline messages") for c in conns]
        finally:
            publisher.disconnect()
            publisher.loop_stop()
        received = sum(r[1] for r in replies)
        if received != n:
            raise RuntimeError(f"baseline: only {received}/{n} subscribers got their message")
        for c in conns:
            c.send("stop")
        for worker in procs:
            worker.join(30)
    finally:
        for worker in procs:
            if worker.is_alive():
                worker.terminate()
    return Baseline(connect_s, max(r[2] for r in replies) - first_publish, len(payload))


def run_loa(
    broker_url: str, n: int, speed: float, lead_s: float, workdir: Path, out: Out, processes: int | None = None
) -> LoaRun:
    """One booking to N real agents (a FleetPool of other processes) through a real controller (this process)."""
    with bench_controller(broker_url, workdir) as bench:
        return asyncio.run(_run_loa(bench, n, speed, lead_s, workdir, out, processes))


async def _run_loa(
    bench: BenchController, n: int, speed: float, lead_s: float, workdir: Path, out: Out, processes: int | None
) -> LoaRun:
    controller = bench.controller
    t = time.monotonic()
    commune_id, ids = await asyncio.to_thread(bench.seed_commune, n)
    register_s = time.monotonic() - t
    asset = await asyncio.to_thread(bench.approved_bulletin, SHORT_BULLETIN)
    out(f"  loa-xa: registered {n} agents in {register_s:.1f}s (not counted); audio {asset['duration_s']:.1f}s")
    pool = FleetPool(ids, bench.fleet_spec(workdir / "agents", speed), processes=processes)
    timeout = 60 + lead_s + n / 50
    t = time.monotonic()
    await pool.start()
    try:
        for milestone in ("connected", "manifest"):
            if not await pool.wait_for(milestone, n, timeout):
                raise TimeoutError(f"only {pool.progress.count(milestone)}/{n} agents reached {milestone!r}")
        connect_s = time.monotonic() - t
        out(
            f"  loa-xa: {n} agents in {pool.processes} process(es) connected and holding their first manifest"
            f" in {connect_s:.1f}s (not counted)"
        )
        await pool.arm()

        booked = time.monotonic()
        cpu0, agents_cpu0 = time.process_time(), spawned_children_cpu_s()
        starts_at = utcnow() + timedelta(seconds=lead_s)
        start_mono = booked + lead_s
        body = {
            "bulletin_id": asset["id"],
            "commune_id": commune_id,
            "starts_at": starts_at.isoformat(),
            "slot_name": "Benchmark",
        }
        schedule = ok(await asyncio.to_thread(bench.api.post, "/api/schedules", json=body))
        post_s = time.monotonic() - booked
        while controller.bus.unacknowledged and time.monotonic() < booked + timeout:
            await asyncio.sleep(0.005)
        published_s = time.monotonic() - booked
        if not await pool.wait_for("manifest", n, timeout, since_arm=True):
            out(f"  timeout: only {pool.progress.count('manifest', since_arm=True)}/{n} agents accepted the manifest")

        deadline = start_mono + 120
        while True:
            finals = await asyncio.to_thread(_count_final, controller, schedule["id"])
            if finals >= n:
                break
            if time.monotonic() > deadline:
                out(f"  timeout: only {finals}/{n} plays have a final confirmation stored")
                break
            await asyncio.sleep(0.05)
        stored_at = time.monotonic()
        wall = stored_at - booked
        controller_cpu = (time.process_time() - cpu0) / wall
        agents_cpu = (spawned_children_cpu_s() - agents_cpu0) / wall
    finally:
        results = await pool.stop()
    controller.ingestor.wait_idle(30)
    counts = _counts(controller, schedule["id"])
    arrivals = sorted(r.manifest_at for r in results.values() if r.manifest_at is not None)
    manifest_s = arrivals[-1] - booked if len(arrivals) == n else float("nan")
    out(f"  loa-xa: booking POST to {len(arrivals)}/{n} manifests accepted: {manifest_s:.2f}s")
    if arrivals and arrivals[-1] > start_mono:
        out("  warning: manifests arrived after the booked start; raise --lead")
    started = sum(r.events["started"] for r in results.values())
    return LoaRun(
        agents=n,
        processes=pool.processes,
        register_s=register_s,
        connect_s=connect_s,
        manifest_s=manifest_s,
        accepted=_first_median_last([a - booked for a in arrivals]),
        post_s=post_s,
        published_s=published_s,
        lead_s=lead_s,
        audio_s=float(asset["duration_s"]),
        stored_after_start_s=stored_at - start_mono,
        finished_stored=counts["finished"],
        final_stored=counts["final"],
        lost=n - counts["finished"],
        duplicate_rows=counts["rows"] - counts["distinct"],
        extra_starts=max(0, started - n),
        redeliveries_absorbed=controller.ingestor.totals.duplicates,
        finished_per_s=counts["finished_per_s"],
        played=counts["played"],
        lag=counts["lag"],
        controller_cpu=controller_cpu,
        agents_cpu=agents_cpu,
    )


def _count_final(controller: Controller, schedule_id: int) -> int:
    """Plays of the schedule with a final confirmation (finished, failed or skipped) stored."""
    with controller.session_factory() as session:
        stmt = (
            select(func.count(distinct(PlayEvent.play_id)))
            .join(Play, Play.id == PlayEvent.play_id)
            .where(Play.schedule_id == schedule_id, PlayEvent.event.in_(FINAL))
        )
        return int(session.scalar(stmt) or 0)


def _counts(controller: Controller, schedule_id: int) -> dict[str, Any]:
    with controller.session_factory() as session:
        events = (
            select(PlayEvent).join(Play, Play.id == PlayEvent.play_id).where(Play.schedule_id == schedule_id).subquery()
        )
        rows = session.scalar(select(func.count()).select_from(events)) or 0
        keys = select(events.c.play_id, events.c.event).distinct().subquery()
        distinct_keys = session.scalar(select(func.count()).select_from(keys)) or 0
        finished = session.scalar(select(func.count(distinct(events.c.play_id))).where(events.c.event == "finished"))
        final = session.scalar(select(func.count(distinct(events.c.play_id))).where(events.c.event.in_(FINAL)))
        first, last = session.execute(
            select(func.min(events.c.received_at), func.max(events.c.received_at)).where(events.c.event == "finished")
        ).one()
        finished_rows = session.execute(
            select(events.c.at, events.c.received_at, Play.starts_at)
            .join(Play, Play.id == events.c.play_id)
            .where(events.c.event == "finished")
        ).all()
    span = (last - first).total_seconds() if first is not None and last is not None else 0.0
    played = sorted((r.at - r.starts_at).total_seconds() for r in finished_rows)
    lag = sorted((r.received_at - r.at).total_seconds() for r in finished_rows)
    return {
        "rows": int(rows),
        "distinct": int(distinct_keys),
        "finished": int(finished or 0),
        "final": int(final or 0),
        "finished_per_s": (finished or 0) / span if span > 0 else float("nan"),
        "played": _spread(played),
        "lag": _spread(lag),
    }


def _first_median_last(values: list[float]) -> str:
    """first / median / last of sorted values, in seconds."""
    if not values:
        return "-"
    return f"{values[0]:.2f} / {values[len(values) // 2]:.2f} / {values[-1]:.2f}"


def _spread(values: list[float]) -> str:
    """median / 95th percentile / max, in seconds."""
    if not values:
        return "-"
    pick = values[min(len(values) - 1, int(len(values) * 0.95))]
    return f"{values[len(values) // 2]:.2f} / {pick:.2f} / {values[-1]:.2f}"


def default_lead(n: int) -> float:
    """Seconds from booking to the start: room for N manifests and N audio downloads."""
    return 5.0 + n / 100


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dispatch", description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[200], help="fleet sizes to run (default 200)")
    parser.add_argument("--speed", type=float, default=50.0, help="virtual player speed-up (default 50x)")
    parser.add_argument(
        "--processes", type=int, default=None, help="agent (and subscriber) processes (default: FleetPool's choice)"
    )
    parser.add_argument("--lead", type=float, default=None, help="booking lead time in s (default 5 + N/100)")
    args = parser.parse_args(argv)
    quiet_logging()
    out: Out = print
    all_ok = True
    summary: list[list[object]] = []
    with mosquitto_for_benchmark() as (broker_url, version), tempfile.TemporaryDirectory(prefix="loa-bench-") as tmp:
        out(f"benchmarks.dispatch {stamp()}: broker {version} at {broker_url}; {machine()}")
        payload = manifest_sized_payload("b00000000-0001", "bench00000000/loa/v1", "http://127.0.0.1:8000")
        for n in args.agents:
            lead = args.lead if args.lead is not None else default_lead(n)
            processes = args.processes or default_processes(n)
            out(f"N={n}: baseline raw paho/aiomqtt fan-out to subscribers in {processes} process(es) ...")
            base = raw_fanout(broker_url, n, payload, timeout=120 + n / 50, processes=processes)
            out(f"  baseline: {n} subscribers connected in {base.connect_s:.1f}s; fan-out {base.fanout_s:.3f}s")
            out(f"N={n}: loa-xa controller + {n} simulated agents, lead {lead:.0f}s ...")
            loa = run_loa(broker_url, n, args.speed, lead, Path(tmp) / f"n{n}", out, processes)
            all_ok = all_ok and loa.lost == 0 and loa.duplicate_rows == 0 and loa.extra_starts == 0
            ratio = loa.manifest_s / base.fanout_s if base.fanout_s > 0 else float("nan")
            out("")
            out(
                f"N={n} agents. Broker: {version} (private, loopback). Machine: {machine()}. "
                f"Players virtual at {args.speed:g}x ({loa.audio_s:.1f}s audio plays in "
                f"{loa.audio_s / args.speed:.2f}s). Publisher/controller in this process, "
                f"subscribers/agents in {loa.processes} other process(es)."
            )
            out(
                table(
                    ["measure", "value"],
                    [
                        [f"baseline raw fan-out, {base.payload_bytes} B QoS 1 retained (s)", base.fanout_s],
                        ["loa-xa booking POST → all manifests accepted (s)", loa.manifest_s],
                        ["ratio loa-xa / baseline", f"{ratio:.1f}x"],
                        ["  of which: booking POST returned, manifests signed and queued (s)", loa.post_s],
                        ["  of which: every manifest acknowledged by the broker (s)", loa.published_s],
                        ["  agents accepted the manifest, after the POST: first / median / last (s)", loa.accepted],
                        ["confirmations stored (finished)", f"{loa.finished_stored}/{n}"],
                        ["booked start → every play's final confirmation stored (s)", loa.stored_after_start_s],
                        ["plays skipped or failed (e.g. late)", loa.final_stored - loa.finished_stored],
                        ["finished confirmations stored per s (first → last)", loa.finished_per_s],
                        ["agent finished, after booked start: median / p95 / max (s)", loa.played],
                        ["agent finished → stored: median / p95 / max (s)", loa.lag],
                        ["lost (expected − stored)", loa.lost],
                        ["duplicate PlayEvent rows", loa.duplicate_rows],
                        ["plays started more than once", loa.extra_starts],
                        ["redeliveries absorbed by ingest", loa.redeliveries_absorbed],
                        [
                            "CPU from booking to all stored, controller / all agents processes (1 core = 100%)",
                            f"{loa.controller_cpu:.0%} / {loa.agents_cpu:.0%}",
                        ],
                        ["(not counted) register agents, one transaction (s)", loa.register_s],
                        ["(not counted) agents connected + first manifest (s)", loa.connect_s],
                        ["(not counted) baseline subscribers connected (s)", base.connect_s],
                    ],
                )
            )
            out("")
            summary.append(
                [
                    n,
                    base.fanout_s,
                    loa.manifest_s,
                    f"{ratio:.1f}x",
                    f"{loa.finished_stored}/{n}",
                    loa.stored_after_start_s,
                    loa.lost,
                    loa.duplicate_rows + loa.extra_starts,
                ]
            )
        out(f"Summary ({stamp()}): {version}, {machine()}, virtual players at {args.speed:g}x.")
        out(
            table(
                [
                    "agents",
                    "raw fan-out (s)",
                    "loa-xa manifests (s)",
                    "ratio",
                    "finished stored",
                    "start → all stored (s)",
                    "lost",
                    "duplicates",
                ],
                summary,
            )
        )
    return 0 if all_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
