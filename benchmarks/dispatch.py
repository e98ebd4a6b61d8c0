"""Manifest dispatch and confirmation round trip, against raw MQTT fan-out on the same Mosquitto.

    .venv/bin/python -m benchmarks.dispatch --agents 200 1000

For each N, on one private Mosquitto:

- **baseline**: N aiomqtt subscribers (one process, one asyncio loop), each on its own topic, and
  one paho publisher (as the controller's bus: QoS 1, retained, 200 in flight) sending one message
  of a signed one-play manifest's size to each topic. Timed from the first publish until every
  subscriber has its message.
- **loa-xa**: a real controller (HTTP, SQLite, scheduler, bus) and a `simulator.fleet.Fleet` of N
  real edge agents with virtual players. Agents are registered and connected first (timed apart),
  then one booking is POSTed. Timed: booking POST to every agent accepting the new manifest, and
  the booked start instant to every `finished` confirmation being stored in the database.

Both sides have the same shape, so the ratio compares like with like on the same cores: the
publisher (paho thread) or the controller runs in this process, and the subscribers or agents run
in one asyncio loop in a second process (they are separate devices in the field, and one process
holding both starves the controller of the GIL).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import multiprocessing
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
import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import SecretStr
from sqlalchemy import distinct, func, select

from benchmarks.common import Out, machine, mosquitto_for_benchmark, stamp, table
from controller.app import create_app
from controller.config import Settings
from controller.db.models import Play, PlayEvent
from controller.runtime import Controller
from controller.server import ServerThread
from loa.broker_url import parse_broker_url
from loa.clock import utcnow
from protocol import ManifestPlay, ScheduleManifest, Signer, Topics
from protocol.signing import generate_private_key
from simulator.demo import seed_commune, submit_and_approve
from simulator.fleet import Fleet, FleetSpec
from simulator.local import free_port, quiet_hours_away_from_now, throwaway_admin

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
    register_s: float
    connect_s: float
    manifest_s: float
    post_s: float
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


def _recv(conn: Connection, timeout: float, what: str) -> Any:
    if not conn.poll(timeout):
        raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
    return conn.recv()


def _quiet_logging() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # A late or failed play shows in the table; thousands of per-agent warnings would bury it.
    logging.getLogger("edge_agent").setLevel(logging.ERROR)


def _subscribers_worker(broker_url: str, n: int, root: str, timeout: float, conn: Connection) -> None:
    """Child process: N aiomqtt subscribers, one per topic. Reports when each has one message."""
    _quiet_logging()
    asyncio.run(_subscribers(broker_url, n, root, timeout, conn))


async def _subscribers(broker_url: str, n: int, root: str, timeout: float, conn: Connection) -> None:
    address = parse_broker_url(broker_url)
    slots = asyncio.Semaphore(CONNECT_CONCURRENCY)
    subscribed = received = 0
    all_subscribed, all_received, stop = asyncio.Event(), asyncio.Event(), asyncio.Event()
    last_at = 0.0

    async def subscriber(i: int) -> None:
        nonlocal subscribed, received, last_at
        async with AsyncExitStack() as stack:
            async with slots:
                client = await stack.enter_async_context(
                    aiomqtt.Client(
                        address.host,
                        address.port,
                        identifier=f"{root}-sub-{i}",
                        protocol=aiomqtt.ProtocolVersion.V311,
                        timeout=30,
                    )
                )
                await client.subscribe(f"{root}/{i}", qos=1)
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
    tasks = [asyncio.create_task(subscriber(i)) for i in range(n)]
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


def raw_fanout(broker_url: str, n: int, payload: bytes, timeout: float) -> Baseline:
    """N subscribers (another process) on their own topics; one paho publisher (this process) sends
    one retained QoS 1 message to each. Timed from the first publish to the last message received."""
    address = parse_broker_url(broker_url)
    root = f"raw{uuid.uuid4().hex[:8]}"
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_subscribers_worker, args=(broker_url, n, root, timeout, child), daemon=True)
    proc.start()
    try:
        _, connect_s = _recv(parent, timeout + 30, "the baseline subscribers to connect")
        publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{root}-pub", protocol=mqtt.MQTTv311)
        publisher.max_inflight_messages_set(200)  # as controller.dispatch.bus.MqttBus
        connected = threading.Event()
        publisher.on_connect = lambda *_args: connected.set()
        publisher.connect(address.host, address.port, keepalive=30)
        publisher.loop_start()
        try:
            if not connected.wait(15):
                raise TimeoutError("the baseline publisher could not connect")
            first_publish = time.monotonic()
            for i in range(n):
                publisher.publish(f"{root}/{i}", payload, qos=1, retain=True)
            _, received, last_at = _recv(parent, timeout + 30, "the baseline messages")
        finally:
            publisher.disconnect()
            publisher.loop_stop()
        if received != n:
            raise RuntimeError(f"baseline: only {received}/{n} subscribers got their message")
        parent.send("stop")
        proc.join(30)
    finally:
        if proc.is_alive():
            proc.terminate()
    return Baseline(connect_s, last_at - first_publish, len(payload))


def _fleet_worker(
    ids: list[str], spec: FleetSpec, timeout: float, conn: Connection, profile: str | None = None
) -> None:
    """Child process: the simulated fleet. Reports readiness, then when the booking's manifests landed."""
    _quiet_logging()
    if profile is None:
        asyncio.run(_fleet(ids, spec, timeout, conn))
        return
    profiler = cProfile.Profile()
    try:
        profiler.runcall(asyncio.run, _fleet(ids, spec, timeout, conn))
    finally:
        profiler.dump_stats(profile)


