"""One session per identity: another agent's login cannot take over a post's session and silence it.

The issue's finding: with one agent's credentials and another agent's client id, reconnecting a few times on the
embedded broker made it check the real agent's session as the intruder's, and its manifests were dropped. On
Mosquitto the same trick disconnected the real agent. Each broker we ship configuration for is tested here.
"""

from __future__ import annotations

import uuid

import aiomqtt
import pytest

from protocol import Topics
from protocol.signing import Signer
from tests.conftest import BrokerEndpoint
from tests.edge_agent.conftest import Audio, ConfigFactory, RigFactory, make_manifest, make_play, running, wait_until


@pytest.mark.asyncio
@pytest.mark.parametrize("broker_fixture", ["secured_mosquitto", "embedded_broker"])
async def test_a_takeover_with_another_agents_login_leaves_the_real_agent_playing(
    request: pytest.FixtureRequest,
    broker_fixture: str,
    make_config: ConfigFactory,
    make_rig: RigFactory,
    audio: Audio,
    signer: Signer,
    topic_root: str,
    agent_id: str,
) -> None:
    endpoint: BrokerEndpoint = request.getfixturevalue(broker_fixture)
    assert endpoint.credentials is not None
    username, password = endpoint.credentials(agent_id)
    rig = make_rig(make_config(broker_url=endpoint.url, username=username, password=password))
    intruder = endpoint.credentials(f"{agent_id}-x")  # a second enrolled post whose login was stolen
    controller = endpoint.credentials("loa-controller")
    topics = Topics(topic_root)
    outcomes: list[str] = []
    async with (
        aiomqtt.Client(
            endpoint.host,
            endpoint.port,
            username=controller[0],
            password=controller[1],
            identifier=f"ctl-{uuid.uuid4().hex[:8]}",
        ) as ctl,
        running(rig),
    ):
        # A stolen login of another post, three times, then the post's own name with a guessed password.
        for login in [intruder] * 3 + [(agent_id, "guessed")]:
            try:
                async with aiomqtt.Client(
                    endpoint.host,
                    endpoint.port,
                    username=login[0],
                    password=login[1],
                    identifier=agent_id,  # the real post's client id
                    clean_session=False,
                ) as taker:
                    await taker.subscribe(topics.manifest(agent_id), qos=1)
                    outcomes.append("connected")
            except aiomqtt.MqttError:
                outcomes.append("refused")
        play = make_play(audio, 1.0)
        topic = topics.manifest(agent_id)
        await ctl.publish(topic, signer.sign(topic, make_manifest(agent_id, 1, [play])), qos=1, retain=True)
        await wait_until(lambda: [r.outcome.completed for r in rig.player.history] == [True])
        await ctl.publish(topic, b"", qos=1, retain=True)  # leave no retained manifest behind
    # The embedded broker refuses the foreign client id; Mosquitto gives the intruder its own login as id.
    stolen = "refused" if broker_fixture == "embedded_broker" else "connected"
    assert outcomes == [stolen] * 3 + ["refused"]
    assert rig.milestones.seen["connected"] == 1  # the real post was never knocked off
