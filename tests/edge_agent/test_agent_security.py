"""Forged, unsigned, expired, misaddressed, replayed and malformed messages, published by a plain MQTT
client, are rejected and reported; nothing plays; the agent carries on with the next valid message."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from protocol import PlayNow, SetVolume, Signer, Topics
from protocol.signing import generate_private_key
from tests.edge_agent.conftest import (
    Audio,
    ConfigFactory,
    ControllerSide,
    RigFactory,
    command_fields,
    make_manifest,
    make_play,
    running,
)


@pytest.mark.asyncio
async def test_bad_manifests_are_rejected_and_reported_and_the_next_valid_one_plays(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide, audio: Audio
) -> None:
    rig = make_rig(make_config())
    agent_id = rig.agent.agent_id
    topic = controller.topics.manifest(agent_id)
    rig.pin.clear_states()

    async def rejected(count: int) -> None:
        await controller.wait_for(lambda: len(controller.security_events()) >= count)

    async with running(rig):
        bait = make_play(audio, 1.0)  # what an attacker wants played
        forged = make_manifest(agent_id, 100, [bait])
        attacker = Signer(generate_private_key())
        other = "loa-someone-else"
        now = forged.issued_at
        expired = make_manifest(agent_id, 101, [bait], issued_at=now - timedelta(hours=3))
        early = make_manifest(agent_id, 102, [bait], issued_at=now + timedelta(hours=1))
        bad = [
            ("unknown-key", attacker.sign(topic, forged)),
            ("unsigned", msgspec.json.encode(forged)),
            ("expired", controller.signer.sign(topic, expired)),
            ("not-yet-valid", controller.signer.sign(topic, early)),
            ("wrong-address", controller.signer.sign(topic, make_manifest(other, 103, [bait]))),
            # Genuinely signed, but for another agent's topic: the signature covers the topic.
            ("bad-signature", controller.signer.sign(Topics(controller.topics.root).manifest(other), forged)),
            ("malformed", b"\xff\xfe not json at all"),
        ]
        for n, (_, payload) in enumerate(bad, start=1):
            await controller.publish_raw(topic, payload, retain=True)
            await rejected(n)

        # Still alive: a valid manifest plays.
        good = make_play(audio, 1.5)
        await controller.send_manifest(make_manifest(agent_id, 5, [good]))
        await controller.wait_for_event(good.play_id, "finished")

        # Replay of an older, genuinely signed revision is refused: its play never happens.
        old = make_play(audio, 1.0)
        await controller.send_manifest(make_manifest(agent_id, 4, [old]))
        await rejected(len(bad) + 1)
        # The same revision again (a retained redelivery) is ignored without alarm.
        await controller.send_manifest(make_manifest(agent_id, 5, [make_play(audio, 1.0)]))
        # ...and the next revision is accepted, proving both were handled in order.
        later = make_play(audio, 1.0)
        await controller.send_manifest(make_manifest(agent_id, 6, [later]))
        await controller.wait_for_event(later.play_id, "finished")

    reasons = [e.reason for e in controller.security_events()]
    assert reasons == [reason for reason, _ in bad] + ["replayed"]
    assert all(e.topic == topic and e.agent_id == agent_id for e in controller.security_events())
    assert controller.security_events()[-1].rejected_msg_id is not None
    assert rig.milestones.seen["rejected"] == len(bad) + 1
    assert rig.milestones.seen["manifest"] == 2
    assert controller.confirmations(bait.play_id) == [] and controller.confirmations(old.play_id) == []
    played = [r.path for r in rig.player.history]
    assert len(played) == 2  # the good play and the later one, nothing else
    assert rig.agent.config.state_dir.exists()
    assert rig.amp_on_states() == [False, True, False, True, False]


@pytest.mark.asyncio
async def test_replayed_and_bad_commands_are_rejected(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide, audio: Audio
) -> None:
    rig = make_rig(make_config())
    agent_id = rig.agent.agent_id
    topic = controller.topics.commands(agent_id)
    async with running(rig):
        urgent = PlayNow(**command_fields(agent_id), play=make_play(audio, 0, duration_s=0.2))
        payload = controller.signer.sign(topic, urgent)
        await controller.publish_raw(topic, payload)
        await controller.wait_for_event(urgent.play.play_id, "finished")

        # The exact same signed bytes again: a replay. It must not play twice.
        await controller.publish_raw(topic, payload)
        await controller.wait_for(lambda: len(controller.security_events()) == 1)
        # Forged and expired commands.
        attacker = Signer(generate_private_key())
        await controller.publish_raw(topic, attacker.sign(topic, SetVolume(**command_fields(agent_id), volume=100)))
        await controller.wait_for(lambda: len(controller.security_events()) == 2)
        expired = SetVolume(**command_fields(agent_id, valid_for=timedelta(seconds=-1)), volume=100)
        await controller.send_command(expired)
        await controller.wait_for(lambda: len(controller.security_events()) == 3)
        # A manifest on the commands topic is not a command.
        await controller.publish_raw(topic, controller.signer.sign(topic, make_manifest(agent_id, 1, [])))
        await controller.wait_for(lambda: len(controller.security_events()) == 4)
        assert rig.agent.volume == 80

        # Genuine commands still work.
        await controller.send_command(SetVolume(**command_fields(agent_id), volume=35))
        again = PlayNow(**command_fields(agent_id), play=make_play(audio, 0, duration_s=0.2))
        await controller.send_command(again)
        await controller.wait_for_event(again.play.play_id, "finished")

    assert [e.reason for e in controller.security_events()] == ["replayed", "unknown-key", "expired", "malformed"]
    assert controller.security_events()[0].rejected_msg_id == urgent.msg_id
    assert controller.events(urgent.play.play_id) == ["downloaded", "started", "finished"]
    assert [r.volume for r in rig.player.history] == [80, 35]


@pytest.mark.asyncio
async def test_malformed_bytes_never_crash_the_agent(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide, audio: Audio
) -> None:
    rig = make_rig(make_config(security_events_burst=100))  # this test counts every event
    agent_id = rig.agent.agent_id
    garbage = [b"", b"null", b"[]", b"{}", b'{"v": 1}', b"\x00" * 1000, "lệnh phát".encode(), b"{" * 10_000]
    async with running(rig):
        for payload in garbage:
            await controller.publish_raw(controller.topics.commands(agent_id), payload)
            await controller.publish_raw(controller.topics.manifest(agent_id), payload)
        await controller.wait_for(lambda: len(controller.security_events()) == 2 * len(garbage))
        play = make_play(audio, 1.0)
        await controller.send_manifest(make_manifest(agent_id, 1, [play]))
        await controller.wait_for_event(play.play_id, "finished")
    assert {e.reason for e in controller.security_events()} <= {"malformed", "unsigned"}


@pytest.mark.asyncio
async def test_nested_and_oversized_payloads_are_malformed_without_a_traceback(
    make_config: ConfigFactory,
    make_rig: RigFactory,
    controller: ControllerSide,
    audio: Audio,
    caplog: pytest.LogCaptureFixture,
) -> None:
    rig = make_rig(make_config(security_events_burst=100))
    agent_id = rig.agent.agent_id
    deep = 200_000
    hostile = [
        b"[" * deep + b"]" * deep,  # a RecursionError in the JSON parser before
        b'{"kind": "stop", "x": ' + b"[" * deep + b"]" * deep + b"}",
        b'{"v": 1, "payload": "' + b"a" * (5 * 1024 * 1024) + b'"}',  # over the 4 MiB limit
    ]
    async with running(rig):
        for payload in hostile:
            await controller.publish_raw(controller.topics.commands(agent_id), payload)
        await controller.wait_for(lambda: len(controller.security_events()) == len(hostile))
        play = make_play(audio, 1.0)
        await controller.send_manifest(make_manifest(agent_id, 1, [play]))
        await controller.wait_for_event(play.play_id, "finished")
    assert [e.reason for e in controller.security_events()] == ["malformed"] * len(hostile)
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []
