"""Kill real agent processes at random points, hundreds of times: no confirmation is ever lost or duplicated,
and the durable state is never corrupted.

Several lanes run at once, each one agent id with its own state dir, on the real Mosquitto and a
real (throttled, Range-capable) media server. Each cycle starts a real agent process, then ends it
one of two ways: SIGKILL at a random instant, or a fault point that calls `os._exit` mid-download
(a chunk just written), mid-play (audio running), mid-write (inside a SQLite transaction, before
COMMIT) or right after a `finished` went into the outbox. At the end one clean `loa agent` run,
started the ordinary way, lets everything settle; then every play must have exactly one terminal
confirmation, no (play, event) may have been confirmed twice under different ids, and the SQLite
state and media cache must be intact.

`LOA_KILL_TEST_KILLS` (default 200) sets the number of kills, `LOA_KILL_TEST_LANES` (default 4)
the number of agents killed in parallel, `LOA_KILL_TEST_SEED` the random seed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import http.server
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
import pytest_asyncio

from common.clock import utcnow
from edge_agent.faults import EXIT_BEFORE_CONFIRM, FAULT_EXIT_CODE, MID_DOWNLOAD, MID_PLAY, MID_WRITE
from protocol import Confirmation, ManifestPlay, ScheduleManifest, Signer, Topics, read_report
from protocol.signing import encode_public_key, generate_private_key
from tests.conftest import BrokerEndpoint

KILLS = int(os.environ.get("LOA_KILL_TEST_KILLS", "200"))
LANES = int(os.environ.get("LOA_KILL_TEST_LANES", "4"))
SEED = int(os.environ.get("LOA_KILL_TEST_SEED", str(random.SystemRandom().randrange(10**6))))
PLAY_EVERY_S = 0.9
PLAY_S = 0.3
AUDIO_BYTES = 24_000
GRACE_S = 2.0
ROOT = Path(__file__).resolve().parents[2]
TERMINAL = {"finished", "failed", "skipped"}


class ThrottledMedia:
    """Serves audio slowly (so kills land mid-download) and honours Range (so downloads resume)."""

    def __init__(self, bytes_per_s: float = 160_000) -> None:
        self.files: dict[str, bytes] = {}
        self.ranged = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                requested = self.headers.get("Range")
                start = int(requested.removeprefix("bytes=").split("-")[0]) if requested else 0
                if requested:
                    server.ranged += 1
                self.send_response(206 if requested else 200)
                if requested:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                try:
                    for i in range(start, len(body), 4096):
                        self.wfile.write(body[i : i + 4096])
                        time.sleep(4096 / bytes_per_s)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def add(self, data: bytes) -> tuple[str, str]:
        sha = hashlib.sha256(data).hexdigest()
        self.files[f"/media/{sha}.mp3"] = data
        return f"{self.base_url}/media/{sha}.mp3", sha

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class Zygote:
    """Talks to tests/edge_agent/kill_zygote.py: spawn an agent, learn when it exits and how."""

    def __init__(self, log_dir: Path) -> None:
        with (log_dir / "zygote.log").open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.edge_agent.kill_zygote"],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        self._spawned: dict[str, asyncio.Future[int]] = {}
        self._exits: dict[int, asyncio.Future[int]] = {}
        self._early: dict[int, int] = {}
        self._ready = threading.Event()
        self._loop = asyncio.get_running_loop()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._ready.wait(30):
            raise RuntimeError("the kill zygote did not start")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            msg = json.loads(line)
            if "ready" in msg:
                self._ready.set()
            else:
                self._loop.call_soon_threadsafe(self._deliver, msg)

    def _deliver(self, msg: dict[str, Any]) -> None:
        if "spawned" in msg:
            self._spawned.pop(msg["id"]).set_result(msg["spawned"])
        elif "exit" in msg:
            fut = self._exits.pop(msg["exit"], None)
            if fut is None:
                self._early[msg["exit"]] = msg["code"]
            else:
                fut.set_result(msg["code"])

    async def spawn(self, config: Path, env: dict[str, str], log: Path) -> tuple[int, asyncio.Future[int]]:
        request_id = uuid.uuid4().hex
        spawned: asyncio.Future[int] = self._loop.create_future()
        self._spawned[request_id] = spawned
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"id": request_id, "config": str(config), "env": env, "log": str(log)}) + "\n")
        self.proc.stdin.flush()
        pid = await asyncio.wait_for(spawned, 10)
        exited: asyncio.Future[int] = self._loop.create_future()
        if pid in self._early:
            exited.set_result(self._early.pop(pid))
        else:
            self._exits[pid] = exited
        return pid, exited

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.terminate()
        self.proc.wait(10)
        self._reader.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@dataclass
class Lane:
    agent_id: str
    state_dir: Path
    config: Path
    plays: list[ManifestPlay]
    kills: Counter[str] = field(default_factory=Counter)


@dataclass
class Collector:
    """The controller's side: every confirmation as received, redeliveries included."""

    received: list[Confirmation] = field(default_factory=list)

    def of(self, agent_id: str) -> list[Confirmation]:
        return [c for c in self.received if c.agent_id == agent_id]


