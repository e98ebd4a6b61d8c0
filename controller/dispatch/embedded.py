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
    """amqtt's Broker with two fixes for 0.12.1.

    - Retained messages go only to the session's own subscriptions: amqtt walked *every*
      subscription in the broker when a client connected, so each agent received every other
      agent's manifest.
    - The subscription table iterates over snapshots (see `_SnapshotTable`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._subscriptions = _SnapshotTable(self._subscriptions)  # type: ignore[has-type]

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
