"""The embedded broker: no anonymous access, each agent confined to its own topics."""

from __future__ import annotations

import queue
import threading
import time

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.conftest import BrokerEndpoint


def connect(
    endpoint: BrokerEndpoint, client_id: str, login: tuple[str, str] | None
) -> tuple[mqtt.Client, str, queue.Queue[mqtt.MQTTMessage]]:
    received: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
    result: list[str] = []
    done = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
    if login:
        client.username_pw_set(*login)

    def on_connect(_c: mqtt.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        result.append(str(reason))
        done.set()

    client.on_connect = on_connect
    client.on_message = lambda _c, _u, m: received.put(m)
    client.connect(endpoint.host, endpoint.port)
    client.loop_start()
    assert done.wait(10)
    return client, result[0], received


def close(client: mqtt.Client) -> None:
    client.disconnect()
    client.loop_stop()


@pytest.mark.parametrize("login", [None, ("cum-1", "not-the-password"), ("loa-controller", "guess")])
def test_anonymous_and_wrong_passwords_are_refused(
    embedded_broker: BrokerEndpoint, login: tuple[str, str] | None
) -> None:
    client, reason, _ = connect(embedded_broker, "intruder", login)
    close(client)
    assert reason == "Not authorized"


def test_an_agent_cannot_read_or_write_another_agents_topics(embedded_broker: BrokerEndpoint, topic_root: str) -> None:
    assert embedded_broker.credentials is not None
    ctl, reason, ctl_inbox = connect(
        embedded_broker, f"ctl-{topic_root[:13]}", embedded_broker.credentials("loa-controller")
    )
    assert reason == "Success"
    ctl.subscribe(f"{topic_root}/agents/+/confirmations", qos=1)
    for agent in ("cum-1", "cum-2"):
        ctl.publish(f"{topic_root}/agents/{agent}/manifest", agent.encode(), qos=1, retain=True).wait_for_publish(10)

    a1, reason, inbox = connect(embedded_broker, f"cum-1-{topic_root[:13]}", embedded_broker.credentials("cum-1"))
    assert reason == "Success"
    a1.subscribe(f"{topic_root}/agents/cum-1/manifest", qos=1)
    a1.subscribe(f"{topic_root}/agents/cum-2/manifest", qos=1)  # refused by the ACL
    a1.subscribe(f"{topic_root}/agents/+/manifest", qos=1)  # wildcards refused too
    a1.publish(f"{topic_root}/agents/cum-2/confirmations", b"forged", qos=1).wait_for_publish(10)
    a1.publish(f"{topic_root}/agents/cum-1/confirmations", b"own", qos=1).wait_for_publish(10)

    own = inbox.get(timeout=10)
    assert (own.topic, own.payload) == (f"{topic_root}/agents/cum-1/manifest", b"cum-1")
    got = ctl_inbox.get(timeout=10)
    assert (got.topic, got.payload) == (f"{topic_root}/agents/cum-1/confirmations", b"own")
    time.sleep(0.5)  # a quiet period: nothing else may arrive
    assert inbox.empty()
    assert ctl_inbox.empty()
    close(a1)
    close(ctl)


def test_retained_messages_reach_only_their_subscribers(embedded_broker: BrokerEndpoint, topic_root: str) -> None:
    """amqtt 0.12.1 sent newcomers the retained messages of other clients' subscriptions; we patch that."""
    assert embedded_broker.credentials is not None
    ctl, _, _ = connect(embedded_broker, f"ctl2-{topic_root[:13]}", embedded_broker.credentials("loa-controller"))
    ctl.publish(f"{topic_root}/agents/cum-3/manifest", b"m3", qos=1, retain=True).wait_for_publish(10)
    first, _, first_inbox = connect(embedded_broker, f"cum-3-{topic_root[:13]}", embedded_broker.credentials("cum-3"))
    first.subscribe(f"{topic_root}/agents/cum-3/manifest", qos=1)
    assert first_inbox.get(timeout=10).payload == b"m3"
    other, _, other_inbox = connect(embedded_broker, f"cum-4-{topic_root[:13]}", embedded_broker.credentials("cum-4"))
    time.sleep(0.5)
    assert other_inbox.empty()
    for c in (first, other, ctl):
        close(c)


def test_the_amqtt_patches_still_apply() -> None:
    """`_LoaBroker` overrides amqtt internals: an amqtt that reshapes them must fail here, not in the field."""
    import asyncio
    import inspect
    import os

    from amqtt.broker import Broker

    from controller.dispatch.embedded import EmbeddedBroker, _LoaBroker, _SnapshotTable

    hook = Broker.__dict__.get("_publish_retained_messages_for_subscription")
    assert hook is not None and inspect.iscoroutinefunction(hook)
    assert list(inspect.signature(hook).parameters) == ["self", "subscription", "session"]
    source = inspect.getsource(Broker)
    assert "await self._publish_retained_messages_for_subscription(" in source  # the broker still calls the hook
    assert "for topic in self._subscriptions" in source  # and still walks the table the snapshot wraps

    async def build() -> object:
        config = EmbeddedBroker("127.0.0.1", 1, secret=os.urandom(32), topic_root="loa/v1")._config()
        return _LoaBroker(config)._subscriptions

    assert isinstance(asyncio.run(build()), _SnapshotTable)
