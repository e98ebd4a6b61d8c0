"""The agent's own policies on a real broker: quiet hours, admin-only reboot, reload, rate-limited
security events, the kill switch and the stop button, offline play, the LED, sd_notify."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import pytest

from common.clock import ManualClock, utcnow
from edge_agent.config import load_config
from edge_agent.hardware import LedPattern
from protocol import (
    InterruptPolicy,
    ManifestPlay,
    PlayNow,
    Priority,
    Reboot,
    ReloadConfig,
    Signer,
    Stop,
    TestTone,
)
from protocol.messages import replace
from protocol.signing import encode_public_key, generate_private_key
from tests.edge_agent.conftest import (
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
    wait_until,
)

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def next_local(hour: int, minute: int) -> datetime:
    """The next instant at hour:minute in Asia/Ho_Chi_Minh, as UTC."""
    now = utcnow().astimezone(HCM)
    at = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if at <= now:
        at += timedelta(days=1)
    return at.astimezone(UTC)


def quiet_around_now() -> dict[str, str]:
    """Quiet hours that cover the present moment, whatever time the test runs."""
    now = utcnow().astimezone(HCM)
    start, end = now - timedelta(hours=1), now + timedelta(hours=1)
    return {"quiet_hours_start": f"{start:%H:%M}", "quiet_hours_end": f"{end:%H:%M}"}


def at_0315(play: ManifestPlay) -> ManifestPlay:
    moved: ManifestPlay = replace(play, starts_at=next_local(3, 15))
    return moved


# -- quiet hours (issue 4: the Trung Lộc incident) ----------------------------------------------------


@pytest.mark.asyncio
async def test_a_forged_0315_manifest_is_refused_and_so_is_a_genuinely_signed_one(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide, audio: Audio
) -> None:
    rig = make_rig(make_config(quiet_hours_start="21:00", quiet_hours_end="05:00"))  # the default, explicitly
    agent_id = rig.agent.agent_id
    night = at_0315(make_play(audio, 0))
    async with running(rig):
        forger = Signer(generate_private_key())
        topic = controller.topics.manifest(agent_id)
        await controller.publish_raw(topic, forger.sign(topic, make_manifest(agent_id, 1, [night])), retain=True)
        await controller.wait_for(lambda: len(controller.security_events()) == 1)
        assert controller.security_events()[0].reason == "unknown-key"
        assert rig.agent.store.manifest_revision() is None  # never held, never scheduled

        await controller.send_manifest(make_manifest(agent_id, 2, [night]))  # the real key: a controller bug
        skipped = await controller.wait_for_event(night.play_id, "skipped")
        assert skipped.reason == "quiet-hours"
        await controller.wait_for(lambda: len(controller.security_events()) == 2)
        event = controller.security_events()[1]
        assert event.reason == "quiet-hours" and event.rejected_msg_id == night.play_id
        assert "inside quiet hours 21:00-05:00 Asia/Ho_Chi_Minh" in event.detail
    assert controller.events(night.play_id) == ["skipped"]  # never downloaded, never started
    assert rig.player.history == [] and rig.agent.amplifier.switched_on == 0  # the relay never clicked


@pytest.mark.asyncio
async def test_inside_quiet_hours_only_a_signed_emergency_plays(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide, audio: Audio
) -> None:
    rig = make_rig(make_config(**quiet_around_now()))
    agent_id = rig.agent.agent_id
    normal = make_play(audio, 0, priority=Priority.NORMAL)
    priority = make_play(audio, 0, priority=Priority.PRIORITY)
    emergency = make_play(audio, 0, duration_s=0.2, priority=Priority.EMERGENCY)
    async with running(rig):
        for play in (normal, priority, emergency):
            await controller.send_command(PlayNow(play=play, **command_fields(agent_id)))
        await controller.send_command(TestTone(seconds=1, **command_fields(agent_id)))
        await controller.wait_for_event(emergency.play_id, "finished")
        await controller.wait_for(lambda: len(controller.security_events()) == 3)
    assert [(c.event.value, c.reason) for c in controller.confirmations(normal.play_id)] == [("skipped", "quiet-hours")]
    assert [(c.event.value, c.reason) for c in controller.confirmations(priority.play_id)] == [
        ("skipped", "quiet-hours")
    ]
    assert {e.reason for e in controller.security_events()} == {"quiet-hours"}
    assert [r.kind for r in rig.player.history] == ["audio"]  # the emergency only; no tone either


# -- admin-only reboot, reload ---------------------------------------------------------------------


@pytest.mark.asyncio
async def test_reboot_needs_the_admin_key_and_goes_through_the_hook_after_a_clean_stop(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide
) -> None:
    admin = Signer(generate_private_key())
    reboots: list[bool] = []
    rig = make_rig(
        make_config(admin_public_key=encode_public_key(admin.public_key)), on_reboot=lambda: reboots.append(True)
    )
    agent_id = rig.agent.agent_id
    task = asyncio.create_task(rig.agent.run())
    try:
        await rig.milestones.wait("connected")
        await controller.send_command(Reboot(reason="by the controller key", **command_fields(agent_id)))
        await controller.wait_for(lambda: len(controller.security_events()) == 1)
        assert controller.security_events()[0].reason == "not-admin"
        assert not task.done() and reboots == []

        topic = controller.topics.commands(agent_id)
        signed = admin.sign(topic, Reboot(reason="kernel update", **command_fields(agent_id)))
        await controller.publish_raw(topic, signed)
        await asyncio.wait_for(task, 20)  # the agent shuts itself down...
    finally:
        await rig.agent.stop()
    assert reboots == [True]  # ...then asks the hook to reboot, once
    assert rig.agent.reboot_requested
    await controller.wait_for(lambda: controller.states() and controller.states()[-1].status.value == "offline")
    assert rig.agent.amplifier.switched_on == 0


@pytest.mark.asyncio
async def test_reload_config_applies_quiet_hours_in_place_and_restarts_for_a_new_broker(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide, tmp_path: Path
) -> None:
    config = make_config()
    path = tmp_path / "agent.toml"

    def write(**changes: object) -> None:
        values = {**{k: v for k, v in msgspec.to_builtins(config, enc_hook=str).items() if v is not None}, **changes}
        lines = [f"{k} = {_toml(v)}" for k, v in values.items()]
        path.write_text("\n".join(lines) + "\n")
        path.chmod(0o600)

    write()
    rig = make_rig(load_config(path), config_path=path)
    agent_id = rig.agent.agent_id
    task = asyncio.create_task(rig.agent.run())
    try:
        await rig.milestones.wait("connected")
        write(quiet_hours_start="22:30", quiet_hours_end="04:30", volume=40)
        await controller.send_command(ReloadConfig(**command_fields(agent_id)))
        await rig.milestones.wait("reloaded")
        assert rig.agent.config.quiet_hours.describe() == "22:30-04:30 Asia/Ho_Chi_Minh"
        assert rig.agent.volume == 40 and not task.done()

        path.write_text("volume = 900\n")  # a broken file changes nothing
        await controller.send_command(ReloadConfig(**command_fields(agent_id)))
        await rig.milestones.wait("reload-failed")
        assert rig.agent.volume == 40 and not task.done()

        write(broker_url="mqtt://127.0.0.1:1")  # needs a restart: the agent stops for systemd to start it
        await controller.send_command(ReloadConfig(**command_fields(agent_id)))
        await asyncio.wait_for(task, 20)
        assert rig.agent.restart_requested
    finally:
        await rig.agent.stop()


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- security events are rate-limited --------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_flood_of_forgeries_is_reported_within_the_rate_limit_and_counted(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide
) -> None:
    clock = ManualClock(utcnow())
    rig = make_rig(make_config(security_events_burst=3, security_events_per_minute=6), clock=clock)
    agent_id = rig.agent.agent_id
    forger = Signer(generate_private_key())
    topic = controller.topics.commands(agent_id)
    async with running(rig):
        for _ in range(10):
            await controller.publish_raw(topic, forger.sign(topic, Stop(**command_fields(agent_id))))
        await rig.milestones.wait("rejected", 10)
        await controller.wait_for(lambda: len(controller.security_events()) == 3)
        assert rig.milestones.seen["security-suppressed"] == 7
        clock.advance(10.0)  # one token back (6 a minute)
        await controller.publish_raw(topic, forger.sign(topic, Stop(**command_fields(agent_id))))
        await controller.wait_for(lambda: len(controller.security_events()) == 4)
    assert [e.suppressed for e in controller.security_events()] == [0, 0, 0, 7]


# -- kill switch, stop button ------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_stop_all_drops_play_now_items_still_downloading_but_keeps_later_plays(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide, media: MediaServer
) -> None:
    slow = media.add(fake_mp3("slow"))
    media.fail(slow, 503, 503, 503, 503, 503, 503)  # keeps the PlayNow fetching (retrying) for a while
    later_audio = media.add(fake_mp3("later"))
    rig = make_rig(make_config())
    agent_id = rig.agent.agent_id
    rig.agent.download_retry_s = 0.2
    urgent = make_play(slow, 0, priority=Priority.PRIORITY)
    later = make_play(later_audio, 3.0, duration_s=0.2)
    async with running(rig):
        await controller.send_manifest(make_manifest(agent_id, 1, [later]))
        await controller.wait_for_event(later.play_id, "downloaded")
        await controller.send_command(PlayNow(play=urgent, **command_fields(agent_id)))
        await wait_until(lambda: media.requests[slow.path] >= 1)
        await controller.send_command(Stop(play_id=None, **command_fields(agent_id)))
        skipped = await controller.wait_for_event(urgent.play_id, "skipped")
        await controller.wait_for_event(later.play_id, "finished")  # the schedule is untouched
    assert skipped.reason == "stopped"
    assert controller.events(urgent.play_id) == ["skipped"]


@pytest.mark.asyncio
async def test_the_local_stop_button_silences_a_play(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide, audio: Audio
) -> None:
    rig = make_rig(make_config(stop_button_pin=22, status_led_pin=27))
    agent_id = rig.agent.agent_id
    play = make_play(audio, 0, duration_s=30)
    async with running(rig):
        assert rig.agent.led is not None
        await wait_until(lambda: rig.agent.led is not None and rig.agent.led.pattern is LedPattern.IDLE)
        await controller.send_command(PlayNow(play=play, **command_fields(agent_id)))
        await controller.wait_for_event(play.play_id, "started")
        await wait_until(lambda: rig.agent.led is not None and rig.agent.led.pattern is LedPattern.PLAYING)
        rig.pins.pin(22).drive_low()
        skipped = await controller.wait_for_event(play.play_id, "skipped")
        assert not rig.agent.amplifier.is_on
        rig.pins.pin(22).drive_high()
        await wait_until(lambda: rig.agent.led is not None and rig.agent.led.pattern is LedPattern.IDLE)
    assert skipped.reason == "stopped: local stop button"
    assert skipped.duration_played_s is not None and skipped.duration_played_s < 30
    assert rig.milestones.seen["stop-button"] == 1


@pytest.mark.asyncio
async def test_emergency_play_now_with_resume_replays_the_interrupted_bulletin(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide, audio: Audio
) -> None:
    rig = make_rig(make_config())
    agent_id = rig.agent.agent_id
    normal = make_play(audio, 0.3, duration_s=1.0)
    emergency = replace(
        make_play(audio, 0, duration_s=0.3, priority=Priority.EMERGENCY), interrupted=InterruptPolicy.RESUME
    )
    async with running(rig):
        await controller.send_manifest(make_manifest(agent_id, 1, [normal]))
        await controller.wait_for_event(normal.play_id, "started")
        await controller.send_command(PlayNow(play=emergency, **command_fields(agent_id)))
        finished = await controller.wait_for_event(normal.play_id, "finished")
    assert controller.events(normal.play_id) == ["downloaded", "started", "finished"]
    assert finished.resumed_after == emergency.play_id
    assert finished.preempted_played_s is not None and 0 < finished.preempted_played_s < 1.0
    assert finished.duration_played_s == 1.0
    assert controller.events(emergency.play_id)[-1] == "finished"
    assert rig.agent.amplifier.switched_on == 1  # one amplifier session for all three


# -- offline: broker and controller unreachable through the slot ---------------------------------------


@pytest.mark.asyncio
async def test_plays_from_cache_with_broker_and_controller_gone_and_confirms_once_later(
    make_config: ConfigFactory,
    make_rig: RigFactory,
    controller: ControllerSide,
    audio: Audio,
    media: MediaServer,
    proxy: TcpProxy,
) -> None:
    rig = make_rig(make_config(broker_url=proxy.url, status_led_pin=27))
    agent_id = rig.agent.agent_id
    play = make_play(audio, 2.0, duration_s=0.3)
    async with running(rig):
        await controller.send_manifest(make_manifest(agent_id, 1, [play]))
        await controller.wait_for_event(play.play_id, "downloaded")
        await rig.milestones.wait("confirmed")
        media.close()  # the controller's HTTP side is gone too
        await proxy.cut()  # and the broker is unreachable through the slot
        await wait_until(lambda: rig.agent.led is not None and rig.agent.led.pattern is LedPattern.OFFLINE)
        await rig.milestones.wait("finished")
        assert controller.events(play.play_id) == ["downloaded"]
        assert rig.player.last is not None and rig.player.last.outcome.completed
        await proxy.start()
        await controller.wait_for_event(play.play_id, "finished")
        await rig.milestones.wait("confirmed", 3)
    events = controller.confirmations(play.play_id)
    assert [c.event.value for c in events] == ["downloaded", "started", "finished"]  # each once
    assert len({c.msg_id for c in events}) == 3
    assert events[-1].started_at is not None and abs((events[-1].started_at - play.starts_at).total_seconds()) < 0.5


# -- systemd notify --------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_agent_tells_systemd_ready_and_pings_the_watchdog(
    make_config: ConfigFactory, make_rig: RigFactory, tmp_path: Path
) -> None:
    address = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.setblocking(False)
    env = {"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "1000000"}  # pings every 0.5 s
    rig = make_rig(make_config(), notify_env=env)
    received: list[str] = []

    async def collect() -> None:
        loop = asyncio.get_running_loop()
        while True:
            received.append((await loop.sock_recv(sock, 4096)).decode())

    collector = asyncio.create_task(collect())
    try:
        async with running(rig):
            await wait_until(lambda: sum("WATCHDOG=1" in m for m in received) >= 2)
    finally:
        await asyncio.sleep(0.05)
        collector.cancel()
        await asyncio.gather(collector, return_exceptions=True)
        sock.close()
    assert received[0].startswith("READY=1")
    assert any(m.startswith("STATUS=online") for m in received)
    assert received[-1] == "STOPPING=1"


@pytest.mark.asyncio
async def test_audio_is_fetched_when_its_play_enters_the_prefetch_window(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide, audio: Audio, media: MediaServer
) -> None:
    clock = ManualClock(utcnow())
    rig = make_rig(make_config(prefetch_window_s=3600), clock=clock)
    play = make_play(audio, 2 * 3600)
    async with running(rig):
        await controller.send_manifest(make_manifest(rig.agent.agent_id, 1, [play]))
        await rig.milestones.wait("manifest")
        clock.advance(3600 - 60)
        await asyncio.sleep(0.2)
        assert media.requests[audio.path] == 0  # still outside the window
        clock.advance(61)
        await controller.wait_for_event(play.play_id, "downloaded")
    assert media.requests[audio.path] == 1