@pytest_asyncio.fixture
async def collector(mosquitto: BrokerEndpoint, topic_root: str) -> AsyncIterator[tuple[Collector, aiomqtt.Client]]:
    found = Collector()
    async with aiomqtt.Client(mosquitto.host, mosquitto.port, identifier=f"kill-{uuid.uuid4().hex[:8]}") as client:
        await client.subscribe(f"{topic_root}/agents/+/confirmations", qos=1)

        async def collect() -> None:
            async for message in client.messages:
                if isinstance(message.payload, bytes) and message.payload:
                    parsed = read_report(message.payload).message
                    assert isinstance(parsed, Confirmation)
                    found.received.append(parsed)

        task = asyncio.create_task(collect())
        try:
            yield found, client
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await task


@pytest.fixture
def media_server() -> Iterator[ThrottledMedia]:
    server = ThrottledMedia()
    yield server
    server.close()


def agent_toml(lane_id: str, state_dir: Path, broker: BrokerEndpoint, key: str, root: str, media: str) -> str:
    return "\n".join(
        [
            f'agent_id = "{lane_id}"',
            f'broker_url = "{broker.url}"',
            f'controller_public_key = "{key}"',
            f'topic_root = "{root}"',
            f'state_dir = "{state_dir}"',
            f'media_base_url = "{media}"',
            'player = "virtual"',
            "amplifier_warmup_s = 0.05",
            "amplifier_cooldown_s = 0.05",
            f"late_grace_s = {GRACE_S}",
            "reconnect_max_s = 0.5",
            "telemetry_interval_s = 0",
            'quiet_hours_start = "00:00"',  # equal: no quiet hours, so the test runs at any hour
            'quiet_hours_end = "00:00"',
            "download_attempts = 2",
        ]
    )


def choose_death(rng: random.Random) -> tuple[str, dict[str, str], float]:
    """How this cycle's agent dies: (label, env, SIGKILL deadline in seconds)."""
    roll = rng.random()
    if roll < 0.55:
        return "sigkill", {}, rng.uniform(0.05, 1.6)
    point = (
        MID_DOWNLOAD if roll < 0.70 else MID_PLAY if roll < 0.80 else MID_WRITE if roll < 0.95 else EXIT_BEFORE_CONFIRM
    )
    after = rng.randint(1, 8) if point in (MID_DOWNLOAD, MID_WRITE) else 1
    return point, {"LOA_AGENT_FAULT": point, "LOA_AGENT_FAULT_AFTER": str(after)}, 3.0


