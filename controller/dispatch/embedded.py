"""The embedded MQTT broker (amqtt, MQTT 3.1.1), run in its own thread and event loop.

It is the no-setup default for one commune or a demo. Measured on 2 cores it moves about
2-3.6k QoS 1 messages/s, against 12-13k for Mosquitto; a province should run Mosquitto.
Clients authenticate with per-user HMAC passwords (see broker_auth) and agents are confined
to their own topics.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from typing import Any

from amqtt.broker import Broker
from amqtt.errors import AMQTTError, MQTTError, NoDataError
from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler
from amqtt.session import Session
from amqtt.utils import gen_client_id

from controller.dispatch.broker_auth import CONTROLLER_USER, DerivedCredentials
from controller.errors import ControllerError

log = logging.getLogger(__name__)


class _SnapshotTable(dict[str, list[tuple[Any, int]]]):
    """A subscription table that iterates over copies.

    amqtt 0.12.1 awaits inside loops over its subscription table, so a client subscribing
    meanwhile raised "dictionary changed size during iteration" and the message being
    broadcast was lost.
    """

    def __iter__(self) -> Iterator[str]:
        return iter(list(super().keys()))

    def items(self) -> list[tuple[str, list[tuple[Any, int]]]]:  # type: ignore[override]
        return [(k, list(v)) for k, v in super().items()]


class _LoaBroker(Broker):  # type: ignore[misc]
    """amqtt's Broker with three fixes for 0.12.1.

    - A CONNECT is authenticated before it can touch an existing session (see `_initialize_client_session`).
    - Retained messages go only to the session's own subscriptions: amqtt walked *every*
      subscription in the broker when a client connected, so each agent received every other
      agent's manifest.
    - The subscription table iterates over snapshots (see `_SnapshotTable`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._subscriptions = _SnapshotTable(self._subscriptions)  # type: ignore[has-type]

    async def _initialize_client_session(
        self, reader: Any, writer: Any, remote_address: str, remote_port: int
    ) -> tuple[BrokerProtocolHandler, Session]:
        """Read the CONNECT and authenticate it *before* it may touch an existing session.

        amqtt 0.12.1 first merged a CONNECT into the session of the same client id (copying its username and
        password there), or deleted that session for a clean one, and only then authenticated it; it even took
        over a connected session for a refused client. One agent's login, reconnecting under another's client
        id, so silenced the real agent. Here a refused CONNECT gets its CONNACK and is closed untouched.
        """
        try:
            handler, fresh = await BrokerProtocolHandler.init_from_connect(reader, writer, self.plugins_manager)
        except (AMQTTError, MQTTError, NoDataError) as exc:
            await writer.close()
            raise AMQTTError(f"no valid CONNECT from {remote_address}:{remote_port}: {exc}") from None
        if not await self._authenticate(fresh, None):
            handler.attach(fresh, reader, writer)
            await handler.mqtt_connack_authorize(False)
            await writer.close()
            raise MQTTError(f"refused CONNECT from {remote_address}:{remote_port} as {fresh.username!r}")
        return await self._merge_session(handler, fresh)

    async def _merge_session(
        self, handler: BrokerProtocolHandler, client_session: Session
    ) -> tuple[BrokerProtocolHandler, Session]:
        """amqtt 0.12.1's session handling after the CONNECT, for an authenticated client only."""
        if client_session.clean_session:
            if client_session.client_id:
                await self._delete_session(client_session.client_id)
            else:
                client_session.client_id = gen_client_id()
            client_session.parent = 0
        elif client_session.client_id in self._sessions:
            existing, _ = self._sessions[client_session.client_id]
            for name in ("will_flag", "will_message", "will_topic", "will_qos", "keep_alive", "username", "password"):
                setattr(existing, name, getattr(client_session, name))
            client_session = existing
            client_session.parent = 1
        else:
            client_session.parent = 0
        delay = self.config.get("timeout-disconnect-delay", 0)
        if client_session.keep_alive > 0 and isinstance(delay, int):
            client_session.keep_alive += delay
        return handler, client_session

    async def _publish_retained_messages_for_subscription(self, subscription: tuple[str, int], session: Any) -> None:
        subscribers = self._subscriptions.get(subscription[0], [])
        if any(s.client_id == session.client_id for s, _ in subscribers):
            await super()._publish_retained_messages_for_subscription(subscription, session)


class EmbeddedBroker:
    """Start with `start()`, stop with `stop()`. Listens on loopback unless told otherwise."""

    def __init__(self, host: str, port: int, *, secret: bytes, topic_root: str) -> None:
        self.host = host
        self.port = port
        self.topic_root = topic_root
        self._secret = secret
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker: Broker | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def credentials(self, username: str) -> tuple[str, str]:
        """(username, password) for a client of this broker: the controller or an agent id."""
        return self.client_credentials(username)

    @property
    def client_credentials(self) -> DerivedCredentials:
        """The same logins as `credentials`, as a picklable callable for other processes."""
        return DerivedCredentials(self._secret)

    @property
    def controller_credentials(self) -> tuple[str, str]:
        return self.credentials(CONTROLLER_USER)

    def _config(self) -> dict[str, Any]:
        return {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "controller.dispatch.broker_auth.HmacAuthPlugin": {"secret_hex": self._secret.hex()},
                "controller.dispatch.broker_auth.AgentTopicAclPlugin": {"topic_root": self.topic_root},
            },
        }

    def start(self, timeout: float = 15.0) -> None:
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)

            async def boot() -> None:
                self._broker = _LoaBroker(self._config())
                await self._broker.start()

            try:
                loop.run_until_complete(boot())
            except BaseException as exc:  # reported to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="embedded-mqtt", daemon=True)
        self._thread.start()
        if not ready.wait(timeout) or failure:
            cause = failure[0] if failure else TimeoutError("broker did not start")
            raise ControllerError(
                f"embedded MQTT broker failed to start on {self.host}:{self.port}: {cause}",
                "Không khởi động được máy chủ MQTT nội bộ.",
            ) from cause
        log.info("embedded MQTT broker listening on %s:%s", self.host, self.port)

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if self._broker is not None:
            try:
                asyncio.run_coroutine_threadsafe(self._broker.shutdown(), loop).result(15)
            except Exception:
                log.exception("embedded broker shutdown failed")
        loop.call_soon_threadsafe(loop.stop)
        thread.join(15)
        self._loop = self._thread = self._broker = None
