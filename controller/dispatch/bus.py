"""The controller's MQTT client (paho-mqtt 2, callback API v2): signed manifests out, agent messages in."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from common.broker_url import parse_broker_url
from controller.errors import ControllerError
from protocol import MQTT_QOS, Channel, Topics

log = logging.getLogger(__name__)

INBOUND = (Channel.CONFIRMATIONS, Channel.STATE, Channel.TELEMETRY, Channel.SECURITY)
MAX_INFLIGHT = 200
"""QoS 1 publishes awaiting the broker's PUBACK at once; the rest wait in paho's queue."""


class MqttBus:
    """One persistent MQTT session (fixed client id, clean_session=False, QoS 1)."""

    def __init__(
        self,
        url: str,
        topics: Topics,
        on_message: Callable[[str, bytes], None],
        *,
        client_id: str = "loa-controller",
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.address = parse_broker_url(url)
        self.topics = topics
        self._on_message = on_message
        self._connected = threading.Event()
        self._count_lock = threading.Lock()
        self._published = 0
        self._acknowledged = 0
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
        )
        self.client.max_inflight_messages_set(MAX_INFLIGHT)
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        user = username or self.address.username
        if user:
            self.client.username_pw_set(user, password or self.address.password)
        if self.address.tls:
            self.client.tls_set()
        self.client.on_connect = self._handle_connect
        self.client.on_disconnect = self._handle_disconnect
        self.client.on_message = self._handle_message
        self.client.on_publish = self._handle_publish

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def unacknowledged(self) -> int:
        """Publishes queued or in flight that the broker has not yet acknowledged."""
        with self._count_lock:
            return self._published - self._acknowledged

    def start(self, timeout: float = 15.0) -> None:
        self.client.connect_async(self.address.host, self.address.port, keepalive=30)
        self.client.loop_start()
        if not self._connected.wait(timeout):
            self.client.loop_stop()
            raise ControllerError(
                f"could not connect to MQTT broker {self.address.url} within {timeout}s",
                "Không kết nối được máy chủ MQTT.",
            )

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        self._connected.clear()

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> mqtt.MQTTMessageInfo:
        """Queue a QoS 1 publish; paho resends it after a reconnect."""
        with self._count_lock:
            self._published += 1  # before publishing: the PUBACK may arrive before publish() returns
        return self.client.publish(topic, payload, qos=MQTT_QOS, retain=retain)

    def _handle_connect(
        self,
        client: mqtt.Client,
        _userdata: object,
        _flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        _props: object,
    ) -> None:
        if reason.is_failure:
            log.error("MQTT connect refused: %s", reason)
            return
        client.subscribe([(self.topics.every_agent(ch), MQTT_QOS) for ch in INBOUND])
        log.info("connected to %s", self.address.url)
        self._connected.set()

    def _handle_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: object,
        _flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        _props: object,
    ) -> None:
        self._connected.clear()
        if reason.is_failure:
            log.warning("MQTT connection lost (%s); paho reconnects", reason)

    def _handle_publish(
        self, _client: mqtt.Client, _userdata: object, _mid: int, _reason: ReasonCode, _props: object
    ) -> None:
        with self._count_lock:
            self._acknowledged += 1

    def _handle_message(self, _client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        try:
            self._on_message(msg.topic, bytes(msg.payload))
        except Exception:  # a bad message must never stop the network loop
            log.exception("handler failed for message on %s", msg.topic)
