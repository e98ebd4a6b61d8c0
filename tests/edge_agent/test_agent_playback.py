"""An agent on a real broker plays a signed manifest on time through the relay and confirms it."""

from __future__ import annotations

import pytest

from common.clock import utcnow
from edge_agent import PlayStatus
from tests.edge_agent.conftest import (
    Audio,
    ConfigFactory,
    ControllerSide,
    MediaServer,
    RigFactory,
    make_manifest,
    make_play,
    running,
    wait_until,
)


@pytest.mark.asyncio
@pytest.mark.parametrize("active_high", [False, True], ids=["low-trigger", "high-trigger"])
async def test_scheduled_play_downloads_plays_on_time_and_confirms(
    make_config: ConfigFactory,
    make_rig: RigFactory,
    controller: ControllerSide,
    audio: Audio,
    media: MediaServer,
    active_high: bool,
) -> None:
    rig = make_rig(make_config(amplifier_active_high=active_high, amplifier_warmup_s=0.2))
    rig.pin.clear_states()
    amp_at_start: list[bool] = []
    rig.milestones.on_event = lambda e: amp_at_start.append(rig.agent.amplifier.is_on) if e == "started" else None
    async with running(rig):
        play = make_play(audio, 2.0, duration_s=0.5)
        await controller.send_manifest(make_manifest(rig.agent.agent_id, 1, [play]))
        downloaded = await controller.wait_for_event(play.play_id, "downloaded")
        assert downloaded.at < play.starts_at  # prefetched, not fetched at the last moment
        finished = await controller.wait_for_event(play.play_id, "finished")
        await wait_until(lambda: not rig.agent.amplifier.is_on)
        assert rig.agent.store.play_status(play.play_id) is PlayStatus.FINISHED
        assert rig.agent.store.outbox_size() == 0

    assert controller.events(play.play_id) == ["downloaded", "started", "finished"]
    started = controller.confirmations(play.play_id)[1]
    assert started.started_at is not None and finished.started_at == started.started_at
    # On the instant: the amplifier warmed up beforehand. (A loose bound: CI machines are slow.)
    assert play.starts_at <= started.started_at
    assert (started.started_at - play.starts_at).total_seconds() < 0.5
    assert finished.duration_played_s == pytest.approx(0.5)
    assert finished.ended_at is not None
    assert (finished.ended_at - finished.started_at).total_seconds() == pytest.approx(0.5)
    assert finished.at <= utcnow()

    # The relay: off, on for the play, off again, with the pin level set by active_high.
    assert amp_at_start == [True]
    assert rig.amp_on_states() == [False, True, False]
    assert rig.pin.states[-1].state == (not active_high)
    assert media.requests[audio.path] == 1
    assert rig.player.last is not None and rig.player.last.outcome.completed
    assert rig.player.last.path == rig.agent.config.media_dir / f"{audio.sha256}.mp3"
    assert rig.player.last.volume == 80
