"""Telemetry: the post's health figures, sent every `telemetry_interval_s` while connected."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import aiomqtt

from common import __version__
from common.clock import Clock
from edge_agent import fetcher, health
from edge_agent.config import AgentConfig
from edge_agent.state import AgentStore
from protocol import MQTT_QOS, Topics
from protocol.codec import encode
from protocol.messages import Telemetry

IDLE_CHECK_S = 60.0
"""With telemetry off, how often the interval is read again (a reload may turn it on)."""


@dataclass(frozen=True, slots=True)
class NowPlaying:
    """What the agent is playing, as telemetry reports it."""

    play_id: str | None = None
    title: str | None = None


class TelemetryReporter:
    """Builds `Telemetry` and publishes it on the agent's injected clock, so tests move time instead of sleeping.

    `config()` is read at every tick, so a reloaded interval applies at once; `volume()`,
    `now_playing()` and `store()` are read as each report is built.
    """

    def __init__(
        self,
        agent_id: str,
        topics: Topics,
        clock: Clock,
        *,
        config: Callable[[], AgentConfig],
        store: Callable[[], AgentStore],
        volume: Callable[[], int],
        now_playing: Callable[[], NowPlaying],
        sources: health.HealthSources,
    ) -> None:
        self.agent_id = agent_id
        self._topic = topics.telemetry(agent_id)
        self._clock = clock
        self._config = config
        self._store = store
        self._volume = volume
        self._now_playing = now_playing
        self._sources = sources
        self._started = clock.now()

    async def loop(self, client: aiomqtt.Client) -> None:
        """Publish a report every interval for as long as the session lasts."""
        while True:
            interval = self._config().telemetry_interval_s
            await self._clock.sleep_until(
                self._clock.now() + timedelta(seconds=interval if interval > 0 else IDLE_CHECK_S)
            )
            if interval > 0:
                await client.publish(self._topic, encode(await self.report()), qos=MQTT_QOS)

    async def report(self) -> Telemetry:
        """The health figures as of now; each is None where this machine does not expose it."""
        config, store, playing = self._config(), self._store(), self._now_playing()
        now = self._clock.now()
        return Telemetry(
            agent_id=self.agent_id,
            at=now,
            uptime_s=max(0.0, (now - self._started).total_seconds()),
            volume=self._volume(),
            manifest_revision=store.manifest_revision(),
            current_play_id=playing.play_id,
            current_title=playing.title,
            cache_bytes=fetcher.cache_bytes(config.media_dir),
            outbox_pending=store.outbox_size(),
            version=__version__,
            cpu_temp_c=health.cpu_temp_c(self._sources.thermal),
            disk_free_bytes=health.disk_free_bytes(config.state_dir),
            load_1m=health.load_1m(),
            clock_offset_s=await health.clock_offset_s(self._sources.chronyc),
            link_quality=health.link_quality(self._sources.wireless),
        )
