"""The agent's MQTT session: connect, say online, subscribe, serve, and reconnect with backoff.

MQTT 3.1.1 with a fixed client id, clean_session=False and a retained Last Will saying offline.
The backoff waits on the agent's injected clock, so tests move time instead of sleeping.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Coroutine
from datetime import datetime, timedelta
from typing import Any, Protocol

import aiomqtt

from common.clock import Clock
from edge_agent.config import AgentConfig
from edge_agent.errors import AgentError
from edge_agent.timing import wait_until_or
from protocol import MQTT_QOS, Topics
from protocol.codec import encode
from protocol.messages import AgentState, AgentStatus

MQTT_TIMEOUT_S = 30.0
"""How long a CONNACK, SUBACK or PUBACK may take before the connection counts as lost (4G is slow)."""


class SubscriptionRefused(AgentError):
    """The broker refused a subscription, usually because of its ACL."""


def reconnect_delay(attempt: int, cap_s: float) -> float:
    """Jittered exponential backoff, so a fleet does not reconnect in lockstep after an outage."""
    base = min(cap_s, 0.5 * 2 ** min(attempt, 20))
    return random.uniform(base / 2, base)


class SessionHooks(Protocol):
    """What the session asks of the agent it serves."""

    def state(self, status: AgentStatus, at: datetime | None = None) -> AgentState:
        """The retained state message for `status` (online, offline; also the Last Will)."""
        ...

    async def handle(self, topic: str, payload: bytes) -> None:
        """Act on one inbound message; never raises."""
        ...

    def session_tasks(self, client: aiomqtt.Client) -> dict[str, Coroutine[Any, Any, None]]:
        """Work that runs while connected (the outbox flusher, telemetry), by name."""
        ...

    def connection_changed(self, connected: bool) -> None:
        """Told when the session goes online or offline."""
        ...

    async def goodbye(self, client: aiomqtt.Client) -> None:
        """On stop, while still connected: end playback and send what is pending."""
        ...


class MqttSession:
    """Keeps one MQTT session alive until `stopping` is set; then says goodbye and disconnects."""

    def __init__(
        self,
        config: AgentConfig,
        topics: Topics,
        clock: Clock,
        hooks: SessionHooks,
        *,
        stopping: asyncio.Event,
        log: logging.Logger | logging.LoggerAdapter[logging.Logger],
    ) -> None:
        self.config = config
        self.agent_id = config.agent_id
        self.topics = topics
        self.clock = clock
        self.hooks = hooks
        self.log = log
        self._stopping = stopping
        self.client: aiomqtt.Client | None = None
        """The live client while a session is up, for one-off publishes (security events)."""
        self.connected = False
        self._session_at: datetime | None = None
        """When the current session began: the `at` of its Last Will and of its online state."""

    async def run(self) -> None:
        """Connect, serve, and reconnect with jittered backoff until `stopping` is set."""
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
            self.hooks.connection_changed(False)
            if self._stopping.is_set():
                break
            delay = reconnect_delay(attempt, self.config.reconnect_max_s)
            attempt += 1
            await wait_until_or(self.clock, self.clock.now() + timedelta(seconds=delay), self._stopping)

    def _client_for_broker(self) -> aiomqtt.Client:
        address = self.config.broker
        tls = None
        if address.tls:
            tls = aiomqtt.TLSParameters(ca_certs=str(self.config.ca_file) if self.config.ca_file else None)
        self._session_at = self.clock.now()
        will = self.hooks.state(AgentStatus.OFFLINE, at=self._session_at)
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
            will=aiomqtt.Will(self.topics.state(self.agent_id), encode(will), qos=MQTT_QOS, retain=True),
        )

    async def _session(self) -> None:
        async with self._client_for_broker() as client:
            self.client = client
            try:
                await self._serve(client)
            finally:
                self.client = None

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
        self.hooks.connection_changed(True)
        work = {
            name: asyncio.create_task(coro, name=f"{self.agent_id}-{name}")
            for name, coro in self.hooks.session_tasks(client).items()
        }
        await self._serve_until_stop(client, receive, work)

    async def _serve_until_stop(
        self, client: aiomqtt.Client, receive: asyncio.Task[None], work: dict[str, asyncio.Task[None]]
    ) -> None:
        tasks = [receive, *work.values()]
        stop = asyncio.create_task(self._stopping.wait())
        try:
            done, _ = await asyncio.wait([*tasks, stop], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stop and not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
            if self._stopping.is_set():
                # Stop taking messages, but let a batch in flight (the outbox) get its PUBACKs before the goodbye.
                for name, task in [("receive", receive), *work.items()]:
                    if name != "outbox":
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
        online = self.hooks.state(AgentStatus.ONLINE, at=self._session_at)
        await client.publish(state_topic, encode(online), qos=MQTT_QOS, retain=True)
        wanted = [self.topics.manifest(self.agent_id), self.topics.commands(self.agent_id)]
        granted = await client.subscribe([(t, MQTT_QOS) for t in wanted])
        refused = [t for t, code in zip(wanted, granted, strict=False) if _is_failure(code)]
        if refused:
            raise SubscriptionRefused(f"the broker refused subscriptions to {', '.join(refused)}")

    async def _goodbye(self, client: aiomqtt.Client) -> None:
        """On stop: let the agent wind down and flush, then say offline; the caller disconnects."""
        try:
            await self.hooks.goodbye(client)
            offline = encode(self.hooks.state(AgentStatus.OFFLINE))
            await client.publish(self.topics.state(self.agent_id), offline, qos=MQTT_QOS, retain=True, timeout=5)
        except (aiomqtt.MqttError, TimeoutError) as exc:
            self.log.warning("could not say goodbye to the broker: %s", exc)

    async def _receive(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            payload = message.payload if isinstance(message.payload, bytes | bytearray) else b""
            await self.hooks.handle(message.topic.value, bytes(payload))

    async def publish(self, topic: str, payload: bytes) -> bool:
        """Publish once at QoS 1 if connected. False when there is no session; raises aiomqtt.MqttError."""
        client = self.client
        if client is None:
            return False
        await client.publish(topic, payload, qos=MQTT_QOS)
        return True


def _is_failure(code: object) -> bool:
    if isinstance(code, int):
        return code >= 0x80
    return bool(getattr(code, "is_failure", False))
