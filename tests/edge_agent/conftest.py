"""Fixtures for the edge agent: a real HTTP media server, a signing controller on the real broker, agents."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import http.server
import threading
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
import pytest_asyncio
from gpiozero.pins.mock import MockFactory

from common.clock import utcnow
from edge_agent import Agent, AgentConfig, VirtualPlayer
from protocol import (
    AgentState,
    Confirmation,
    ManifestPlay,
    Priority,
    ScheduleManifest,
    SecurityEvent,
    Signer,
    Topics,
    decode_agent_message,
)
from protocol.messages import AgentMessage, SignedMessage, new_msg_id
from protocol.signing import encode_public_key, generate_private_key
from simulator.local import free_port, quiet_hours_away_from_now
from tests.conftest import BrokerEndpoint

WAIT = 20.0
"""Generous limit for anything event-driven; a healthy run never comes close."""


# -- audio over real HTTP ------------------------------------------------------------------------


@dataclass(frozen=True)
class Audio:
    """A file the media server serves, with the size and SHA-256 a manifest would carry."""

    url: str
    path: str
    sha256: str
    size_bytes: int
    data: bytes


class MediaServer:
    """A stdlib HTTP server on a free loopback port. Tests can corrupt, break or count downloads."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: Counter[str] = Counter()
        self.failures: dict[str, list[int]] = {}
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests[self.path] += 1
                pending = server.failures.get(self.path)
                if pending:
                    self.send_error(pending.pop(0))
                    return
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "audio/mpeg")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="media-server", daemon=True
        )
        self._thread.start()

    def add(self, data: bytes, *, served: bytes | None = None) -> Audio:
        """Serve `served` (default: `data`) at /media/<sha of data>.mp3."""
        sha = hashlib.sha256(data).hexdigest()
        path = f"/media/{sha}.mp3"
        self.files[path] = data if served is None else served
        return Audio(self.base_url + path, path, sha, len(data), data)

    def fail(self, audio: Audio, *statuses: int) -> None:
        """Answer the next requests for `audio` with these HTTP errors."""
        self.failures[audio.path] = list(statuses)

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


