"""Commands and manifest changes: PlayNow preempts, Stop is a kill switch, volume, test tone, cancellation."""

from __future__ import annotations

import pytest

from edge_agent import PlayStatus
from protocol import PlayNow, Priority, SetVolume, Stop, TestTone
from protocol.messages import replace
from tests.edge_agent.conftest import (
    Audio,
    ConfigFactory,
    ControllerSide,
    MediaServer,
    RigFactory,
    command_fields,
    make_manifest,
    make_play,
    running,
    wait_until,
)


@pytest.mark.asyncio
async def test_emergency_play_now_interrupts_a_normal_play(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide, audio: Audio
) -> None:
    rig = make_rig(make_config())
    agent_id = rig.agent.agent_id
    rig.pin.clear_states()
    async with running(rig):
        normal = make_play(audio, 1.0, duration_s=30)
        await controller.send_manifest(make_manifest(agent_id, 1, [normal]))
        await controller.wait_for_event(normal.play_id, "started")
        storm = make_play(audio, 0, duration_s=0.3, priority=Priority.EMERGENCY)
        await controller.send_command(PlayNow(**command_fields(agent_id), play=storm))
        await controller.wait_for_event(storm.play_id, "finished")
        await wait_until(lambda: not rig.agent.amplifier.is_on)

    skipped = controller.confirmations(normal.play_id)[-1]
    assert (skipped.event.value, skipped.reason) == ("skipped", f"preempted by emergency play {storm.play_id}")
    assert skipped.duration_played_s is not None and 0 < skipped.duration_played_s < 30
    assert controller.events(storm.play_id) == ["downloaded", "started", "finished"]
    assert rig.amp_on_states() == [False, True, False]  # the amplifier stayed on across the switch


@pytest.mark.asyncio
async def test_play_now_of_equal_priority_waits_its_turn(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide, audio: Audio
) -> None:
    rig = make_rig(make_config())
    agent_id = rig.agent.agent_id
    async with running(rig):
        first = make_play(audio, 0.8, duration_s=0.6)
        await controller.send_manifest(make_manifest(agent_id, 1, [first]))
        await controller.wait_for_event(first.play_id, "started")
        second = make_play(audio, 0, duration_s=0.2)
        await controller.send_command(PlayNow(**command_fields(agent_id), play=second))
        await controller.wait_for_event(second.play_id, "finished")
    assert controller.events(first.play_id)[-1] == "finished"
    first_end = controller.confirmations(first.play_id)[-1].ended_at
    second_start = controller.confirmations(second.play_id)[-1].started_at
    assert first_end is not None and second_start is not None and first_end <= second_start


@pytest.mark.asyncio
async def test_stop_ends_the_current_play_and_drops_the_due_queue(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide, audio: Audio
) -> None:
    rig = make_rig(make_config())
    agent_id = rig.agent.agent_id
    async with running(rig):
        long = make_play(audio, 1.0, duration_s=30)
        queued = make_play(audio, 1.2, duration_s=30)  # due while `long` plays: waits in the queue
        future = make_play(audio, 60, duration_s=1)
        await controller.send_manifest(make_manifest(agent_id, 1, [long, queued, future]))
        await controller.wait_for_event(long.play_id, "started")
        await wait_until(lambda: queued.play_id in rig.agent._playback.queued_play_ids())  # type: ignore[union-attr]
        await controller.send_command(Stop(**command_fields(agent_id)))
        await controller.wait_for_event(queued.play_id, "skipped")
        stopped = await controller.wait_for_event(long.play_id, "skipped")
        await wait_until(lambda: not rig.agent.amplifier.is_on)
        # A play not yet due keeps its schedule...
        assert rig.agent.store.play_status(future.play_id) is PlayStatus.DOWNLOADED
        # ...unless it is stopped by id.
        await controller.send_command(Stop(**command_fields(agent_id), play_id=future.play_id))
        await controller.wait_for_event(future.play_id, "skipped")

    assert stopped.reason == "stopped" and stopped.duration_played_s is not None and stopped.duration_played_s < 30
    assert controller.confirmations(queued.play_id)[-1].reason == "stopped"
    assert controller.confirmations(future.play_id)[-1].reason == "stopped"
    assert [r.outcome.completed for r in rig.player.history] == [False]


@pytest.mark.asyncio
async def test_volume_is_applied_and_kept_across_restarts(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide, audio: Audio
) -> None:
    config = make_config()
    first = make_rig(config)
    async with running(first):
        await controller.send_command(SetVolume(**command_fields(config.agent_id), volume=35))
        await controller.send_command(TestTone(**command_fields(config.agent_id), seconds=0.2))
        await wait_until(lambda: len(first.player.history) == 1 and not first.agent.amplifier.is_on)
    tone = first.player.history[0]
    assert (tone.kind, tone.volume, tone.duration_s, tone.outcome.completed) == ("tone", 35, 0.2, True)
    assert first.amp_on_states()[-2:] == [True, False]

    second = make_rig(config)
    async with running(second):
        assert second.agent.volume == 35
        play = make_play(audio, 0, duration_s=0.2)
        await controller.send_command(PlayNow(**command_fields(config.agent_id), play=play))
        await controller.wait_for_event(play.play_id, "finished")
    assert second.player.history[0].volume == 35


@pytest.mark.asyncio
async def test_a_new_manifest_cancels_plays_it_no_longer_lists(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide, audio: Audio, media: MediaServer
) -> None:
    rig = make_rig(make_config())
    agent_id = rig.agent.agent_id
    async with running(rig):
        kept = make_play(audio, 1.5, duration_s=0.2)
        dropped = make_play(audio, 2.0, duration_s=0.2)
        moved = make_play(audio, 30, duration_s=0.2)
        await controller.send_manifest(make_manifest(agent_id, 1, [kept, dropped, moved]))
        await controller.wait_for(lambda: all(controller.events(p.play_id) for p in (kept, dropped, moved)))
        moved_earlier = replace(moved, starts_at=dropped.starts_at)
        await controller.send_manifest(make_manifest(agent_id, 2, [kept, moved_earlier]))
        await controller.wait_for_event(kept.play_id, "finished")
        await controller.wait_for_event(moved.play_id, "finished")

    assert controller.events(kept.play_id) == ["downloaded", "started", "finished"]  # not restarted by revision 2
    assert controller.events(dropped.play_id) == ["downloaded"]
    assert controller.events(moved.play_id) == ["downloaded", "started", "finished"]
    assert len(rig.player.history) == 2
    assert media.requests[audio.path] == 1  # all three share one file, fetched once


@pytest.mark.asyncio
async def test_a_play_past_its_start_plays_within_the_grace_and_is_skipped_after_it(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide, audio: Audio, media: MediaServer
) -> None:
    rig = make_rig(make_config(late_grace_s=60))
    agent_id = rig.agent.agent_id
    async with running(rig):
        stale = make_play(media.add(b"never fetched"), -120)
        recent = make_play(audio, -5, duration_s=0.2)
        await controller.send_manifest(make_manifest(agent_id, 1, [stale, recent]))
        skipped = await controller.wait_for_event(stale.play_id, "skipped")
        await controller.wait_for_event(recent.play_id, "finished")
    assert skipped.reason == "late"
    assert controller.events(stale.play_id) == ["skipped"]
    audio_requests = {path: n for path, n in media.requests.items() if path.startswith("/media/")}
    assert sum(audio_requests.values()) == 1  # only the recent play's audio (the manifest pull is not audio)
    assert len(rig.player.history) == 1
