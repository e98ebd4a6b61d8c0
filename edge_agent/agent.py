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
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiomqtt
import httpx

from edge_agent import fetcher
from edge_agent.config import AgentConfig
from edge_agent.errors import AgentError, DownloadError, IntegrityError
from edge_agent.faults import EXIT_BEFORE_CONFIRM, fault_point
from edge_agent.hardware import Amplifier
from edge_agent.playback import LATE, STOPPED, ItemKind, Playback, PlayItem
from edge_agent.player import Player
from edge_agent.state import AgentStore, PlaySource, PlayStatus
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
MEDIA_KEEP_S = 24 * 3600.0
"""Cached audio no manifest lists any more is deleted once it is this old."""


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
    crashes. See `edge_agent.playback` for what each confirmation means.
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
        self._waiting: dict[str, tuple[ManifestPlay, asyncio.Task[None]]] = {}
        self._download_slot = asyncio.Semaphore(1)
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
        for play_id, source, status in store.unfinished_plays():
            # Never replay: a bulletin resumed or restarted mid-way would misstate what was heard.
            self.log.warning("play %s (%s, %s) was interrupted by a restart", play_id, source.value, status.value)
            self._confirm(play_id, PlayStatus.FAILED, reason=INTERRUPTED)
        held = store.load_manifest()
        if held is not None:
            self.log.info("resuming with manifest revision %d", held.revision)
            self._apply_manifest(held.manifest)

    async def _close(self) -> None:
        for _, task in self._waiting.values():
            task.cancel()
        await asyncio.gather(*(task for _, task in self._waiting.values()), return_exceptions=True)
        self._waiting.clear()
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
        for _, task in self._waiting.values():
            task.cancel()
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
            self._apply_manifest(message)
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

    # -- manifests and plays ---------------------------------------------------------------------

    def _apply_manifest(self, manifest: ScheduleManifest) -> None:
        """Schedule the manifest's plays; cancel the ones it no longer lists, unless already on air."""
        assert self._playback is not None
        now = self.clock.now()
        grace = timedelta(seconds=self.config.late_grace_s)
        wanted = {p.play_id: p for p in manifest.plays}
        for play_id, (held, task) in list(self._waiting.items()):
            if not self._still_wanted(held, wanted, now, grace):
                task.cancel()
                del self._waiting[play_id]
                self.log.info("play %s changed or cancelled by manifest revision %d", play_id, manifest.revision)
        for held in self._playback.queued_plays():
            if not self._still_wanted(held, wanted, now, grace):
                self._playback.discard(held.play_id)
                self.log.info("play %s changed or cancelled by manifest revision %d", held.play_id, manifest.revision)
        for play in manifest.plays:
            if play.play_id in self._waiting or self._playback.busy_with(play.play_id):
                continue
            status = self.store.play_status(play.play_id)
            if status in (PlayStatus.PENDING, PlayStatus.DOWNLOADED):
                self._spawn(play, self._prepare(play))
        keep = {p.sha256 for p in manifest.plays} | {p.sha256 for p, _ in self._waiting.values()}
        fetcher.prune(self.config.media_dir, keep, older_than_s=MEDIA_KEEP_S, now_s=time.time())

    @staticmethod
    def _still_wanted(held: ManifestPlay, wanted: dict[str, ManifestPlay], now: datetime, grace: timedelta) -> bool:
        """Whether a play in hand survives a new manifest. One on air always does (see `_apply_manifest`)."""
        replacement = wanted.get(held.play_id)
        if replacement is not None:
            return replacement == held
        # The controller lists plays only up to a grace after their start, so the absence of
        # an older play means it aged out of the listing, not that it was cancelled.
        return held.starts_at + grace < now

    def _spawn(self, play: ManifestPlay, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro, name=f"{self.agent_id}-play-{play.play_id}")
        self._waiting[play.play_id] = (play, task)

        def forget(done: asyncio.Task[None]) -> None:
            entry = self._waiting.get(play.play_id)
            if entry is not None and entry[1] is done:
                del self._waiting[play.play_id]
            if not done.cancelled() and done.exception() is not None:
                self.log.error("preparing play %s failed", play.play_id, exc_info=done.exception())

        task.add_done_callback(forget)

    async def _prepare(self, play: ManifestPlay) -> None:
        """A scheduled play: fetch its audio now, wait for its instant, hand it to the playback line."""
        assert self._playback is not None
        deadline = play.starts_at + timedelta(seconds=self.config.late_grace_s)
        if self.clock.now() > deadline:
            self._report(play, PlayStatus.SKIPPED, reason=LATE)
            return
        path = await self._obtain(play, deadline)
        if path is None:
            return
        # Hand it over one warm-up early, so the audio itself starts on the instant.
        await self.clock.sleep_until(play.starts_at - timedelta(seconds=self.config.amplifier_warmup_s))
        await self._playback.submit(PlayItem(ItemKind.SCHEDULED, play=play, path=path))

    async def _prepare_now(self, play: ManifestPlay) -> None:
        assert self._playback is not None
        path = await self._obtain(play, self.clock.now() + timedelta(seconds=self.config.late_grace_s))
        if path is not None:
            await self._playback.submit(PlayItem(ItemKind.NOW, play=play, path=path))

    async def _obtain(self, play: ManifestPlay, deadline: datetime) -> Path | None:
        """The play's audio, downloaded and verified; None after confirming it `failed`."""
        assert self._http is not None
        try:
            url = self.audio_url(play.audio_url)
        except AgentError as exc:
            self._report(play, PlayStatus.FAILED, reason=str(exc))
            return None
        delay = self.download_retry_s
        while True:
            try:
                async with self._download_slot:
                    path = await fetcher.fetch(
                        self._http,
                        url,
                        play.sha256,
                        play.size_bytes,
                        self.config.media_dir,
                        attempts=self.config.download_attempts,
                    )
            except DownloadError as exc:
                if exc.retryable and self.clock.now() + timedelta(seconds=delay) < deadline:
                    self.log.warning("audio for play %s: %s; trying again in %.0fs", play.play_id, exc, delay)
                    await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                    delay = min(delay * 2, 300.0)
                    continue
                self.log.warning("audio for play %s rejected: %s", play.play_id, exc)
                reason = str(exc) if isinstance(exc, IntegrityError) else f"download failed: {exc}"
                self._report(play, PlayStatus.FAILED, reason=reason)
                return None
            self._report(play, PlayStatus.DOWNLOADED)
            return path

    def audio_url(self, url: str) -> str:
        """An absolute http(s) URL as is; a relative one joined to `media_base_url`."""
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc:
            return url
        if parts.scheme or parts.netloc:
            raise AgentError(f"unsupported audio URL {url!r}: only http and https are fetched")
        base = self.config.media_base_url
        if base is None:
            raise AgentError(f"relative audio URL {url!r} and no media_base_url configured")
        return f"{base.rstrip('/')}/{url.lstrip('/')}"

    # -- commands --------------------------------------------------------------------------------

    async def _execute(self, command: SignedMessage) -> None:
        assert self._playback is not None
        if isinstance(command, PlayNow):
            await self._play_now(command)
        elif isinstance(command, Stop):
            affected = await self._playback.stop(command.play_id)
            if command.play_id is not None and command.play_id not in affected and command.play_id in self._waiting:
                play, task = self._waiting.pop(command.play_id)
                task.cancel()
                self._report(play, PlayStatus.SKIPPED, reason=STOPPED)
                affected.append(play.play_id)
            self.log.info("stop command %s: %s", command.msg_id, ", ".join(affected) or "nothing to stop")
        elif isinstance(command, SetVolume):
            self._volume = command.volume
            self.store.set_setting("volume", str(command.volume))
            self.log.info("volume set to %d", command.volume)
        elif isinstance(command, TestTone):
            await self._playback.submit(PlayItem(ItemKind.TONE, tone=command))
        else:  # pragma: no cover - the verifier only lets the four kinds through
            self.log.warning("ignored a %s command", _kind(command))

    async def _play_now(self, command: PlayNow) -> None:
        assert self._playback is not None
        play = command.play
        status = self.store.add_play(play, PlaySource.PLAY_NOW, self.clock.now())
        if status not in (PlayStatus.PENDING, PlayStatus.DOWNLOADED):
            self.log.warning("play-now for play %s ignored: it is already %s", play.play_id, status.value)
            return
        current = self._playback.current
        if current is not None and current.play_id == play.play_id:
            return
        self._playback.discard(play.play_id)
        if play.play_id in self._waiting:
            self._waiting.pop(play.play_id)[1].cancel()
        self.log.info("play-now: %s play %s", play.priority.value, play.play_id)
        self._spawn(play, self._prepare_now(play))

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
