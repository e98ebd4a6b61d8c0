"""Audio fetching inside the agent: retries until the play's deadline, and specific failure reasons."""

from __future__ import annotations

import pytest

from common.clock import ManualClock, utcnow
from protocol import Telemetry
from protocol.messages import replace
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
async def test_a_transient_download_failure_is_retried_and_the_play_happens(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide, audio: Audio, media: MediaServer
) -> None:
    clock = ManualClock(utcnow())  # the pause between attempts runs on the agent's clock: the test moves it
    rig = make_rig(make_config(download_attempts=1), clock=clock)
    media.fail(audio, 503, 502)
    async with running(rig):
        play = make_play(audio, 7200)
        await controller.send_manifest(make_manifest(rig.agent.agent_id, 1, [play]))
        for attempt in (1, 2):
            await wait_until(lambda n=attempt: media.requests[audio.path] == n)  # type: ignore[misc]
            assert controller.events(play.play_id) == []  # a transient failure is not reported

            def retried(n: int = attempt) -> bool:
                clock.advance(rig.agent.download_retry_s * 2**n)  # past the jittered, doubling pause
                return media.requests[audio.path] > n

            await wait_until(retried)
        await controller.wait_for_event(play.play_id, "downloaded")
    assert controller.events(play.play_id) == ["downloaded"]
    assert media.requests[audio.path] == 3


@pytest.mark.asyncio
async def test_permanent_download_problems_fail_the_play_with_the_cause(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide, audio: Audio, media: MediaServer
) -> None:
    rig = make_rig(make_config(media_base_url=None))
    missing = replace(make_play(audio, 30), audio_url=media.base_url + "/media/gone.mp3")
    local = replace(make_play(audio, 30), audio_url="file:///etc/shadow")
    relative = make_play(audio, 30, relative_url=True)  # and no media_base_url configured
    async with running(rig):
        await controller.send_manifest(make_manifest(rig.agent.agent_id, 1, [missing, local, relative]))
        await controller.wait_for(lambda: all(controller.events(p.play_id) for p in (missing, local, relative)))
    reasons = {p.play_id: controller.confirmations(p.play_id)[0].reason for p in (missing, local, relative)}
    assert reasons[missing.play_id] == f"download-failed: HTTP 404 for {media.base_url}/media/gone.mp3"
    assert (
        reasons[local.play_id]
        == "download-failed: unsupported audio URL 'file:///etc/shadow': only http and https are fetched"
    )
    assert (
        reasons[relative.play_id]
        == f"download-failed: relative audio URL '{audio.path}' and no media_base_url configured"
    )
    assert all(controller.events(p.play_id) == ["failed"] for p in (missing, local, relative))


@pytest.mark.asyncio
async def test_telemetry_reports_the_agents_figures(
    make_config: ConfigFactory, make_rig: RigFactory, controller: ControllerSide, audio: Audio
) -> None:
    clock = ManualClock(utcnow())  # telemetry waits on the agent's clock: the test moves it instead of sleeping
    rig = make_rig(make_config(telemetry_interval_s=600, volume=60), clock=clock)
    async with running(rig):
        play = make_play(audio, 7200)
        await controller.send_manifest(make_manifest(rig.agent.agent_id, 3, [play]))
        await controller.wait_for_event(play.play_id, "downloaded")
        since = len(controller.received)
        assert not any(isinstance(m, Telemetry) for _, m in controller.received)  # the first interval has not passed
        clock.advance(601)

        def latest() -> Telemetry | None:
            later = controller.received[since:]
            found = [m for _, m in later if isinstance(m, Telemetry) and m.manifest_revision == 3]
            return found[-1] if found else None

        telemetry = await controller.wait_for(latest)
    assert (telemetry.volume, telemetry.cache_bytes, telemetry.current_play_id) == (60, audio.size_bytes, None)
    assert telemetry.uptime_s == pytest.approx(601)
    assert telemetry.at == clock.now()
    assert telemetry.version and telemetry.disk_free_bytes is not None and telemetry.disk_free_bytes > 0
    assert telemetry.load_1m is not None
