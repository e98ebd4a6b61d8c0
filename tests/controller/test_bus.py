"""The controller's MQTT bus and ingestor on a real broker: Mosquitto and the embedded one."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from common.clock import SystemClock, utcnow
from controller.background.ingest import Ingestor
from controller.db.models import Agent, PlayEvent
from controller.dispatch.bus import MqttBus
from protocol import AgentState, AgentStatus, ScheduleManifest, Signer, Topics, Verifier, encode
from protocol.signing import generate_private_key
from tests.conftest import BrokerEndpoint
from tests.controller.conftest import Seed


class PlainClient:
    """A bare paho client standing in for an agent (or an attacker)."""

    def __init__(self, endpoint: BrokerEndpoint, client_id: str, username: str | None = None) -> None:
        self.received: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
        if endpoint.credentials:
            self.client.username_pw_set(*endpoint.credentials(username or client_id))
        self.client.on_message = lambda _c, _u, m: self.received.put(m)
        connected = threading.Event()
        self.client.on_connect = lambda *_a: connected.set()
        self.client.connect(endpoint.host, endpoint.port)
        self.client.loop_start()
        assert connected.wait(10)

    def subscribe(self, topic: str) -> None:
        self.client.subscribe(topic, qos=1)

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def plain(broker: BrokerEndpoint, topic_root: str) -> Iterator[PlainClient]:
    # On the embedded broker only the controller's login may touch every agent's topics.
    client = PlainClient(broker, f"plain-{topic_root.split('/')[0]}", username="loa-controller")
    yield client
    client.close()


@pytest.fixture
def ingestor(session_factory: sessionmaker[Session], topic_root: str) -> Iterator[Ingestor]:
    ing = Ingestor(session_factory, Topics(topic_root), SystemClock())
    ing.start()
    yield ing
    ing.stop()


@pytest.fixture
def bus(broker: BrokerEndpoint, topic_root: str, ingestor: Ingestor) -> Iterator[MqttBus]:
    user, password = broker.login("loa-controller")
    b = MqttBus(
        broker.url,
        Topics(topic_root),
        ingestor.submit,
        client_id=f"ctl-{topic_root.split('/')[0]}",
        username=user,
        password=password,
    )
    b.start()
    yield b
    b.stop()


def test_retained_signed_manifest_reaches_a_late_subscriber(bus: MqttBus, plain: PlainClient, topic_root: str) -> None:
    topics = Topics(topic_root)
    signer = Signer(generate_private_key())
    now = utcnow()
    m = ScheduleManifest(
        agent_id="cum-0", issued_at=now, expires_at=now + timedelta(hours=1), revision=1, horizon_end=now
    )
    bus.publish(topics.manifest("cum-0"), signer.sign(topics.manifest("cum-0"), m), retain=True).wait_for_publish(10)
    plain.subscribe(topics.manifest("cum-0"))  # subscribes after the publish: gets the retained copy
    msg = plain.received.get(timeout=10)
    assert msg.retain
    assert Verifier(signer.public_key, "cum-0").verify(msg.topic, bytes(msg.payload), now) == m


def test_unacknowledged_counts_publishes_until_the_broker_acknowledges_them(bus: MqttBus, topic_root: str) -> None:
    topics = Topics(topic_root)
    infos = [bus.publish(topics.commands(f"cum-{i}"), b"x" * 100) for i in range(300)]  # beyond MAX_INFLIGHT
    for info in infos:
        info.wait_for_publish(10)
    deadline = time.monotonic() + 10
    while bus.unacknowledged and time.monotonic() < deadline:
        time.sleep(0.01)  # on_publish runs on paho's thread just after wait_for_publish wakes
    assert bus.unacknowledged == 0


def test_malformed_messages_are_dropped_and_the_next_is_handled(
    bus: MqttBus,
    plain: PlainClient,
    ingestor: Ingestor,
    topic_root: str,
    seed: Seed,
    session_factory: sessionmaker[Session],
) -> None:
    topics = Topics(topic_root)
    for junk in (b"", b"{not json", b'{"kind":"confirmation"}', "chào".encode()):
        plain.publish(topics.confirmations("cum-0"), junk)
    plain.publish(f"{topic_root}/agents/NOT-VALID/state", b"{}")
    state = AgentState(agent_id="cum-0", at=utcnow(), status=AgentStatus.ONLINE, version="t")
    plain.publish(topics.state("cum-0"), encode(state))
    deadline = utcnow() + timedelta(seconds=15)
    while ingestor.totals.stored < 1 and utcnow() < deadline:
        ingestor.wait_idle(1)
    assert ingestor.totals.dropped == 5
    with session_factory() as s:
        agent = s.get_one(Agent, "cum-0")
        assert (agent.status, agent.version) == ("online", "t")
        assert s.scalar(select(func.count()).select_from(PlayEvent)) == 0
