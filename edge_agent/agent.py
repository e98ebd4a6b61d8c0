"""The edge agent: verifies what the controller sends, plays on time, and confirms durably.

One `Agent` per loudspeaker post. It is asyncio-native and holds no global state, so the
simulator runs thousands in one event loop, each with its own pin factory and state dir.
`Agent` composes narrow parts (session, confirmations, telemetry, local controls, commands);
see their modules.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, MutableMapping
from datetime import datetime
from pathlib import Path
from typing import Any

import aiomqtt

from common import __version__
from common.clock import Clock, SystemClock
from edge_agent import fetcher, health, systemd
from edge_agent.commands import CommandHandler, CommandTargets, SecurityEvents
from edge_agent.config import AgentConfig, load_config
from edge_agent.confirmations import ConfirmationFacts, Confirmations
from edge_agent.controls import LocalControls
from edge_agent.errors import AgentError, ConfigError
from edge_agent.hardware import Amplifier, StatusLed, StopButton
from edge_agent.media_client import MediaClient
from edge_agent.playback import INTERRUPTED, STOPPED_LOCALLY, Playback
from edge_agent.player import Player
from edge_agent.scheduler import Scheduler
from edge_agent.session import MqttSession
from edge_agent.state import AgentStore, PlayStatus
from edge_agent.telemetry import NowPlaying, TelemetryReporter
from protocol import Topics
from protocol.messages import AgentState, AgentStatus, Telemetry

logger = logging.getLogger(__name__)

Listener = Callable[[str, str], None]
"""Called as `listener(agent_id, event)` on milestones: connected, manifest, rejected, downloaded,
started, finished, failed, skipped, confirmed, stop-button, reloaded, reload-failed, reboot."""

RESTART_KEYS = frozenset(
    {
        "agent_id",
        "broker_url",
        "username",
        "password",
        "password_file",
        "ca_file",
        "controller_public_key",
        "admin_public_key",
        "topic_root",
        "state_dir",
        "amplifier_pin",
        "amplifier_active_high",
        "status_led_pin",
        "status_led_active_high",
        "stop_button_pin",
        "stop_button_pull_up",
        "player",
        "alsa_device",
        "player_command",
        "keepalive_s",
    }
)
"""Config keys a reload cannot apply in place: changing one makes the agent restart (systemd brings it back)."""
EXIT_RESTART = 75
"""`loa agent` exits with this (EX_TEMPFAIL) when a reloaded config needs a restart."""


class _AgentLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """Prefixes every record with the agent id: one process may hold thousands of agents."""

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        return f"[{self.extra['agent_id'] if self.extra else '?'}] {msg}", kwargs


class Agent:
    """Runs one loudspeaker post until `stop()`.

    `run()` keeps an MQTT 3.1.1 session (fixed client id, clean_session=False, Last Will),
    reconnecting with jittered backoff. Every inbound message is verified (signature, address,
    validity, replay) before it is acted on; rejections are logged, reported as a
    `SecurityEvent` and otherwise ignored. Confirmations go through the durable outbox in
    `AgentStore` and are deleted only after the broker's PUBACK, so they survive outages and
    crashes; a redelivery keeps its `msg_id`.

    Confirmations (details in `edge_agent.playback` and `edge_agent.scheduler`):
    `downloaded` once the audio is verified; `started` then `finished` for a play that ran to
    the end; otherwise exactly one of `skipped` (`late`, `stopped`, `preempted by ...`) or
    `failed` (`interrupted`, a checksum/size mismatch, a download or player error).

    Commands: `PlayNow` plays at once and preempts lower priorities (the preempted play is
    `skipped`, or played again afterwards under the `resume` policy); `Stop` without a play id
    is the kill switch: the amplifier goes off at once, what plays ends, plays already due and
    PlayNow items still downloading are dropped; `Stop` with an id stops or cancels that play;
    both are confirmed `skipped`/`stopped`. The local stop button does what `Stop` without an id
    does. `SetVolume` is kept across restarts; `TestTone` plays through the amplifier without
    confirmations; `ReloadConfig` re-reads `config_path`; `Reboot`, valid only under the admin
    key, shuts down cleanly and then calls `on_reboot` (never anything else).

    Quiet hours are the agent's own: a normal or priority play or tone inside them is refused
    (`skipped`/`quiet-hours`) and reported as a security event, on arrival and again at its start.
    Security events are rate-limited by a token bucket; the number held back rides on the next.

    After a crash or a stop in mid-play the play is confirmed `failed`/`interrupted` and never
    replayed: a bulletin restarted or resumed mid-way would misstate what listeners heard.

    The work is done by collaborators with one job each, which `Agent` starts in order and stops
    in reverse: `Confirmations` (the outbox), `LocalControls` (LED, stop button), the playback line
    and `Scheduler`, `CommandHandler` and `SecurityEvents` (inbound messages), `TelemetryReporter`,
    and `MqttSession`.

    `pin_factory` is the agent's own gpiozero factory (`MockFactory()` off the Pi; None only
    for a lone agent using gpiozero's default). `clock` defaults to `SystemClock`. Give many
    agents one shared `http` client, which caps their concurrent downloads. `listener(agent_id,
    event)` sees the milestones named in `Listener`.
    """

    download_retry_s = 2.0
    """First pause before fetching audio again after a transient failure; it doubles up to 5 minutes."""

    def __init__(
        self,
        config: AgentConfig,
        *,
        player: Player,
        pin_factory: Any,
        clock: Clock | None = None,
        http: MediaClient | None = None,
        listener: Listener | None = None,
        config_path: Path | None = None,
        on_reboot: Callable[[], None] | None = None,
        health_sources: health.HealthSources | None = None,
        notify_env: dict[str, str] | None = None,
    ) -> None:
        self.config = config
        self.config_path = config_path
        self.agent_id = config.agent_id
        self.topics = Topics(config.topic_root)
        self.clock: Clock = clock or SystemClock()
        self.player = player
        # The relay is claimed and released at once, so the amplifier is off from the start.
        self.amplifier = Amplifier(
            config.amplifier_pin, pin_factory=pin_factory, active_high=config.amplifier_active_high
        )
        self.log = _AgentLog(logger, {"agent_id": config.agent_id})
        self.controls = LocalControls(config, pin_factory=pin_factory, clock=self.clock, on_stop=self._stop_pressed)
        self._on_reboot = on_reboot
        self._notify_env = notify_env
        self.reboot_requested = False
        self.restart_requested = False
        self._error: str | None = None
        self._quiet = config.quiet_hours
        self._http = http
        self._listener = listener
        self._volume = config.volume
        self._store: AgentStore | None = None
        self._playback: Playback | None = None
        self._scheduler: Scheduler | None = None
        self._commands: CommandHandler | None = None
        self._stopping = asyncio.Event()
        self._finished = asyncio.Event()
        self._running = False
        self._background: set[asyncio.Future[Any]] = set()
        self.confirmations = Confirmations(
            self.agent_id, self.topics, self.clock, lambda: self.store, on_recorded=self._recorded, emit=self._emit
        )
        self.session = MqttSession(config, self.topics, self.clock, self, stopping=self._stopping, log=self.log)
        self.security = SecurityEvents(
            config,
            self.topics,
            self.clock,
            publish=self.session.publish,
            quiet=lambda: self._quiet,
            emit=self._emit,
            log=self.log,
        )
        self.telemetry_reporter = TelemetryReporter(
            self.agent_id,
            self.topics,
            self.clock,
            config=lambda: self.config,
            store=lambda: self.store,
            volume=lambda: self._volume,
            now_playing=self._now_playing,
            sources=health_sources or health.HealthSources(),
        )

    # -- public state ----------------------------------------------------------------------------

    @property
    def store(self) -> AgentStore:
        if self._store is None:
            raise AgentError("the agent's store is open only while run() runs")
        return self._store

    @property
    def volume(self) -> int:
        return self._volume

    @property
    def connected(self) -> bool:
        return self.session.connected

    @property
    def led(self) -> StatusLed | None:
        return self.controls.led

    @property
    def button(self) -> StopButton | None:
        return self.controls.button

    @property
    def current_play_id(self) -> str | None:
        current = self._playback.current if self._playback else None
        return current.play_id if current else None

    @property
    def error(self) -> str | None:
        """The last hardware or playback failure, shown on the LED until a play finishes."""
        return self._error

    async def telemetry(self) -> Telemetry:
        """The health figures as of now; each is None where this machine does not expose it."""
        return await self.telemetry_reporter.report()

    # -- lifecycle -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Run until `stop()` (or cancellation). An Agent runs once."""
        if self._running or self._finished.is_set():
            raise AgentError("an Agent runs only once")
        self._running = True
        watchdog: asyncio.Task[None] | None = None
        try:
            self._open()
            self._notify("READY=1\nSTATUS=started; connecting to the broker")
            interval = systemd.watchdog_interval_s(self._notify_env)
            if interval is not None:
                watchdog = asyncio.create_task(self._watchdog(interval), name=f"{self.agent_id}-watchdog")
            await self.session.run()
        finally:
            self._notify("STOPPING=1")
            if watchdog is not None:
                watchdog.cancel()
                await asyncio.gather(watchdog, return_exceptions=True)
            await self._close()
            self._finished.set()
        if self.reboot_requested:
            if self._on_reboot is None:
                self.log.error("an admin-signed reboot was requested, but this agent has no reboot hook")
            else:
                self.log.warning("rebooting, as the admin-signed command asked")
                self._on_reboot()

    def _notify(self, state: str) -> None:
        systemd.notify(state, env=self._notify_env)

    async def _watchdog(self, interval: float) -> None:
        """Ping systemd's watchdog while the event loop and the playback line are alive."""
        while True:
            playback = self._playback
            if playback is None or playback.alive:
                self._notify("WATCHDOG=1")
            else:
                self.log.critical("the playback line died; letting the watchdog restart the agent")
            await asyncio.sleep(interval)

    async def stop(self) -> None:
        """Clean shutdown: end any play (confirmed `failed`/`interrupted`), send what the outbox holds
        if connected, publish the offline state, disconnect, switch the amplifier off."""
        self._stopping.set()
        if self._running and not self._finished.is_set():
            try:
                await asyncio.wait_for(self._finished.wait(), timeout=30)
            except TimeoutError:
                self.log.error("the agent did not stop within 30 s")
        self.amplifier.close()

    def _open(self) -> None:
        """Start the parts in order: store, playback line, local controls, scheduler, commands; then recover."""
        store = self._store = AgentStore.in_dir(self.config.state_dir)
        fetcher.remove_stale_parts(self.config.media_dir)
        saved = store.get_setting("volume")
        self._volume = int(saved) if saved is not None else self.config.volume
        if self._http is None:
            self._http = MediaClient(ca_file=self.config.ca_file, user_agent=f"loa-agent/{__version__}")
        playback = self._playback = Playback(
            player=self.player,
            amplifier=self.amplifier,
            clock=self.clock,
            report=self.confirmations.report,
            volume=lambda: self._volume,
            warmup_s=self.config.amplifier_warmup_s,
            cooldown_s=self.config.amplifier_cooldown_s,
            late_grace_s=self.config.late_grace_s,
            quiet_hours=lambda: self._quiet,
            on_refused=self.security.refused,
            on_change=self._update_led,
            logger=self.log,
        )
        playback.start()
        self.controls.start()
        self._update_led()
        scheduler = self._scheduler = Scheduler(
            config=self.config,
            store=store,
            playback=playback,
            clock=self.clock,
            http=self._http,
            report=self.confirmations.report,
            retry_s=self.download_retry_s,
            on_refused=self.security.refused,
            logger=self.log,
        )
        targets = CommandTargets(
            store=store,
            scheduler=scheduler,
            playback=playback,
            set_volume=self._set_volume,
            reload_config=self.reload_config,
            request_reboot=self._request_reboot,
            quiet=lambda: self._quiet,
        )
        self._commands = CommandHandler(
            self.config, self.topics, self.clock, targets, self.security, emit=self._emit, log=self.log
        )
        self._recover(store, scheduler)

    def _recover(self, store: AgentStore, scheduler: Scheduler) -> None:
        """Settle what a crash or stop left half done, then resume the held manifest."""
        now = self.clock.now()
        interrupted = ConfirmationFacts(reason=INTERRUPTED)
        for play_id, starts_at in store.armed_plays():
            if starts_at > now:  # it was warming up; its instant is still ahead, so it plays as booked
                store.disarm(play_id, now)
            else:
                self.log.warning("play %s was about to start when the agent stopped", play_id)
                self.confirmations.confirm(play_id, PlayStatus.FAILED, interrupted)
        for play_id, source, status in store.unfinished_plays():
            # Never replay: a bulletin resumed or restarted mid-way would misstate what was heard.
            self.log.warning("play %s (%s, %s) was interrupted by a restart", play_id, source.value, status.value)
            self.confirmations.confirm(play_id, PlayStatus.FAILED, interrupted)
        held = store.load_manifest()
        if held is not None:
            self.log.info("resuming with manifest revision %d", held.revision)
            scheduler.apply_manifest(held.manifest)

    async def _close(self) -> None:
        """Stop the parts in reverse: button, scheduler, playback, amplifier, LED, store."""
        self.controls.close_button()
        if self._scheduler is not None:
            await self._scheduler.close()
        if self._playback is not None:
            await self._playback.close()
        self.amplifier.close()
        await self.controls.close()
        if self._store is not None:
            self._store.close()
            self._store = None

    # -- what the MQTT session asks of the agent (`edge_agent.session.SessionHooks`) -------------

    def state(self, status: AgentStatus, at: datetime | None = None) -> AgentState:
        revision = self._store.manifest_revision() if self._store else None
        return AgentState(
            agent_id=self.agent_id,
            at=at or self.clock.now(),
            status=status,
            version=__version__,
            manifest_revision=revision,
        )

    async def handle(self, topic: str, payload: bytes) -> None:
        """Verify and act on one inbound message. Never raises: bad input is logged and dropped."""
        if self._commands is None:
            self.log.warning("dropped a message on %s: the agent is not running", topic)
            return
        await self._commands.handle(topic, payload)

    def session_tasks(self, client: aiomqtt.Client) -> dict[str, Coroutine[Any, Any, None]]:
        self.confirmations.wake()
        return {"outbox": self.confirmations.flush_loop(client), "telemetry": self.telemetry_reporter.loop(client)}

    def connection_changed(self, connected: bool) -> None:
        self._update_led()
        if connected:
            self._notify(f"STATUS=online at {self.config.broker.url}")
            self._emit("connected")
        else:
            self._notify("STATUS=offline; playing from the cache, reconnecting")

    async def goodbye(self, client: aiomqtt.Client) -> None:
        """On stop: end playback, then send what is pending (at most 5 s)."""
        if self._scheduler is not None:
            await self._scheduler.close()
        if self._playback is not None:
            await self._playback.close()
        await asyncio.wait_for(self.confirmations.flush(client), timeout=5)

    # -- local controls and config ---------------------------------------------------------------

    def _stop_pressed(self) -> None:
        """The physical kill switch: the same as a Stop command without a play id."""
        self.log.warning("local stop button pressed: silencing the amplifier")
        self._emit("stop-button")
        if self._scheduler is None:
            self.amplifier.power_off()
            return
        task = asyncio.ensure_future(self._scheduler.stop(None, reason=STOPPED_LOCALLY))
        self._background.add(task)  # keep a reference until it ends
        task.add_done_callback(self._background.discard)

    def _set_volume(self, volume: int) -> None:
        self._volume = volume
        self.store.set_setting("volume", str(volume))

    def _request_reboot(self) -> None:
        self.reboot_requested = True
        self._stopping.set()

    async def reload_config(self) -> bool:
        """Re-read `config_path`. Applies what can change in place; a key in `RESTART_KEYS` makes the
        agent stop (exit code 75), for systemd to start it again. An invalid file changes nothing."""
        if self.config_path is None:
            self.log.warning("reload-config: this agent was not started from a config file")
            self._emit("reload-failed")
            return False
        try:
            new = await asyncio.to_thread(load_config, self.config_path)
        except ConfigError as exc:
            self.log.error("reload-config: kept the running config: %s", exc)
            self._emit("reload-failed")
            return False
        old = self.config
        changed = {k for k in old.__struct_fields__ if getattr(old, k) != getattr(new, k)}
        if changed & RESTART_KEYS:
            self.log.warning("reload-config: %s need a restart; restarting", ", ".join(sorted(changed & RESTART_KEYS)))
            self.restart_requested = True
            self._stopping.set()
            self._emit("reloaded")
            return True
        self.config = new
        self._quiet = new.quiet_hours
        if "volume" in changed:
            self._set_volume(new.volume)
        if self._playback is not None:
            self._playback.warmup_s = new.amplifier_warmup_s
            self._playback.cooldown_s = new.amplifier_cooldown_s
            self._playback.set_late_grace(new.late_grace_s)
        if self._scheduler is not None:
            self._scheduler.reconfigure(new)
        self.session.config = new
        self.security.reconfigure(new)
        self.log.info("reload-config: applied %s", ", ".join(sorted(changed)) or "no changes")
        self._emit("reloaded")
        return True

    def _update_led(self) -> None:
        playing = self._playback is not None and self._playback.is_playing
        self.controls.show(error=self._error is not None, playing=playing, connected=self.connected)

    def _now_playing(self) -> NowPlaying:
        current = self._playback.current if self._playback else None
        if current is None:
            return NowPlaying()
        title = (current.play.title[:300] or None) if current.play else None
        return NowPlaying(current.play_id, title)

    # -- confirmations ---------------------------------------------------------------------------

    def _recorded(self, status: PlayStatus, reason: str | None) -> None:
        """After each confirmation: a finish clears the LED's error; a hardware failure sets it."""
        if status is PlayStatus.FINISHED:
            self._error = None
        elif status is PlayStatus.FAILED and reason and reason != INTERRUPTED and _is_hardware(reason):
            self._error = reason
        self._update_led()

    def _emit(self, event: str) -> None:
        if self._listener is not None:
            try:
                self._listener(self.agent_id, event)
            except Exception:
                self.log.exception("the listener failed on %s", event)


def _is_hardware(reason: str) -> bool:
    """Failures a technician must look at (the LED shows them), unlike a download that will retry."""
    return reason.split(":", 1)[0] in {
        "amplifier-error",
        "device-busy",
        "device-unavailable",
        "player-not-found",
        "player-error",
        "decode-error",
        "missing-file",
    }