async def run_lane(lane: Lane, zygote: Zygote, kills: int, rng: random.Random, log: Path) -> None:
    while sum(lane.kills.values()) < kills:
        label, env, deadline = choose_death(rng)
        pid, exited = await zygote.spawn(lane.config, env, log)
        try:
            code = await asyncio.wait_for(asyncio.shield(exited), deadline)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            code = await asyncio.wait_for(exited, 10)
            label = "sigkill" if label == "sigkill" else f"sigkill ({label} not reached)"
        if code == FAULT_EXIT_CODE:
            lane.kills[label] += 1
        elif code == -signal.SIGKILL:
            lane.kills[label if label.startswith("sigkill") else "sigkill"] += 1
        else:
            pytest.fail(f"agent {lane.agent_id} exited with {code} without being killed; see {log}")


def check_lane(lane: Lane, received: list[Confirmation], media_dir: Path) -> dict[str, int]:
    """The invariants. Returns counts for the summary."""
    by_msg: dict[str, Confirmation] = {}
    for c in received:
        assert by_msg.setdefault(c.msg_id, c) == c, f"msg_id {c.msg_id} reused for a different confirmation"
    ids_per_event: dict[tuple[str, str], set[str]] = defaultdict(set)
    for c in by_msg.values():
        ids_per_event[(c.play_id, c.event.value)].add(c.msg_id)
    duplicated = {k: v for k, v in ids_per_event.items() if len(v) > 1}
    assert not duplicated, f"{lane.agent_id}: confirmed twice under different ids: {duplicated}"
    events: dict[str, list[str]] = defaultdict(list)
    for c in sorted(by_msg.values(), key=lambda c: c.at):
        events[c.play_id].append(c.event.value)
    planned = {p.play_id for p in lane.plays}
    assert set(events) <= planned, f"{lane.agent_id}: confirmations for unknown plays"
    lost = [p for p in planned if not TERMINAL & set(events.get(p, []))]
    assert not lost, f"{lane.agent_id}: {len(lost)} plays have no terminal confirmation: {lost[:5]}"
    for play_id, seen in events.items():
        assert len(TERMINAL & set(seen)) == 1, f"{play_id}: more than one terminal state: {seen}"
        if "finished" in seen:
            assert "started" in seen, f"{play_id}: finished without started: {seen}"
    reasons = Counter(
        (c.event.value, (c.reason or "").split(":")[0]) for c in by_msg.values() if c.event.value in TERMINAL
    )
    with sqlite3.connect(lane.state_dir / "agent.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
        statuses = dict(db.execute("SELECT play_id, status FROM plays").fetchall())
    for play_id, seen in events.items():
        terminal = (TERMINAL & set(seen)).pop()
        assert statuses.get(play_id) == terminal, f"{play_id}: state says {statuses.get(play_id)}, sent {terminal}"
    for mp3 in media_dir.glob("*.mp3"):
        assert hashlib.sha256(mp3.read_bytes()).hexdigest() == mp3.stem, f"corrupt cache file {mp3.name}"
    return {
        "redelivered": len(received) - len(by_msg),
        "finished": reasons[("finished", "")],
        "interrupted": reasons[("failed", "interrupted")],
        "late": reasons[("skipped", "late")],
        "plays": len(planned),
    }


@pytest.mark.asyncio
async def test_killing_agents_at_random_points_never_loses_or_duplicates_a_confirmation(
    mosquitto: BrokerEndpoint,
    topic_root: str,
    tmp_path: Path,
    media_server: ThrottledMedia,
    collector: tuple[Collector, aiomqtt.Client],
) -> None:
    found, client = collector
    rng = random.Random(SEED)
    signer = Signer(generate_private_key())
    key = encode_public_key(signer.public_key)
    topics = Topics(topic_root)
    lanes_n = max(1, min(LANES, KILLS))
    per_lane = -(-KILLS // lanes_n)
    plan_s = per_lane * 1.1 + 5  # about how long the kills take; the plays cover it
    start = utcnow() + timedelta(seconds=2)
    lanes = []
    for n in range(lanes_n):
        agent_id = f"kill-{uuid.uuid4().hex[:8]}-{n}"
        state_dir = tmp_path / agent_id
        plays = []
        for i in range(int(plan_s / PLAY_EVERY_S)):
            url, sha = media_server.add(f"{agent_id}-{i}".encode() + os.urandom(AUDIO_BYTES))
            plays.append(
                ManifestPlay(
                    play_id=f"{agent_id[:20]}-{i:04d}".replace(".", "-"),
                    starts_at=start + timedelta(seconds=i * PLAY_EVERY_S),
                    bulletin_id="kill-test",
                    audio_url=url,
                    sha256=sha,
                    size_bytes=AUDIO_BYTES + len(f"{agent_id}-{i}"),
                    duration_s=PLAY_S,
                )
            )
        config = tmp_path / f"{agent_id}.toml"
        config.write_text(agent_toml(agent_id, state_dir, mosquitto, key, topic_root, media_server.base_url))
        manifest = ScheduleManifest(
            agent_id=agent_id,
            issued_at=utcnow(),
            expires_at=utcnow() + timedelta(hours=2),
            revision=1,
            horizon_end=plays[-1].starts_at,
            plays=tuple(plays),
        )
        topic = topics.manifest(agent_id)
        await client.publish(topic, signer.sign(topic, manifest), qos=1, retain=True)
        lanes.append(Lane(agent_id, state_dir, config, plays))

    zygote = Zygote(tmp_path)
    t0 = time.monotonic()
    try:
        await asyncio.gather(
            *(
                run_lane(lane, zygote, per_lane, random.Random(rng.random()), tmp_path / f"{lane.agent_id}.log")
                for lane in lanes
            )
        )
    finally:
        zygote.close()
    kill_phase_s = time.monotonic() - t0

    # One clean run of each agent, started the ordinary way, until every play is settled and confirmed.
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOA_AGENT_FAULT")}
    env["GPIOZERO_PIN_FACTORY"] = "mock"
    finals = []
    for lane in lanes:
        with (tmp_path / f"{lane.agent_id}.final.log").open("wb") as log:
            finals.append(
                subprocess.Popen(
                    [sys.executable, "-m", "loa.cli", "agent", "--config", str(lane.config)],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
            )
    try:
        deadline = time.monotonic() + 120

        def settled() -> bool:
            return all(
                {p.play_id for p in lane.plays}
                <= {c.play_id for c in found.of(lane.agent_id) if c.event.value in TERMINAL}
                for lane in lanes
            )

        last = max(p.starts_at for lane in lanes for p in lane.plays)
        while not settled() or utcnow() < last + timedelta(seconds=GRACE_S + 1):
            assert time.monotonic() < deadline, "the clean run never settled every play"
            assert all(p.poll() is None for p in finals), "a clean agent run died"
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)  # room for a late duplicate to show up, if any were coming
    finally:
        for proc in finals:
            proc.send_signal(signal.SIGTERM)
        for proc in finals:
            assert proc.wait(30) == 0

    totals: Counter[str] = Counter()
    kills: Counter[str] = Counter()
    for lane in lanes:
        kills.update(lane.kills)
        totals.update(check_lane(lane, found.of(lane.agent_id), lane.state_dir / "media"))
    summary = (
        f"seed {SEED}: {sum(kills.values())} kills in {kill_phase_s:.0f}s over {lanes_n} agents "
        f"({dict(sorted(kills.items()))}); {totals['plays']} plays: {totals['finished']} finished, "
        f"{totals['interrupted']} interrupted, {totals['late']} late; {totals['redelivered']} QoS-1 redeliveries; "
        f"{media_server.ranged} resumed downloads"
    )
    print(summary)
    assert sum(kills.values()) >= KILLS, summary
    if KILLS >= 100:  # with enough kills, every kind of death must have happened for real
        for point in (MID_DOWNLOAD, MID_PLAY, MID_WRITE):
            assert kills[point] > 0, summary
        assert totals["interrupted"] > 0 and totals["finished"] > 0, summary
        assert media_server.ranged > 0, summary  # a download cut by a kill resumed where it stopped