async def _fleet(ids: list[str], spec: FleetSpec, timeout: float, conn: Connection) -> None:
    n = len(ids)
    manifest_at: dict[str, float] = {}
    armed = False

    def on_event(agent_id: str, event: str) -> None:
        # Agents also accept an (empty) manifest when they first connect: count only the booking's.
        if armed and event == "manifest" and agent_id not in manifest_at:
            manifest_at[agent_id] = time.monotonic()

    fleet = Fleet(ids, spec, on_event=on_event)
    try:
        t = time.monotonic()
        await fleet.start()
        if not await fleet.wait_for("connected", n, timeout=timeout):
            raise TimeoutError(f"only {fleet.progress.count('connected')}/{n} agents connected")
        if not await fleet.wait_for("manifest", n, timeout=timeout):
            raise TimeoutError(f"only {fleet.progress.count('manifest')}/{n} agents got their first manifest")
        conn.send(("ready", time.monotonic() - t))
        await asyncio.to_thread(conn.recv)
        started_before = fleet.progress.events["started"]
        armed = True
        cpu0, wall0 = time.process_time(), time.monotonic()
        conn.send(("armed",))
        deadline = time.monotonic() + timeout
        while len(manifest_at) < n and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        conn.send(("manifests", len(manifest_at), max(manifest_at.values(), default=float("nan"))))
        await asyncio.to_thread(conn.recv)
        cpu = (time.process_time() - cpu0) / (time.monotonic() - wall0)
    finally:
        await fleet.stop()
    conn.send(("stopped", fleet.progress.events["started"] - started_before, cpu))


