"""The edge agent: verifies what the controller sends, plays on time, and confirms durably.

One `Agent` per loudspeaker post. It is asyncio-native and holds no global state, so the
simulator runs thousands in one event loop, each with its own pin factory and state dir.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, MutableMapping
from datetime import datetime
from typing import Any

import aiomqtt
import httpx

from edge_agent import fetcher
from edge_agent.config import AgentConfig
from edge_agent.errors import AgentError
from edge_agent.faults import EXIT_BEFORE_CONFIRM, fault_point
from edge_agent.hardware import Amplifier
from edge_agent.playback import ItemKind, Playback, PlayItem
from edge_agent.player import Player
from edge_agent.scheduler import Scheduler
from edge_agent.state import AgentStore, PlayStatus
from loa import __version__
from loa.clock import Clock, SystemClock
from protocol import MQTT_QOS, Topics, Verifier
from protocol.codec import encode
from protocol.errors import MessageRejected, RejectReason
from protocol.messages import (
    AgentState,
    AgentStatus,
    Confirmation,
    ManifestPlay,
    PlayEvent,
    PlayNow,
    ScheduleManifest,
    SecurityEvent,
    SetVolume,
    SignedMessage,
    Stop,
    Telemetry,
    TestTone,
)

logger = logging.getLogger(__name__)

Listener = Callable[[str, str], None]
"""Called as `listener(agent_id, event)` on milestones: connected, manifest, rejected, downloaded,
started, finished, failed, skipped, confirmed."""

INTERRUPTED = "interrupted"
MQTT_TIMEOUT_S = 30.0
"""How long a CONNACK, SUBACK or PUBACK may take before the connection counts as lost (4G is slow)."""


class SubscriptionRefused(AgentError):
    """The broker refused a subscription, usually because of its ACL."""


class _AgentLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """Prefixes every record with the agent id: one process may hold thousands of agents."""

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        return f"[{self.extra['agent_id'] if self.extra else '?'}] {msg}", kwargs


def reconnect_delay(attempt: int, cap_s: float) -> float:
    """Jittered exponential backoff, so a fleet does not reconnect in lockstep after an outage."""
    base = min(cap_s, 0.5 * 2 ** min(attempt, 20))
    return random.uniform(base / 2, base)


class Agent:
    """Runs one loudspeaker post until `stop()`.

    `run()` keeps an MQTT 3.1.1 session (fixed client id, clean_session=False, Last Will),
    reconnecting with jittered backoff. Every inbound message is verified (signature, address,
    validity, replay) before it is acted on; rejections are logged, reported as a
    `SecurityEvent` and otherwise ignored. Confirmations go through the durable outbox in
    `AgentStore` and are deleted only after the broker's PUBACK, so they survive outages and
    crashes; a redelivery keeps its `msg_id`.

    Confirmations (details in `edge_agent.playback` and `edge_agent.scheduler`):
    `downloaded` once the audio is verified; `started` then `finished` for a play that ran to
    the end; otherwise exactly one of `skipped` (`late`, `stopped`, `preempted by ...`) or
    `failed` (`interrupted`, a checksum/size mismatch, a download or player error).

    Commands: `PlayNow` plays at once and preempts lower priorities (the preempted play is
    `skipped`); `Stop` without a play id stops what plays and drops plays already due, `Stop`
    with an id stops or cancels that play, both confirmed `skipped`/`stopped`; `SetVolume` is
    kept across restarts; `TestTone` plays through the amplifier without confirmations.

    After a crash or a stop in mid-play the play is confirmed `failed`/`interrupted` and never
    replayed: a bulletin restarted or resumed mid-way would misstate what listeners heard.

    `pin_factory` is the agent's own gpiozero factory (`MockFactory()` off the Pi; None only
    for a lone agent using gpiozero's default). `clock` defaults to `SystemClock`. Give many
    agents one shared `http` client: a client of its own costs each agent an SSL context
    (about 30 ms of CPU and 1 MB). `listener(agent_id, event)` sees the milestones named in
    `Listener`.
    """

    download_retry_s = 2.0
    """First pause before fetching audio again after a transient failure; it doubles up to 5 minutes."""

    def __init__(
        self,
        config: AgentConfig,
        *,
        player: Player,
        pin_factory: Any,
        clock: Clock | None = None,
        http: httpx.AsyncClient | None = None,
        listener: Listener | None = None,
    ) -> None:
        self.config = config
        self.agent_id = config.agent_id
        self.topics = Topics(config.topic_root)
        self.clock: Clock = clock or SystemClock()
        self.player = player
        # The relay is claimed and released at once, so the amplifier is off from the start.
        self.amplifier = Amplifier(
            config.amplifier_pin, pin_factory=pin_factory, active_high=config.amplifier_active_high
        )
        self.log = _AgentLog(logger, {"agent_id": config.agent_id})
        self._verifier = Verifier(config.public_key, config.agent_id)
        self._http = http
        self._owns_http = http is None
        self._listener = listener
        self._volume = config.volume
        self._store: AgentStore | None = None
        self._playback: Playback | None = None
        self._scheduler: Scheduler | None = None
        self._outbox_ready = asyncio.Event()
        self._flush_lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._finished = asyncio.Event()
        self._running = False
        self._client: aiomqtt.Client | None = None
        self._started = time.monotonic()
        self.connected = False

    # -- public state ----------------------------------------------------------------------------

    @property
    def store(self) -> AgentStore:
        if self._store is None:
            raise AgentError("the agent's store is open only while run() runs")
        return self._store

    @property
    def volume(self) -> int:
        return self._volume

    @property
    def current_play_id(self) -> str | None:
        current = self._playback.current if self._playback else None
        return current.play_id if current else None

    # -- lifecycle -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Run until `stop()` (or cancellation). An Agent runs once."""
        if self._running or self._finished.is_set():
            raise AgentError("an Agent runs only once")
        self._running = True
        try:
            self._open()
            await self._connection_loop()
        finally:
            await self._close()
            self._finished.set()

    async def stop(self) -> None:
        """Clean shutdown: end any play (confirmed `failed`/`interrupted`), send what the outbox holds
        if connected, publish the offline state, disconnect, switch the amplifier off."""
        self._stopping.set()
        if self._running and not self._finished.is_set():
            try:
                await asyncio.wait_for(self._finished.wait(), timeout=30)
            except TimeoutError:
                self.log.error("the agent did not stop within 30 s")
        self.amplifier.close()

    def _open(self) -> None:
        store = self._store = AgentStore.in_dir(self.config.state_dir)
        fetcher.remove_stale_parts(self.config.media_dir)
        saved = store.get_setting("volume")
        self._volume = int(saved) if saved is not None else self.config.volume
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=10.0), follow_redirects=True)
        self._playback = Playback(
            player=self.player,
            amplifier=self.amplifier,
            clock=self.clock,
            report=self._report,
            volume=lambda: self._volume,
            warmup_s=self.config.amplifier_warmup_s,
            cooldown_s=self.config.amplifier_cooldown_s,
            late_grace_s=self.config.late_grace_s,
            logger=self.log,
        )
        self._playback.start()
        self._scheduler = Scheduler(
            config=self.config,
            store=store,
            playback=self._playback,
            clock=self.clock,
            http=self._http,
            report=self._report,
            retry_s=self.download_retry_s,
            logger=self.log,
        )
        for play_id, source, status in store.unfinished_plays():
            # Never replay: a bulletin resumed or restarted mid-way would misstate what was heard.
            self.log.warning("play %s (%s, %s) was interrupted by a restart", play_id, source.value, status.value)
            self._confirm(play_id, PlayStatus.FAILED, reason=INTERRUPTED)
        held = store.load_manifest()
        if held is not None:
            self.log.info("resuming with manifest revision %d", held.revision)
            self._scheduler.apply_manifest(held.manifest)

    async def _close(self) -> None:
        if self._scheduler is not None:
            await self._scheduler.close()
        if self._playback is not None:
            await self._playback.close()
        self.amplifier.close()
        if self._owns_http and self._http is not None:
            await self._http.aclose()
        if self._store is not None:
            self._store.close()
            self._store = None

    # -- the MQTT session ------------------------------------------------------------------------

    async def _connection_loop(self) -> None:
        attempt = 0
        while not self._stopping.is_set():
            try:
                await self._session()
            except aiomqtt.MqttError as exc:
                self.log.warning("MQTT connection to %s failed or was lost: %s", self.config.broker.url, exc)
            except AgentError as exc:
                self.log.error("MQTT session with %s ended: %s", self.config.broker.url, exc)
            except Exception:
                self.log.exception("MQTT session ended by an error; reconnecting")
            if self.connected:
                attempt = 0
            self.connected = False
            if self._stopping.is_set():
                break
            delay = reconnect_delay(attempt, self.config.reconnect_max_s)
            attempt += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)

    def _client_for_broker(self) -> aiomqtt.Client:
        address = self.config.broker
        tls = None
        if address.tls:
            tls = aiomqtt.TLSParameters(ca_certs=str(self.config.ca_file) if self.config.ca_file else None)
        return aiomqtt.Client(
            address.host,
            address.port,
            username=address.username,
            password=address.password,
            identifier=self.agent_id,
            protocol=aiomqtt.ProtocolVersion.V311,
            clean_session=False,
            keepalive=self.config.keepalive_s,
            timeout=MQTT_TIMEOUT_S,
            tls_params=tls,
            will=aiomqtt.Will(
                self.topics.state(self.agent_id), encode(self._state(AgentStatus.OFFLINE)), qos=MQTT_QOS, retain=True
            ),
        )

    async def _session(self) -> None:
        async with self._client_for_broker() as client:
            self._client = client
            try:
                await self._serve(client)
            finally:
                self._client = None

    async def _serve(self, client: aiomqtt.Client) -> None:
        state_topic = self.topics.state(self.agent_id)
        await client.publish(state_topic, encode(self._state(AgentStatus.ONLINE)), qos=MQTT_QOS, retain=True)
        wanted = [self.topics.manifest(self.agent_id), self.topics.commands(self.agent_id)]
        granted = await client.subscribe([(t, MQTT_QOS) for t in wanted])
        refused = [t for t, code in zip(wanted, granted, strict=False) if _is_failure(code)]
        if refused:
            raise SubscriptionRefused(f"the broker refused subscriptions to {', '.join(refused)}")
        self.connected = True
        self.log.info("connected to %s", self.config.broker.url)
        self._emit("connected")
        self._outbox_ready.set()
        receive = asyncio.create_task(self._receive(client), name=f"{self.agent_id}-receive")
        flusher = asyncio.create_task(self._flush_loop(client), name=f"{self.agent_id}-outbox")
        tasks = [receive, flusher]
        if self.config.telemetry_interval_s > 0:
            tasks.append(asyncio.create_task(self._telemetry_loop(client), name=f"{self.agent_id}-telemetry"))
        stop = asyncio.create_task(self._stopping.wait())
        try:
            done, _ = await asyncio.wait([*tasks, stop], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stop and not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
            if self._stopping.is_set():
                # Stop taking messages, but let a batch in flight get its PUBACKs before the goodbye.
                for task in tasks:
                    if task is not flusher:
                        task.cancel()
                await self._goodbye(client)
        finally:
            for task in [*tasks, stop]:
                task.cancel()
            await asyncio.gather(*tasks, stop, return_exceptions=True)

    async def _goodbye(self, client: aiomqtt.Client) -> None:
        """On stop: end playback, send what is pending, say offline; then the caller disconnects."""
        await self._stop_local()
        try:
            await asyncio.wait_for(self._flush(client), timeout=5)
            offline = encode(self._state(AgentStatus.OFFLINE))
            await client.publish(self.topics.state(self.agent_id), offline, qos=MQTT_QOS, retain=True, timeout=5)
        except (aiomqtt.MqttError, TimeoutError) as exc:
            self.log.warning("could not say goodbye to the broker: %s", exc)

    async def _stop_local(self) -> None:
        if self._scheduler is not None:
            await self._scheduler.close()
        if self._playback is not None:
            await self._playback.close()

    def _state(self, status: AgentStatus) -> AgentState:
        revision = self._store.manifest_revision() if self._store else None
        return AgentState(
            agent_id=self.agent_id, at=self.clock.now(), status=status, version=__version__, manifest_revision=revision
        )

    async def _flush_loop(self, client: aiomqtt.Client) -> None:
        while True:
            await self._outbox_ready.wait()
            self._outbox_ready.clear()
            await self._flush(client)

    async def _flush(self, client: aiomqtt.Client) -> None:
        """Publish the outbox in order, at QoS 1; drop each entry only once the broker acknowledged it."""
        async with self._flush_lock:  # one flusher at a time, or entries in flight would be sent twice
            await self._flush_unlocked(client)

    async def _flush_unlocked(self, client: aiomqtt.Client) -> None:
        topic = self.topics.confirmations(self.agent_id)
        while batch := self.store.pending_confirmations(limit=10):
            results = await asyncio.gather(
                *(client.publish(topic, entry.payload, qos=MQTT_QOS) for entry in batch), return_exceptions=True
            )
            sent = [entry.msg_id for entry, result in zip(batch, results, strict=True) if result is None]
            self.store.mark_sent(sent)
            for _ in sent:
                self._emit("confirmed")
            for result in results:
                if isinstance(result, BaseException):
                    raise result

    async def _telemetry_loop(self, client: aiomqtt.Client) -> None:
        topic = self.topics.telemetry(self.agent_id)
        while True:
            await asyncio.sleep(self.config.telemetry_interval_s)
            telemetry = Telemetry(
                agent_id=self.agent_id,
                at=self.clock.now(),
                uptime_s=time.monotonic() - self._started,
                volume=self._volume,
                manifest_revision=self.store.manifest_revision(),
                current_play_id=self.current_play_id,
                cache_bytes=fetcher.cache_bytes(self.config.media_dir),
                outbox_pending=self.store.outbox_size(),
            )
            await client.publish(topic, encode(telemetry), qos=MQTT_QOS)

    # -- inbound messages ------------------------------------------------------------------------

    async def _receive(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            payload = message.payload if isinstance(message.payload, bytes | bytearray) else b""
            await self.handle(message.topic.value, bytes(payload))

    async def handle(self, topic: str, payload: bytes) -> None:
        """Verify and act on one inbound message. Never raises: bad input is logged and dropped."""
        try:
            await self._dispatch(topic, payload)
        except MessageRejected as exc:
            await self._reject(topic, exc)
        except Exception:
            self.log.exception("dropped a message on %s that could not be handled", topic)

    async def _dispatch(self, topic: str, payload: bytes) -> None:
        now = self.clock.now()
        message = self._verifier.verify(topic, payload, now)
        if topic == self.topics.manifest(self.agent_id):
            if not isinstance(message, ScheduleManifest):
                raise MessageRejected(
                    RejectReason.MALFORMED, f"a {_kind(message)} on the manifest topic", message.msg_id
                )
            held = self.store.manifest_revision()
            if held is not None and message.revision < held:
                raise MessageRejected(
                    RejectReason.REPLAYED,
                    f"manifest revision {message.revision} is older than the held revision {held}",
                    message.msg_id,
                )
            if held == message.revision:
                self.log.debug("manifest revision %d redelivered; already held", held)
                return
            self.store.save_manifest(message, payload, now)
            self.log.info("accepted manifest revision %d with %d plays", message.revision, len(message.plays))
            self._emit("manifest")
            assert self._scheduler is not None
            self._scheduler.apply_manifest(message)
        elif topic == self.topics.commands(self.agent_id):
            if isinstance(message, ScheduleManifest):
                raise MessageRejected(RejectReason.MALFORMED, "a manifest on the commands topic", message.msg_id)
            if not self.store.remember_message(message.msg_id, message.expires_at, now):
                raise MessageRejected(
                    RejectReason.REPLAYED, f"command {message.msg_id} was already received", message.msg_id
                )
            await self._execute(message)
        else:
            self.log.warning("ignored a message on %s, which this agent does not subscribe to", topic)

    async def _reject(self, topic: str, exc: MessageRejected) -> None:
        self.log.warning("rejected a message on %s: %s (%s)", topic, exc.reason.value, exc.detail)
        self._emit("rejected")
        event = SecurityEvent(
            agent_id=self.agent_id,
            at=self.clock.now(),
            reason=exc.reason.value,
            detail=exc.detail[:500],
            topic=topic[:300],
            rejected_msg_id=exc.msg_id[:64] if exc.msg_id else None,
        )
        client = self._client
        if client is None:
            return
        try:
            await client.publish(self.topics.security(self.agent_id), encode(event), qos=MQTT_QOS)
        except aiomqtt.MqttError as err:
            self.log.warning("could not report the rejection: %s", err)

    # -- commands --------------------------------------------------------------------------------

    async def _execute(self, command: SignedMessage) -> None:
        assert self._playback is not None and self._scheduler is not None
        if isinstance(command, PlayNow):
            self._scheduler.play_now(command.play)
        elif isinstance(command, Stop):
            affected = await self._scheduler.stop(command.play_id)
            self.log.info("stop command %s: %s", command.msg_id, ", ".join(affected) or "nothing to stop")
        elif isinstance(command, SetVolume):
            self._volume = command.volume
            self.store.set_setting("volume", str(command.volume))
            self.log.info("volume set to %d", command.volume)
        elif isinstance(command, TestTone):
            await self._playback.submit(PlayItem(ItemKind.TONE, tone=command))
        else:  # pragma: no cover - the verifier only lets the four kinds through
            self.log.warning("ignored a %s command", _kind(command))

    # -- confirmations ---------------------------------------------------------------------------

    def _report(
        self,
        play: ManifestPlay,
        status: PlayStatus,
        *,
        reason: str | None = None,
        started_at: datetime | None = None,
        ended_at: datetime | None = None,
        duration_played_s: float | None = None,
    ) -> bool:
        return self._confirm(
            play.play_id,
            status,
            reason=reason,
            started_at=started_at,
            ended_at=ended_at,
            duration_played_s=duration_played_s,
        )

    def _confirm(
        self,
        play_id: str,
        status: PlayStatus,
        *,
        reason: str | None = None,
        started_at: datetime | None = None,
        ended_at: datetime | None = None,
        duration_played_s: float | None = None,
    ) -> bool:
        """Record a play's new status and its confirmation in one transaction, then wake the outbox.

        Returns False, recording nothing, if the play had already reached that status or a later one.
        """
        now = self.clock.now()
        confirmation = Confirmation(
            agent_id=self.agent_id,
            at=now,
            play_id=play_id,
            event=PlayEvent(status.value),
            started_at=started_at,
            ended_at=ended_at,
            duration_played_s=duration_played_s,
            reason=reason[:500] if reason else None,
        )
        if not self.store.advance(play_id, status, confirmation, now, reason):
            return False
        if status is PlayStatus.FINISHED:
            fault_point(EXIT_BEFORE_CONFIRM)
        self._outbox_ready.set()
        self._emit(status.value)
        return True

    def _emit(self, event: str) -> None:
        if self._listener is not None:
            try:
                self._listener(self.agent_id, event)
            except Exception:
                self.log.exception("the listener failed on %s", event)


def _kind(message: object) -> str:
    return str(getattr(message, "kind", type(message).__name__))


def _is_failure(code: object) -> bool:
    if isinstance(code, int):
        return code >= 0x80
    return bool(getattr(code, "is_failure", False))
