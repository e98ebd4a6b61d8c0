"""Confirmations survive outages, restarts and crashes; a play is never replayed and counted once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

import pytest

from common.clock import utcnow
from edge_agent import AgentStore, PlayStatus
from edge_agent.faults import FAULT_ENV, FAULT_EXIT_CODE
from protocol import AgentStatus, Confirmation, PlayEvent, PlayNow
from tests.edge_agent.conftest import (
    WAIT,
    Audio,
    ConfigFactory,
    ControllerSide,
    MediaServer,
    RigFactory,
    TcpProxy,
    command_fields,
    fake_mp3,
    make_manifest,
    make_play,
    running,
)


@pytest.mark.asyncio
async def test_confirmations_made_offline_are_kept_and_sent_after_reconnect(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide, audio: Audio, proxy: TcpProxy
) -> None:
    rig = make_rig(make_config(broker_url=proxy.url))
    agent_id = rig.agent.agent_id
    async with running(rig):
        play = make_play(audio, 2.0, duration_s=0.3)
        await controller.send_manifest(make_manifest(agent_id, 1, [play]))
        await controller.wait_for_event(play.play_id, "downloaded")
        await rig.milestones.wait("confirmed")  # the PUBACK for it is back, too

        await proxy.cut()  # the link goes down before the play
        await controller.wait_for(lambda: any(s.status is AgentStatus.OFFLINE for s in controller.states()))
        await rig.milestones.wait("finished")
        assert not rig.agent.connected
        assert [e.event for e in rig.agent.store.pending_confirmations()] == ["started", "finished"]
        assert controller.events(play.play_id) == ["downloaded"]

        await proxy.start()  # the link comes back
        await controller.wait_for_event(play.play_id, "finished")
        await rig.milestones.wait("confirmed", 3)
        assert rig.agent.store.outbox_size() == 0

    assert controller.events(play.play_id) == ["downloaded", "started", "finished"]
    assert rig.milestones.seen["connected"] == 2
    # Liveness: online, the Last Will when the link broke, online again, offline at the clean stop.
    statuses = [s.status.value for s in controller.states()]
    assert statuses[-4:] == ["online", "offline", "online", "offline"]
    # The Will carries its session's start, as that session's online state does, so the controller takes it
    # (no older than the last state) however much the agent sent in between; the next session starts later.
    first_online, will, second_online, goodbye = controller.states()[-4:]
    assert will.at == first_online.at < second_online.at <= goodbye.at


@pytest.mark.asyncio
async def test_restart_neither_replays_a_finished_play_nor_resends_acknowledged_confirmations(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide, audio: Audio
) -> None:
    config = make_config()
    first = make_rig(config)
    done = make_play(audio, 1.0, duration_s=0.2)
    async with running(first):
        await controller.send_manifest(make_manifest(config.agent_id, 1, [done]))
        await controller.wait_for_event(done.play_id, "finished")
        await first.milestones.wait("confirmed", 3)

    second = make_rig(config)
    async with running(second):
        # The broker redelivers the retained revision 1: held already, ignored. Revision 2 lists
        # the finished play again beside a new one; only the new one plays.
        fresh = make_play(audio, 1.0, duration_s=0.2)
        await controller.send_manifest(make_manifest(config.agent_id, 2, [done, fresh]))
        await controller.wait_for_event(fresh.play_id, "finished")

    assert controller.events(done.play_id) == ["downloaded", "started", "finished"]
    assert controller.events(fresh.play_id) == ["downloaded", "started", "finished"]
    assert [r.duration_s for r in second.player.history] == [0.2] and len(first.player.history) == 1
    assert second.milestones.seen["manifest"] == 1


@pytest.mark.asyncio
async def test_a_play_cut_by_a_crash_is_reported_interrupted_and_not_replayed(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide, audio: Audio
) -> None:
    config = make_config()
    play = make_play(audio, -2, duration_s=30)  # was on air when the agent died
    # What a crashed agent leaves: the play `started`, its confirmation never acknowledged.
    with AgentStore.in_dir(config.state_dir) as store:
        store.save_manifest(make_manifest(config.agent_id, 1, [play]), b"raw", utcnow())
        started = Confirmation(
            agent_id=config.agent_id, at=play.starts_at, play_id=play.play_id, event=PlayEvent.STARTED,
            started_at=play.starts_at,
        )  # fmt: skip
        store.advance(play.play_id, PlayStatus.STARTED, started, utcnow())

    rig = make_rig(config)
    async with running(rig):
        failed = await controller.wait_for_event(play.play_id, "failed")
    assert failed.reason == "interrupted"
    assert controller.events(play.play_id) == ["started", "failed"]
    assert controller.confirmations(play.play_id)[0].msg_id == started.msg_id
    assert rig.player.history == []


@pytest.mark.asyncio
async def test_an_armed_play_past_its_instant_after_a_crash_is_reported_interrupted_and_not_played(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide, audio: Audio
) -> None:
    config = make_config()
    play = make_play(audio, -2, duration_s=30)  # the agent died between arming it and (maybe) starting it
    with AgentStore.in_dir(config.state_dir) as store:
        store.save_manifest(make_manifest(config.agent_id, 1, [play]), b"raw", utcnow())
        assert store.arm(play.play_id, utcnow())

    rig = make_rig(config)
    async with running(rig):
        failed = await controller.wait_for_event(play.play_id, "failed")
    assert failed.reason == "interrupted"
    assert controller.events(play.play_id) == ["failed"]
    assert rig.player.history == []


@pytest.mark.asyncio
async def test_an_armed_play_still_ahead_after_a_restart_plays_as_booked(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide, audio: Audio
) -> None:
    config = make_config()
    play = make_play(audio, 4, duration_s=1)  # the agent restarted during the warm-up, before the instant
    with AgentStore.in_dir(config.state_dir) as store:
        store.save_manifest(make_manifest(config.agent_id, 1, [play]), b"raw", utcnow())
        assert store.arm(play.play_id, utcnow())

    rig = make_rig(config)
    async with running(rig):
        await controller.wait_for_event(play.play_id, "finished")
    assert controller.events(play.play_id)[-2:] == ["started", "finished"]
    assert len(rig.player.history) == 1


@pytest.mark.asyncio
async def test_a_clean_stop_mid_play_reports_it_interrupted(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide, audio: Audio
) -> None:
    rig = make_rig(make_config())
    async with running(rig):
        play = make_play(audio, 0, duration_s=30)
        await controller.send_command(PlayNow(**command_fields(rig.agent.agent_id), play=play))
        await controller.wait_for_event(play.play_id, "started")
    failed = await controller.wait_for_event(play.play_id, "failed")  # sent before the goodbye
    assert failed.reason == "interrupted"
    assert failed.duration_played_s is not None and failed.duration_played_s < 30
    assert not rig.agent.amplifier.is_on


@pytest.mark.asyncio
async def test_checksum_mismatch_fails_the_play_and_never_switches_the_amplifier_on(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide, media: MediaServer
) -> None:
    rig = make_rig(make_config())
    rig.pin.clear_states()
    tampered = media.add(fake_mp3("genuine"), served=fake_mp3("tampered"))
    async with running(rig):
        play = make_play(tampered, 1.5, relative_url=True)  # relative: joined to media_base_url
        await controller.send_manifest(make_manifest(rig.agent.agent_id, 1, [play]))
        failed = await controller.wait_for_event(play.play_id, "failed")
        await asyncio.sleep(2.0)  # past the play's instant: still nothing
    assert failed.reason is not None and "checksum-mismatch" in failed.reason and tampered.sha256 in failed.reason
    assert controller.events(play.play_id) == ["failed"]
    assert rig.amp_on_states() == [False]
    assert rig.player.history == []
    assert not list(rig.agent.config.media_dir.iterdir())


AGENT_MAIN = "import sys; from edge_agent.cli import run_agent; sys.exit(run_agent(sys.argv[1]))"


def agent_toml(values: Mapping[str, object]) -> str:
    """TOML for flat string, number and bool values: JSON's literals are valid TOML for these."""
    return "".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items() if value is not None)