def run_loa(
    broker_url: str, n: int, speed: float, lead_s: float, workdir: Path, out: Out, profile: str | None = None
) -> LoaRun:
    """One booking to N real agents (another process) through a real controller (this process)."""
    run = uuid.uuid4().hex[:8]
    port = free_port()
    admin = throwaway_admin()
    settings = Settings(
        admin_username=admin[0],
        admin_password=SecretStr(admin[1]),
        data_dir=workdir / "controller",
        mqtt_url=broker_url,
        embedded_mqtt_port=free_port(),
        http_port=port,
        mqtt_client_id=f"bench-{run}",
        topic_root=f"bench{run}/loa/v1",
    )
    app = create_app(settings)
    controller: Controller = app.state.controller
    server = ServerThread(app, settings.http_host, port)
    server.start()
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = None
    try:
        base = settings.resolved_public_base_url
        with httpx.Client(base_url=base, timeout=120, auth=admin) as api:
            t = time.monotonic()
            commune_id, ids = seed_commune(api, n, prefix=f"b{run}")
            register_s = time.monotonic() - t
            bulletin = _ok(api.post("/api/bulletins", json=SHORT_BULLETIN))
            asset = _ok(api.post(f"/api/bulletins/{bulletin['id']}/render"))
            submit_and_approve(api, bulletin["id"], override="benchmark: short test audio")
            out(f"  loa-xa: registered {n} agents in {register_s:.1f}s (not counted); audio {asset['duration_s']:.1f}s")
            spec = FleetSpec(
                quiet_hours=quiet_hours_away_from_now(),
                broker_url=controller.broker_url,
                public_key=controller.public_key,
                topic_root=settings.topic_root,
                media_base_url=base,
                state_root=workdir / "agents",
                speed=speed,
            )
            timeout = 60 + lead_s
            proc = ctx.Process(target=_fleet_worker, args=(ids, spec, timeout, child, profile), daemon=True)
            proc.start()
            _, connect_s = _recv(parent, 2 * timeout, "the agents to connect")
            out(f"  loa-xa: {n} agents connected and holding their first manifest in {connect_s:.1f}s (not counted)")
            parent.send("arm")
            _recv(parent, 30, "the fleet to arm")

            booked = time.monotonic()
            cpu0 = time.process_time()
            starts_at = utcnow() + timedelta(seconds=lead_s)
            start_mono = booked + lead_s
            schedule = _ok(
                api.post(
                    "/api/schedules",
                    json={
                        "bulletin_id": bulletin["id"],
                        "commune_id": commune_id,
                        "starts_at": starts_at.isoformat(),
                        "slot_name": "Benchmark",
                    },
                )
            )
            post_s = time.monotonic() - booked
            _, got, last_manifest = _recv(parent, timeout + 30, "the booking's manifests")
            manifest_s = last_manifest - booked if got == n else float("nan")
            out(f"  loa-xa: booking POST to {got}/{n} manifests accepted: {manifest_s:.2f}s")
            if last_manifest > start_mono:
                out("  warning: manifests arrived after the booked start; raise --lead")

            deadline = start_mono + 120
            while True:
                finals = _count_final(controller, schedule["id"])
                if finals >= n:
                    stored_at = time.monotonic()
                    break
                if time.monotonic() > deadline:
                    stored_at = time.monotonic()
                    out(f"  timeout: only {finals}/{n} plays have a final confirmation stored")
                    break
                time.sleep(0.05)
        controller_cpu = (time.process_time() - cpu0) / (time.monotonic() - booked)
        parent.send("stop")
        _, started, agents_cpu = _recv(parent, 120, "the fleet to stop")
        proc.join(30)
        controller.ingestor.wait_idle(30)
        counts = _counts(controller, schedule["id"])
    finally:
        if proc is not None and proc.is_alive():
            proc.terminate()
        server.stop()
    return LoaRun(
        agents=n,
        register_s=register_s,
        connect_s=connect_s,
        manifest_s=manifest_s,
        post_s=post_s,
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


def _spread(values: list[float]) -> str:
    """median / 95th percentile / max, in seconds."""
    if not values:
        return "-"
    pick = values[min(len(values) - 1, int(len(values) * 0.95))]
    return f"{values[len(values) // 2]:.2f} / {pick:.2f} / {values[-1]:.2f}"


def _ok(response: httpx.Response) -> Any:
    if response.is_error:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response.json()


def default_lead(n: int) -> float:
    """Seconds from booking to the start: room for N manifests and N audio downloads."""
    return 5.0 + n / 25


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dispatch", description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[200], help="fleet sizes to run (default 200)")
    parser.add_argument("--speed", type=float, default=50.0, help="virtual player speed-up (default 50x)")
    parser.add_argument("--lead", type=float, default=None, help="booking lead time in s (default 5 + N/25)")
    parser.add_argument("--profile-agents", metavar="PATH", help="cProfile the agents' process into PATH.<N>")
    args = parser.parse_args(argv)
    _quiet_logging()
    out: Out = print
    ok = True
    summary: list[list[object]] = []
    with mosquitto_for_benchmark() as (broker_url, version), tempfile.TemporaryDirectory(prefix="loa-bench-") as tmp:
        out(f"benchmarks.dispatch {stamp()}: broker {version} at {broker_url}; {machine()}")
        payload = manifest_sized_payload("b00000000-0001", "bench00000000/loa/v1", "http://127.0.0.1:8000")
        for n in args.agents:
            lead = args.lead if args.lead is not None else default_lead(n)
            out(f"N={n}: baseline raw paho/aiomqtt fan-out ...")
            base = raw_fanout(broker_url, n, payload, timeout=120)
            out(f"  baseline: {n} subscribers connected in {base.connect_s:.1f}s; fan-out {base.fanout_s:.3f}s")
            out(f"N={n}: loa-xa controller + {n} simulated agents, lead {lead:.0f}s ...")
            profile = f"{args.profile_agents}.{n}" if args.profile_agents else None
            loa = run_loa(broker_url, n, args.speed, lead, Path(tmp) / f"n{n}", out, profile)
            ok = ok and loa.lost == 0 and loa.duplicate_rows == 0 and loa.extra_starts == 0
            ratio = loa.manifest_s / base.fanout_s if base.fanout_s > 0 else float("nan")
            out("")
            out(
                f"N={n} agents. Broker: {version} (private, loopback). Machine: {machine()}. "
                f"Players virtual at {args.speed:g}x ({loa.audio_s:.1f}s audio plays in "
                f"{loa.audio_s / args.speed:.2f}s). Publisher/controller in one process, subscribers/agents in another."
            )
            out(
                table(
                    ["measure", "value"],
                    [
                        [f"baseline raw fan-out, {base.payload_bytes} B QoS 1 retained (s)", base.fanout_s],
                        ["loa-xa booking POST → all manifests accepted (s)", loa.manifest_s],
                        ["ratio loa-xa / baseline", f"{ratio:.1f}x"],
                        ["  of which: booking POST returned, manifests signed and queued (s)", loa.post_s],
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
                            "CPU after booking, controller / agents process (1 core = 100%)",
                            f"{loa.controller_cpu:.0%} / {loa.agents_cpu:.0%}",
                        ],
                        ["(not counted) register agents via API (s)", loa.register_s],
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
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