def fake_mp3(seed: str, size: int = 6000) -> bytes:
    """MP3-looking bytes (ID3 header, then filler). The virtual player never decodes them."""
    filler = hashlib.sha256(seed.encode()).digest() * (size // 32 + 1)
    return (b"ID3\x04\x00\x00\x00\x00\x00\x00" + filler)[:size]


@pytest.fixture
def media() -> Iterator[MediaServer]:
    server = MediaServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def audio(media: MediaServer) -> Audio:
    return media.add(fake_mp3(uuid.uuid4().hex))


# -- signing, messages ---------------------------------------------------------------------------


@pytest.fixture
def signer() -> Signer:
    return Signer(generate_private_key())


@pytest.fixture
def agent_id() -> str:
    """Unique per test: the broker keeps a persistent session per client id for the whole run."""
    return f"loa-{uuid.uuid4().hex[:10]}"


def make_play(
    audio: Audio,
    starts_in_s: float,
    *,
    duration_s: float = 0.4,
    priority: Priority = Priority.NORMAL,
    play_id: str | None = None,
    relative_url: bool = False,
) -> ManifestPlay:
    return ManifestPlay(
        play_id=play_id or new_msg_id(),
        starts_at=utcnow() + timedelta(seconds=starts_in_s),
        bulletin_id="b-test",
        title="Cảnh giác lừa đảo",
        audio_url=audio.path if relative_url else audio.url,
        sha256=audio.sha256,
        size_bytes=audio.size_bytes,
        duration_s=duration_s,
        priority=priority,
    )


def make_manifest(
    agent_id: str,
    revision: int,
    plays: tuple[ManifestPlay, ...] | list[ManifestPlay],
    *,
    issued_at: datetime | None = None,
    valid_for: timedelta = timedelta(hours=1),
) -> ScheduleManifest:
    issued = issued_at or utcnow()
    return ScheduleManifest(
        agent_id=agent_id,
        issued_at=issued,
        expires_at=issued + valid_for,
        revision=revision,
        horizon_end=issued + timedelta(hours=72),
        plays=tuple(plays),
    )


def command_fields(agent_id: str, *, valid_for: timedelta = timedelta(minutes=5)) -> dict[str, Any]:
    now = utcnow()
    return {"agent_id": agent_id, "issued_at": now, "expires_at": now + valid_for}


# -- the controller's side of the broker ---------------------------------------------------------


@dataclass
class ControllerSide:
    """A plain MQTT client standing in for the controller: signs and publishes, collects what agents send."""

    client: aiomqtt.Client
    topics: Topics
    agent_id: str
    signer: Signer
    received: list[tuple[str, AgentMessage]] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def _collect(self) -> None:
        async for message in self.client.messages:
            payload = message.payload
            assert isinstance(payload, bytes)
            if not payload:
                continue
            parsed = decode_agent_message(payload)
            async with self._changed:
                self.received.append((message.topic.value, parsed))
                self._changed.notify_all()

    async def publish_signed(self, topic: str, message: SignedMessage, *, retain: bool = False) -> None:
        await self.client.publish(topic, self.signer.sign(topic, message), qos=1, retain=retain)

    async def send_manifest(self, manifest: ScheduleManifest) -> None:
        await self.publish_signed(self.topics.manifest(manifest.agent_id), manifest, retain=True)

    async def send_command(self, command: SignedMessage) -> None:
        await self.publish_signed(self.topics.commands(command.agent_id), command)

    async def publish_raw(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        await self.client.publish(topic, payload, qos=1, retain=retain)

    def confirmations(self, play_id: str | None = None) -> list[Confirmation]:
        return [
            m for _, m in self.received if isinstance(m, Confirmation) and (play_id is None or m.play_id == play_id)
        ]

    def events(self, play_id: str) -> list[str]:
        return [c.event.value for c in self.confirmations(play_id)]

    def security_events(self) -> list[SecurityEvent]:
        return [m for _, m in self.received if isinstance(m, SecurityEvent)]

    def states(self) -> list[AgentState]:
        return [m for _, m in self.received if isinstance(m, AgentState)]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = WAIT) -> Any:
        """Wait until `predicate()` is truthy, re-checking on every received message."""
        async with self._changed:
            result = await asyncio.wait_for(self._changed.wait_for(predicate), timeout)
        return result

    async def wait_for_event(self, play_id: str, event: str, timeout: float = WAIT) -> Confirmation:
        await self.wait_for(lambda: event in self.events(play_id), timeout)
        return next(c for c in self.confirmations(play_id) if c.event.value == event)


@pytest_asyncio.fixture
async def controller(
    mosquitto: BrokerEndpoint, topic_root: str, agent_id: str, signer: Signer
) -> AsyncIterator[ControllerSide]:
    topics = Topics(topic_root)
    async with aiomqtt.Client(
        mosquitto.host, mosquitto.port, identifier=f"ctl-{uuid.uuid4().hex[:8]}", clean_session=True
    ) as client:
        side = ControllerSide(client, topics, agent_id, signer)
        for channel in ("confirmations", "security", "state", "telemetry"):
            await client.subscribe(f"{topic_root}/agents/{agent_id}/{channel}", qos=1)
        task = asyncio.create_task(side._collect())
        try:
            yield side
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await task


# -- agents --------------------------------------------------------------------------------------


@dataclass
class Milestones:
    """The agent's listener: counts milestones and lets a test await them."""

    seen: Counter[str] = field(default_factory=Counter)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    on_event: Callable[[str], None] | None = None

    def __call__(self, agent_id: str, event: str) -> None:
        self.seen[event] += 1
        if self.on_event is not None:
            self.on_event(event)
        self._changed.set()

    async def wait(self, event: str, count: int = 1, timeout: float = WAIT) -> None:
        async def reached() -> None:
            while self.seen[event] < count:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(reached(), timeout)


ConfigFactory = Callable[..., AgentConfig]


@pytest.fixture
def make_config(
    tmp_path: Path, mosquitto: BrokerEndpoint, topic_root: str, agent_id: str, signer: Signer, media: MediaServer
) -> ConfigFactory:
    def build(**overrides: Any) -> AgentConfig:
        values: dict[str, Any] = {
            "agent_id": agent_id,
            "broker_url": mosquitto.url,
            "controller_public_key": encode_public_key(signer.public_key),
            "topic_root": topic_root,
            "state_dir": tmp_path / "state",
            "media_base_url": media.base_url,
            "player": "virtual",
            "amplifier_warmup_s": 0.05,
            "amplifier_cooldown_s": 0.05,
            "reconnect_max_s": 0.5,
            "telemetry_interval_s": 0,
        }
        # Quiet hours stay on, but away from now, so tests that play in a few seconds pass at any hour.
        # Tests of quiet hours themselves set them explicitly.
        quiet = quiet_hours_away_from_now()
        values["quiet_hours_start"], values["quiet_hours_end"] = quiet
        values.update(overrides)
        return AgentConfig(**values)

    return build


@dataclass
class Rig:
    """One agent under test, with its own pins, virtual player and milestones."""

    agent: Agent
    player: VirtualPlayer
    pins: MockFactory
    milestones: Milestones

    @property
    def pin(self) -> Any:
        return self.pins.pin(self.agent.config.amplifier_pin)

    def amp_on_states(self) -> list[bool]:
        """The pin's history read as amplifier on/off, respecting active_high."""
        high_is_on = self.agent.config.amplifier_active_high
        return [bool(s.state) == high_is_on for s in self.pin.states]


RigFactory = Callable[..., Rig]


@pytest.fixture
def make_rig() -> Iterator[RigFactory]:
    """Builds agents with their own MockFactory and VirtualPlayer; closes the pin factories after the test."""
    factories: list[MockFactory] = []

    def build(config: AgentConfig, **agent_kwargs: Any) -> Rig:
        player = agent_kwargs.pop("player", None) or VirtualPlayer()
        pins = MockFactory()
        factories.append(pins)
        milestones = Milestones()
        agent = Agent(config, player=player, pin_factory=pins, listener=milestones, **agent_kwargs)
        return Rig(agent, player, pins, milestones)

    yield build
    for pins in factories:
        pins.close()


@contextlib.asynccontextmanager
async def running(rig: Rig, *, wait_connected: bool = True) -> AsyncIterator[Rig]:
    """Run the agent for the body of the block, then stop it cleanly."""
    task = asyncio.create_task(rig.agent.run())
    try:
        if wait_connected:
            done = asyncio.create_task(rig.milestones.wait("connected"))
            await asyncio.wait([task, done], timeout=WAIT, return_when=asyncio.FIRST_COMPLETED)
            if task.done():
                done.cancel()
                task.result()  # surfaces the error
            await done
        yield rig
    finally:
        await asyncio.wait_for(rig.agent.stop(), WAIT)
        await asyncio.wait_for(task, WAIT)


async def wait_until(predicate: Callable[[], bool], timeout: float = WAIT) -> None:
    """For state that has no event to await (a pin, a file): poll gently until it holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.02)


class TcpProxy:
    """A loopback TCP relay in front of the broker that a test can cut and restore: a flaky 4G link."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._pumps: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def cut(self) -> None:
        """Stop listening and drop every open connection."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._pumps):
            task.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(src, dst))
            self._pumps.add(task)
            task.add_done_callback(self._pumps.discard)

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._writers.discard(dst)
            dst.transport.abort()


@pytest_asyncio.fixture
async def proxy(mosquitto: BrokerEndpoint) -> AsyncIterator[TcpProxy]:
    relay = TcpProxy(mosquitto.host, mosquitto.port)
    await relay.start()
    try:
        yield relay
    finally:
        await relay.cut()