async def start_agent_process(config_path: Path, log: Path, fault: str | None) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if k != FAULT_ENV}
    env["GPIOZERO_PIN_FACTORY"] = "mock"
    if fault:
        env[FAULT_ENV] = fault
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return await asyncio.create_subprocess_exec(
            sys.executable, "-c", AGENT_MAIN, str(config_path), env=env, stdout=out, stderr=asyncio.subprocess.STDOUT
        )


@pytest.mark.asyncio
async def test_exit_before_confirm_then_restart_sends_exactly_one_finished(
    make_config: ConfigFactory, controller: ControllerSide, audio: Audio, tmp_path: Path
) -> None:
    config = make_config()
    values = {
        "agent_id": config.agent_id,
        "broker_url": config.broker_url,
        "controller_public_key": config.controller_public_key,
        "topic_root": config.topic_root,
        "state_dir": str(config.state_dir),
        "media_base_url": config.media_base_url,
        "player": "virtual",
        "amplifier_warmup_s": 0.05,
        "amplifier_cooldown_s": 0.05,
        "telemetry_interval_s": 0,
        # On, as on a post, but away from now: CI runs at any hour.
        "quiet_hours_start": config.quiet_hours_start,
        "quiet_hours_end": config.quiet_hours_end,
    }
    path = tmp_path / "agent.toml"
    path.write_text(agent_toml(values))
    log = tmp_path / "agent.log"

    def online_count() -> int:
        return sum(1 for s in controller.states() if s.status is AgentStatus.ONLINE)

    first = await start_agent_process(path, log, "exit-before-confirm")
    try:
        await controller.wait_for(lambda: online_count() >= 1, timeout=30)
        play = make_play(audio, 1.5, duration_s=0.3)
        await controller.send_manifest(make_manifest(config.agent_id, 1, [play]))
        assert await asyncio.wait_for(first.wait(), 30) == FAULT_EXIT_CODE, log.read_text()
    finally:
        if first.returncode is None:
            first.kill()
            await first.wait()
    assert "finished" not in controller.events(play.play_id)
    with AgentStore.in_dir(config.state_dir) as store:  # what the crash left behind
        assert store.play_status(play.play_id) is PlayStatus.FINISHED
        assert "finished" in [e.event for e in store.pending_confirmations()]

    second = await start_agent_process(path, log, None)
    try:
        await controller.wait_for_event(play.play_id, "finished", timeout=30)
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), WAIT) == 0, log.read_text()
    finally:
        if second.returncode is None:
            second.kill()
            await second.wait()
    # The clean stop's offline state comes after everything the agent sent on that connection.
    await controller.wait_for(lambda: controller.states()[-1].status is AgentStatus.OFFLINE)
    finished = [c for c in controller.confirmations(play.play_id) if c.event is PlayEvent.FINISHED]
    assert len(finished) == 1
    started = {c.msg_id for c in controller.confirmations(play.play_id) if c.event is PlayEvent.STARTED}
    assert len(started) == 1  # possibly delivered twice, but one confirmation: never played again
    assert finished[0].duration_played_s == pytest.approx(0.3)
    assert timedelta(0) <= finished[0].started_at - play.starts_at < timedelta(seconds=1)  # type: ignore[operator]
