"""A connection lost in the middle of the MQTT handshake: the agent reconnects at once, not after its timeout."""

from __future__ import annotations

import asyncio

import pytest

from edge_agent.session import MQTT_TIMEOUT_S
from simulator.faults import Drop
from simulator.link import Link
from tests.conftest import BrokerEndpoint
from tests.edge_agent.conftest import ConfigFactory, RigFactory, running


@pytest.mark.asyncio
async def test_a_puback_lost_with_the_connection_mid_handshake_costs_no_timeout(
    mosquitto: BrokerEndpoint, make_config: ConfigFactory, make_rig: RigFactory
) -> None:
    # The 2nd PUBLISH/PUBACK on the link is the broker's PUBACK for the agent's "online" state:
    # it is lost with the connection while the agent waits for it.
    link = Link("handshake", broker=(mosquitto.host, mosquitto.port), drop=Drop(every=2, times=1))
    await link.open()
    try:
        rig = make_rig(make_config(broker_url=f"mqtt://127.0.0.1:{link.broker_port}"))
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        async with running(rig, wait_connected=False):
            await rig.milestones.wait("connected", timeout=MQTT_TIMEOUT_S / 3)
            assert link.stats.lost_packets == 1
            assert loop.time() - t0 < MQTT_TIMEOUT_S / 3
    finally:
        await link.close()
