"""The second channel (v1.2): an older signed manifest re-published on the broker cannot win while HTTP is up.

The issue's finding: an attacker who controls the broker re-published an older, still-valid manifest to an
agent that had been offline, and the agent played a booking that had since been held.
"""

from __future__ import annotations

import pytest

from edge_agent.manifest_pull import peek_revision
from tests.edge_agent.conftest import (
    Audio,
    ConfigFactory,
    ControllerSide,
    MediaServer,
    RigFactory,
    make_manifest,
    make_play,
    running,
)


@pytest.mark.asyncio
async def test_an_old_manifest_republished_on_the_broker_loses_to_the_one_served_over_http(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide, audio: Audio, media: MediaServer
) -> None:
    rig = make_rig(make_config())
    agent_id = rig.agent.agent_id
    topic = controller.topics.manifest(agent_id)
    held = make_play(audio, 2.0)  # booked in revision 2, then held by the officer
    later = make_play(audio, 4.0)  # still booked in revision 3
    old = controller.signer.sign(topic, make_manifest(agent_id, 2, [held, later]))
    current = controller.signer.sign(topic, make_manifest(agent_id, 3, [later]))
    media.files[f"/manifests/{agent_id}.json"] = current  # the controller serves revision 3
    await controller.publish_raw(topic, old, retain=True)  # the hostile broker holds revision 2

    async with running(rig):
        await controller.wait_for_event(later.play_id, "finished")
        assert rig.agent.store.manifest_revision() == 3
    # The held booking, due before the one that played, never sounded.
    assert [r.path.name for r in rig.player.history if r.path] == [audio.sha256 + ".mp3"]
    assert len(rig.player.history) == 1
    assert "started" not in controller.events(held.play_id)
    assert media.requests[f"/manifests/{agent_id}.json"] >= 1


@pytest.mark.asyncio
async def test_without_the_http_channel_the_agent_keeps_its_schedule(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide, audio: Audio, media: MediaServer
) -> None:
    rig = make_rig(make_config())
    agent_id = rig.agent.agent_id
    play = make_play(audio, 1.5)
    media.failures[f"/manifests/{agent_id}.json"] = [503, 503]  # the controller is unreachable over HTTP
    async with running(rig):
        await controller.send_manifest(make_manifest(agent_id, 1, [play]))
        await controller.wait_for_event(play.play_id, "finished")


def test_peek_revision_reads_only_a_well_formed_claim() -> None:
    assert peek_revision(b'{"payload": "{\\"revision\\": 7}"}') == 7
    for bad in (b"", b"[" * 100_000, b'{"payload": "{\\"revision\\": true}"}', b'{"payload": 3}'):
        assert peek_revision(bad) is None
