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
from pathlib import Path
from typing import Any

import aiomqtt

from common import __version__
from common.clock import Clock, SystemClock
from edge_agent import fetcher, health, systemd
from edge_agent.config import AgentConfig, load_config
from edge_agent.errors import AgentError, ConfigError
from edge_agent.faults import EXIT_BEFORE_CONFIRM, fault_point
from edge_agent.hardware import Amplifier, LedPattern, StatusLed, StopButton
from edge_agent.identity import AgentIdentity, load_or_create_identity
from edge_agent.manifest_pull import ManifestPuller
from edge_agent.media_client import MediaClient
from edge_agent.playback import INTERRUPTED, STOPPED_LOCALLY, ItemKind, Playback, PlayItem
from edge_agent.player import Player
from edge_agent.quiet import QUIET_HOURS
from edge_agent.ratelimit import TokenBucket
from edge_agent.scheduler import Scheduler
from edge_agent.state import AgentStore, PlayStatus
from protocol import MQTT_QOS, Topics, Verifier
from protocol.errors import MessageRejected, RejectReason
from protocol.messages import (
    AgentMessage,
    AgentState,
    AgentStatus,
    Confirmation,
    ManifestPlay,
    PlayEvent,
    PlayNow,
    Reboot,
    ReloadConfig,
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
started, finished, failed, skipped, confirmed, stop-button, reloaded, reload-failed, reboot."""

RESTART_KEYS = frozenset(
    {
        "agent_id",
        "broker_url",
        "username",
        "password",
        "password_file",
        "ca_file",
        "controller_public_key",
        "admin_public_key",
        "topic_root",
        "state_dir",
        "amplifier_pin",
        "amplifier_active_high",
        "status_led_pin",
        "status_led_active_high",
        "stop_button_pin",
        "stop_button_pull_up",
        "player",
        "alsa_device",
        "player_command",
        "keepalive_s",
    }
)
"""Config keys a reload cannot apply in place: changing one makes the agent restart (systemd brings it back)."""
EXIT_RESTART = 75
"""`loa agent` exits with this (EX_TEMPFAIL) when a reloaded config needs a restart."""
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
    `skipped`, or played again afterwards under the `resume` policy); `Stop` without a play id
    is the kill switch: the amplifier goes off at once, what plays ends, plays already due and
    PlayNow items still downloading are dropped; `Stop` with an id stops or cancels that play;
    both are confirmed `skipped`/`stopped`. The local stop button does what `Stop` without an id
    does. `SetVolume` is kept across restarts; `TestTone` plays through the amplifier without
    confirmations; `ReloadConfig` re-reads `config_path`; `Reboot`, valid only under the admin
    key, shuts down cleanly and then calls `on_reboot` (never anything else).

    Quiet hours are the agent's own: a normal or priority play or tone inside them is refused
    (`skipped`/`quiet-hours`) and reported as a security event, on arrival and again at its start.
    Security events are rate-limited by a token bucket; the number held back rides on the next.

    After a crash or a stop in mid-play the play is confirmed `failed`/`interrupted` and never
    replayed: a bulletin restarted or resumed mid-way would misstate what listeners heard.

    `pin_factory` is the agent's own gpiozero factory (`MockFactory()` off the Pi; None only
    for a lone agent using gpiozero's default). `clock` defaults to `SystemClock`. Give many
    agents one shared `http` client, which caps their concurrent downloads. `listener(agent_id,
    event)` sees the milestones named in `Listener`.
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
        http: MediaClient | None = None,
        listener: Listener | None = None,
        config_path: Path | None = None,
        on_reboot: Callable[[], None] | None = None,
        health_sources: health.HealthSources | None = None,
        notify_env: dict[str, str] | None = None,
    ) -> None:
        self.config = config
        self.config_path = config_path
        self.agent_id = config.agent_id
        self.topics = Topics(config.topic_root)
        self.clock: Clock = clock or SystemClock()
        self.player = player
        # The relay is claimed and released at once, so the amplifier is off from the start.
        self.amplifier = Amplifier(
            config.amplifier_pin, pin_factory=pin_factory, active_high=config.amplifier_active_high
        )
        self.log = _AgentLog(logger, {"agent_id": config.agent_id})
        self._pin_factory = pin_factory
        self.led: StatusLed | None = None
        if config.status_led_pin is not None:
            self.led = StatusLed(
                config.status_led_pin,
                pin_factory=pin_factory,
                clock=self.clock,
                active_high=config.status_led_active_high,
            )
        self.button: StopButton | None = None
        self._on_reboot = on_reboot
        self._health = health_sources or health.HealthSources()
        self._notify_env = notify_env
        self.reboot_requested = False
        self.restart_requested = False
        self._error: str | None = None
        self._quiet = config.quiet_hours
        self._security = TokenBucket(config.security_events_burst, config.security_events_per_minute / 60.0, self.clock)
        self._verifier = Verifier(config.public_key, config.agent_id, admin_key=config.admin_key)
        self._http = http
        self._listener = listener
        self._volume = config.volume
        self._store: AgentStore | None = None
        self.identity: AgentIdentity
        """The agent's own signing key (v1.2), loaded or made with the store in `run()`."""
        self._playback: Playback | None = None
        self._scheduler: Scheduler | None = None
        self._outbox_ready = asyncio.Event()
        self._flush_lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._finished = asyncio.Event()
        self._running = False
        self._client: aiomqtt.Client | None = None
        self._session_at: datetime | None = None
        """When the current MQTT session began: the `at` of its Last Will and of its online state."""
        self._background: set[asyncio.Future[Any]] = set()
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
        watchdog: asyncio.Task[None] | None = None
        try:
            self._open()
            self._notify("READY=1\nSTATUS=started; connecting to the broker")
            interval = systemd.watchdog_interval_s(self._notify_env)
            if interval is not None:
                watchdog = asyncio.create_task(self._watchdog(interval), name=f"{self.agent_id}-watchdog")
            await self._connection_loop()
        finally:
            self._notify("STOPPING=1")
            if watchdog is not None:
                watchdog.cancel()
                await asyncio.gather(watchdog, return_exceptions=True)
            await self._close()
            self._finished.set()
        if self.reboot_requested:
            if self._on_reboot is None:
                self.log.error("an admin-signed reboot was requested, but this agent has no reboot hook")
            else:
                self.log.warning("rebooting, as the admin-signed command asked")
                self._on_reboot()

    def _notify(self, state: str) -> None:
        systemd.notify(state, env=self._notify_env)

    async def _watchdog(self, interval: float) -> None:
        """Ping systemd's watchdog while the event loop and the playback line are alive."""
        while True:
            playback = self._playback
            if playback is None or playback.alive:
                self._notify("WATCHDOG=1")
            else:
                self.log.critical("the playback line died; letting the watchdog restart the agent")
            await asyncio.sleep(interval)

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
        self.identity = load_or_create_identity(self.config.state_dir)
        fetcher.remove_stale_parts(self.config.media_dir)
        saved = store.get_setting("volume")
        self._volume = int(saved) if saved is not None else self.config.volume
        if self._http is None:
            self._http = MediaClient(ca_file=self.config.ca_file, user_agent=f"loa-agent/{__version__}")
        self._playback = Playback(
            player=self.player,
            amplifier=self.amplifier,
            clock=self.clock,
            report=self._report,
            volume=lambda: self._volume,
            warmup_s=self.config.amplifier_warmup_s,
            cooldown_s=self.config.amplifier_cooldown_s,
            late_grace_s=self.config.late_grace_s,
            quiet_hours=lambda: self._quiet,
            on_refused=self._refused,
            on_change=self._update_led,
            logger=self.log,
        )
        self._playback.start()
        if self.led is not None:
            self.led.start()
        self._update_led()
        if self.config.stop_button_pin is not None:
            self.button = StopButton(
                self.config.stop_button_pin,
                pin_factory=self._pin_factory,
                pull_up=self.config.stop_button_pull_up,
                on_press=self._stop_button_pressed,
            )
        self._scheduler = Scheduler(
            config=self.config,
            store=store,
            playback=self._playback,
            clock=self.clock,
            http=self._http,
            report=self._report,
            retry_s=self.download_retry_s,
            on_refused=self._refused,
            logger=self.log,
        )
        now = self.clock.now()
        for play_id, starts_at in store.armed_plays():
            if starts_at > now:  # it was warming up; its instant is still ahead, so it plays as booked
                store.disarm(play_id, now)
            else:
                self.log.warning("play %s was about to start when the agent stopped", play_id)
                self._confirm(play_id, PlayStatus.FAILED, reason=INTERRUPTED)
        for play_id, source, status in store.unfinished_plays():
            # Never replay: a bulletin resumed or restarted mid-way would misstate what was heard.
            self.log.warning("play %s (%s, %s) was interrupted by a restart", play_id, source.value, status.value)
            self._confirm(play_id, PlayStatus.FAILED, reason=INTERRUPTED)
        held = store.load_manifest()
        if held is not None:
            self.log.info("resuming with manifest revision %d", held.revision)
            self._scheduler.apply_manifest(held.manifest)

    async def _close(self) -> None:
        if self.button is not None:
            self.button.close()
            self.button = None
        if self._scheduler is not None:
            await self._scheduler.close()
        if self._playback is not None:
            await self._playback.close()
        self.amplifier.close()
        if self.led is not None:
            await self.led.close()
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
            self._update_led()
            self._notify("STATUS=offline; playing from the cache, reconnecting")
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
        self._session_at = self.clock.now()
        will = self._state(AgentStatus.OFFLINE, at=self._session_at)
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
                self.topics.state(self.agent_id),
                self._seal(self.topics.state(self.agent_id), will),
                qos=MQTT_QOS,
                retain=True,
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
        # Read from the start: the message loop notices a lost connection at once, whereas aiomqtt
        # leaves a pending publish or subscribe to its timeout (30 s deaf after a drop mid-handshake).
        receive = asyncio.create_task(self._receive(client), name=f"{self.agent_id}-receive")
        handshake = asyncio.create_task(self._handshake(client), name=f"{self.agent_id}-handshake")
        try:
            await asyncio.wait([handshake, receive], return_when=asyncio.FIRST_COMPLETED)
            if not handshake.done():
                receive.result()  # the connection was lost: raises its MqttError
                raise aiomqtt.MqttError("the connection ended during the handshake")
            handshake.result()
        except BaseException:
            handshake.cancel()
            receive.cancel()
            await asyncio.gather(handshake, receive, return_exceptions=True)
            raise
        self.connected = True
        self.log.info("connected to %s", self.config.broker.url)
        self._update_led()
        self._notify(f"STATUS=online at {self.config.broker.url}")
        self._emit("connected")
        self._outbox_ready.set()
        flusher = asyncio.create_task(self._flush_loop(client), name=f"{self.agent_id}-outbox")
        tasks = [receive, flusher]
        tasks.append(asyncio.create_task(self._telemetry_loop(client), name=f"{self.agent_id}-telemetry"))
        puller = self._manifest_puller()
        if puller is not None:
            tasks.append(asyncio.create_task(puller.run(), name=f"{self.agent_id}-manifest-pull"))
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

    async def _handshake(self, client: aiomqtt.Client) -> None:
        """Say online (retained) and subscribe to the manifest and command topics."""
        state_topic = self.topics.state(self.agent_id)
        # The same instant as this session's Last Will: the controller takes a state no older than the last one
        # it took, so this session's Will counts after the online below, and an older session's Will never does.
        online = self._state(AgentStatus.ONLINE, at=self._session_at)
        await client.publish(state_topic, self._seal(state_topic, online), qos=MQTT_QOS, retain=True)
        wanted = [self.topics.manifest(self.agent_id), self.topics.commands(self.agent_id)]
        granted = await client.subscribe([(t, MQTT_QOS) for t in wanted])
        refused = [t for t, code in zip(wanted, granted, strict=False) if _is_failure(code)]
        if refused:
            raise SubscriptionRefused(f"the broker refused subscriptions to {', '.join(refused)}")

    async def _goodbye(self, client: aiomqtt.Client) -> None:
        """On stop: end playback, send what is pending, say offline; then the caller disconnects."""
        await self._stop_local()
        try:
            await asyncio.wait_for(self._flush(client), timeout=5)
            offline = self._seal(self.topics.state(self.agent_id), self._state(AgentStatus.OFFLINE))
            await client.publish(self.topics.state(self.agent_id), offline, qos=MQTT_QOS, retain=True, timeout=5)
        except (aiomqtt.MqttError, TimeoutError) as exc:
            self.log.warning("could not say goodbye to the broker: %s", exc)

    async def _stop_local(self) -> None:
        if self._scheduler is not None:
            await self._scheduler.close()
        if self._playback is not None:
            await self._playback.close()

    def _state(self, status: AgentStatus, at: datetime | None = None) -> AgentState:
        revision = self._store.manifest_revision() if self._store else None
        return AgentState(
            agent_id=self.agent_id,
            at=at or self.clock.now(),
            status=status,
            version=__version__,
            manifest_revision=revision,
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
            interval = self.config.telemetry_interval_s  # read each time: a reload may change it
            if interval <= 0:
                await asyncio.sleep(60)
                continue
            await asyncio.sleep(interval)
            telemetry = await self.telemetry()
            await client.publish(topic, self._seal(topic, telemetry), qos=MQTT_QOS)

    async def telemetry(self) -> Telemetry:
        """The health figures as of now; each is None where this machine does not expose it."""
        current = self._playback.current if self._playback else None
        return Telemetry(
            agent_id=self.agent_id,
            at=self.clock.now(),
            uptime_s=time.monotonic() - self._started,
            volume=self._volume,
            manifest_revision=self.store.manifest_revision(),
            current_play_id=self.current_play_id,
            current_title=(current.play.title[:300] or None) if current and current.play else None,
            cache_bytes=fetcher.cache_bytes(self.config.media_dir),
            outbox_pending=self.store.outbox_size(),
            version=__version__,
            cpu_temp_c=health.cpu_temp_c(self._health.thermal),
            disk_free_bytes=health.disk_free_bytes(self.config.state_dir),
            load_1m=health.load_1m(),
            clock_offset_s=await health.clock_offset_s(self._health.chronyc),
            link_quality=health.link_quality(self._health.wireless),
        )

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
        await self._security_event(exc.reason.value, exc.detail, topic, exc.msg_id)

    async def _security_event(self, reason: str, detail: str, topic: str, msg_id: str | None) -> None:
        """Report a refusal to the controller, within the token bucket; the rest are counted."""
        if not self._security.take():
            self.log.info("security event %s held back by the rate limit", reason)
            self._emit("security-suppressed")
            return
        event = SecurityEvent(
            agent_id=self.agent_id,
            at=self.clock.now(),
            reason=reason[:40],
            detail=detail[:500],
            topic=topic[:300],
            rejected_msg_id=msg_id[:64] if msg_id else None,
            suppressed=self._security.take_suppressed(),
        )
        client = self._client
        if client is None:
            self._security.suppressed += event.suppressed + 1  # not sent: count it for the next one
            return
        try:
            topic = self.topics.security(self.agent_id)
            await client.publish(topic, self._seal(topic, event), qos=MQTT_QOS)
            self._emit("security-event")
        except aiomqtt.MqttError as err:
            self._security.suppressed += event.suppressed + 1
            self.log.warning("could not report the rejection: %s", err)

    def _refused(self, item: PlayItem, reason: str) -> None:
        """A valid, signed item refused by local policy (quiet hours): tell the controller's security log."""
        play = item.play
        detail = (
            f"{item.describe()} at {play.starts_at.isoformat() if play else self.clock.now().isoformat()} "
            f"is inside quiet hours {self._quiet.describe()}"
        )
        self._emit("refused")
        task = asyncio.ensure_future(
            self._security_event(reason, detail, self.topics.commands(self.agent_id), play.play_id if play else None)
        )
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- commands --------------------------------------------------------------------------------

    async def _execute(self, command: SignedMessage) -> None:
        assert self._playback is not None and self._scheduler is not None
        if isinstance(command, PlayNow):
            self._scheduler.play_now(command.play)
        elif isinstance(command, Stop):
            affected = await self._scheduler.stop(command.play_id)
            self.log.info("stop command %s: %s", command.msg_id, ", ".join(affected) or "nothing to stop")
        elif isinstance(command, ReloadConfig):
            await self.reload_config()
        elif isinstance(command, Reboot):
            self.log.warning("admin-signed reboot command %s: %s", command.msg_id, command.reason or "no reason given")
            self._emit("reboot")
            self.reboot_requested = True
            self._stopping.set()
        elif isinstance(command, SetVolume):
            self._volume = command.volume
            self.store.set_setting("volume", str(command.volume))
            self.log.info("volume set to %d", command.volume)
        elif isinstance(command, TestTone):
            if self._quiet.contains(self.clock.now()):
                self.log.warning("test tone refused: inside quiet hours %s", self._quiet.describe())
                self._refused(PlayItem(ItemKind.TONE, tone=command), QUIET_HOURS)
                return
            await self._playback.submit(PlayItem(ItemKind.TONE, tone=command))
        else:  # pragma: no cover - the verifier only lets the four kinds through
            self.log.warning("ignored a %s command", _kind(command))

    # -- local controls and config ---------------------------------------------------------------

    def _stop_button_pressed(self) -> None:
        """The physical kill switch: the same as a Stop command without a play id."""
        self.log.warning("local stop button pressed: silencing the amplifier")
        self._emit("stop-button")
        if self._scheduler is None:
            self.amplifier.power_off()
            return
        task = asyncio.ensure_future(self._scheduler.stop(None, reason=STOPPED_LOCALLY))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def reload_config(self) -> bool:
        """Re-read `config_path`. Applies what can change in place; a key in `RESTART_KEYS` makes the
        agent stop (exit code 75), for systemd to start it again. An invalid file changes nothing."""
        if self.config_path is None:
            self.log.warning("reload-config: this agent was not started from a config file")
            self._emit("reload-failed")
            return False
        try:
            new = await asyncio.to_thread(load_config, self.config_path)
        except ConfigError as exc:
            self.log.error("reload-config: kept the running config: %s", exc)
            self._emit("reload-failed")
            return False
        old = self.config
        changed = {k for k in old.__struct_fields__ if getattr(old, k) != getattr(new, k)}
        if changed & RESTART_KEYS:
            self.log.warning("reload-config: %s need a restart; restarting", ", ".join(sorted(changed & RESTART_KEYS)))
            self.restart_requested = True
            self._stopping.set()
            self._emit("reloaded")
            return True
        self.config = new
        self._quiet = new.quiet_hours
        if "volume" in changed:
            self._volume = new.volume
            self.store.set_setting("volume", str(new.volume))
        if self._playback is not None:
            self._playback.warmup_s = new.amplifier_warmup_s
            self._playback.cooldown_s = new.amplifier_cooldown_s
            self._playback.set_late_grace(new.late_grace_s)
        if self._scheduler is not None:
            self._scheduler.reconfigure(new)
        self._security = TokenBucket(new.security_events_burst, new.security_events_per_minute / 60.0, self.clock)
        self.log.info("reload-config: applied %s", ", ".join(sorted(changed)) or "no changes")
        self._emit("reloaded")
        return True

    def _update_led(self) -> None:
        if self.led is None:
            return
        if self._error is not None:
            pattern = LedPattern.ERROR
        elif self._playback is not None and self._playback.is_playing:
            pattern = LedPattern.PLAYING
        elif self.connected:
            pattern = LedPattern.IDLE
        else:
            pattern = LedPattern.OFFLINE
        self.led.show(pattern)

    @property
    def error(self) -> str | None:
        """The last hardware or playback failure, shown on the LED until a play finishes."""
        return self._error

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
        resumed_after: str | None = None,
        preempted_played_s: float | None = None,
    ) -> bool:
        if status is PlayStatus.ARMED:  # local only: no confirmation reports it
            return self.store.arm(play.play_id, self.clock.now())
        return self._confirm(
            play.play_id,
            status,
            reason=reason,
            started_at=started_at,
            ended_at=ended_at,
            duration_played_s=duration_played_s,
            resumed_after=resumed_after,
            preempted_played_s=preempted_played_s,
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
        resumed_after: str | None = None,
        preempted_played_s: float | None = None,
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
            resumed_after=resumed_after,
            preempted_played_s=preempted_played_s,
        )
        if not self.store.advance(play_id, status, confirmation, now, reason, seal=self._seal_confirmation):
            return False
        if status is PlayStatus.FINISHED:
            self._error = None
        elif status is PlayStatus.FAILED and reason and reason != INTERRUPTED and _is_hardware(reason):
            self._error = reason
        self._update_led()
        if status is PlayStatus.FINISHED:
            fault_point(EXIT_BEFORE_CONFIRM)
        self._outbox_ready.set()
        self._emit(status.value)
        return True

    def _manifest_puller(self) -> ManifestPuller | None:
        """The HTTP channel for the manifest (v1.2), when the agent knows the controller's base URL."""
        base = self.config.media_base_url
        if not base or self.config.manifest_pull_interval_s <= 0 or self._http is None:
            return None
        topic = self.topics.manifest(self.agent_id)
        return ManifestPuller(
            f"{base.rstrip('/')}/manifests/{self.agent_id}.json",
            self._http,
            deliver=lambda body: self.handle(topic, body),
            held_revision=self.store.manifest_revision,
            interval_s=self.config.manifest_pull_interval_s,
            log=self.log,
        )

    def _seal(self, topic: str, message: AgentMessage) -> bytes:
        """A report signed with the agent's own key (protocol v1.2)."""
        return self.identity.seal(topic, message)

    def _seal_confirmation(self, confirmation: Confirmation) -> bytes:
        return self.identity.seal(self.topics.confirmations(self.agent_id), confirmation)

    def _emit(self, event: str) -> None:
        if self._listener is not None:
            try:
                self._listener(self.agent_id, event)
            except Exception:
                self.log.exception("the listener failed on %s", event)


def _is_hardware(reason: str) -> bool:
    """Failures a technician must look at (the LED shows them), unlike a download that will retry."""
    return reason.split(":", 1)[0] in {
        "amplifier-error",
        "device-busy",
        "device-unavailable",
        "player-not-found",
        "player-error",
        "decode-error",
        "missing-file",
    }


def _kind(message: object) -> str:
    return str(getattr(message, "kind", type(message).__name__))


def _is_failure(code: object) -> bool:
    if isinstance(code, int):
        return code >= 0x80
    return bool(getattr(code, "is_failure", False))
