"""Inbound messages: verify each one, then apply a manifest or carry out a command; report refusals.

Every message is verified (signature, address, validity, replay) before it is acted on.
Rejections are logged, reported as a rate-limited `SecurityEvent` and otherwise ignored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiomqtt

from common.clock import Clock
from edge_agent.config import AgentConfig
from edge_agent.playback import ItemKind, Playback, PlayItem
from edge_agent.ratelimit import TokenBucket
from edge_agent.scheduler import Scheduler
from edge_agent.state import AgentStore
from protocol import Topics, Verifier
from protocol.codec import encode
from protocol.errors import MessageRejected, RejectReason
from protocol.messages import (
    PlayNow,
    Reboot,
    ReloadConfig,
    ScheduleManifest,
    SecurityEvent,
    SetVolume,
    SignedMessage,
    Stop,
    TestTone,
)
from protocol.quiet import QUIET_HOURS, QuietHours

AgentLog = logging.Logger | logging.LoggerAdapter[logging.Logger]
Publish = Callable[[str, bytes], Awaitable[bool]]
"""Publish once at QoS 1; False when there is no session. Raises aiomqtt.MqttError."""


class SecurityEvents:
    """Reports refusals to the controller's security log, within a token bucket; the rest are counted."""

    def __init__(
        self,
        config: AgentConfig,
        topics: Topics,
        clock: Clock,
        *,
        publish: Publish,
        quiet: Callable[[], QuietHours],
        emit: Callable[[str], None],
        log: AgentLog,
    ) -> None:
        self.agent_id = config.agent_id
        self._quiet = quiet
        self._topic = topics.security(config.agent_id)
        self._commands_topic = topics.commands(config.agent_id)
        self._clock = clock
        self._publish = publish
        self._emit = emit
        self.log = log
        self._background: set[asyncio.Future[Any]] = set()
        self.reconfigure(config)

    def reconfigure(self, config: AgentConfig) -> None:
        """Apply a reloaded config: a new token bucket."""
        self._bucket = TokenBucket(config.security_events_burst, config.security_events_per_minute / 60.0, self._clock)

    async def report(self, reason: str, detail: str, topic: str, msg_id: str | None) -> None:
        if not self._bucket.take():
            self.log.info("security event %s held back by the rate limit", reason)
            self._emit("security-suppressed")
            return
        event = SecurityEvent(
            agent_id=self.agent_id,
            at=self._clock.now(),
            reason=reason[:40],
            detail=detail[:500],
            topic=topic[:300],
            rejected_msg_id=msg_id[:64] if msg_id else None,
            suppressed=self._bucket.take_suppressed(),
        )
        try:
            sent = await self._publish(self._topic, encode(event))
        except aiomqtt.MqttError as err:
            self.log.warning("could not report the rejection: %s", err)
            sent = False
        if sent:
            self._emit("security-event")
        else:
            self._bucket.suppressed += event.suppressed + 1  # not sent: count it for the next one

    def refused(self, item: PlayItem, reason: str) -> None:
        """A valid, signed item refused by local policy (quiet hours): tell the controller's security log."""
        play = item.play
        detail = (
            f"{item.describe()} at {play.starts_at.isoformat() if play else self._clock.now().isoformat()} "
            f"is inside quiet hours {self._quiet().describe()}"
        )
        self._emit("refused")
        task = asyncio.ensure_future(self.report(reason, detail, self._commands_topic, play.play_id if play else None))
        self._background.add(task)  # keep a reference until it ends
        task.add_done_callback(self._background.discard)


@dataclass(frozen=True)
class CommandTargets:
    """What the commands act on: the agent's parts and the few decisions only the agent makes."""

    store: AgentStore
    scheduler: Scheduler
    playback: Playback
    set_volume: Callable[[int], None]
    reload_config: Callable[[], Awaitable[bool]]
    request_reboot: Callable[[], None]
    quiet: Callable[[], QuietHours]


class CommandHandler:
    """Verifies inbound messages and acts on them. `handle` never raises: bad input is logged and dropped."""

    def __init__(
        self,
        config: AgentConfig,
        topics: Topics,
        clock: Clock,
        targets: CommandTargets,
        security: SecurityEvents,
        *,
        emit: Callable[[str], None],
        log: AgentLog,
    ) -> None:
        self.agent_id = config.agent_id
        self.topics = topics
        self._clock = clock
        self._verifier = Verifier(config.public_key, config.agent_id, admin_key=config.admin_key)
        self._targets = targets
        self._security = security
        self._emit = emit
        self.log = log

    async def handle(self, topic: str, payload: bytes) -> None:
        """Verify and act on one inbound message."""
        try:
            await self._dispatch(topic, payload)
        except MessageRejected as exc:
            self.log.warning("rejected a message on %s: %s (%s)", topic, exc.reason.value, exc.detail)
            self._emit("rejected")
            await self._security.report(exc.reason.value, exc.detail, topic, exc.msg_id)
        except Exception:
            self.log.exception("dropped a message on %s that could not be handled", topic)

    async def _dispatch(self, topic: str, payload: bytes) -> None:
        now = self._clock.now()
        message = self._verifier.verify(topic, payload, now)
        store = self._targets.store
        if topic == self.topics.manifest(self.agent_id):
            if not isinstance(message, ScheduleManifest):
                raise MessageRejected(
                    RejectReason.MALFORMED, f"a {_kind(message)} on the manifest topic", message.msg_id
                )
            held = store.manifest_revision()
            if held is not None and message.revision < held:
                raise MessageRejected(
                    RejectReason.REPLAYED,
                    f"manifest revision {message.revision} is older than the held revision {held}",
                    message.msg_id,
                )
            if held == message.revision:
                self.log.debug("manifest revision %d redelivered; already held", held)
                return
            store.save_manifest(message, payload, now)
            self.log.info("accepted manifest revision %d with %d plays", message.revision, len(message.plays))
            self._emit("manifest")
            self._targets.scheduler.apply_manifest(message)
        elif topic == self.topics.commands(self.agent_id):
            if isinstance(message, ScheduleManifest):
                raise MessageRejected(RejectReason.MALFORMED, "a manifest on the commands topic", message.msg_id)
            if not store.remember_message(message.msg_id, message.expires_at, now):
                raise MessageRejected(
                    RejectReason.REPLAYED, f"command {message.msg_id} was already received", message.msg_id
                )
            await self.execute(message)
        else:
            self.log.warning("ignored a message on %s, which this agent does not subscribe to", topic)

    async def execute(self, command: SignedMessage) -> None:
        """Carry out one verified command."""
        targets = self._targets
        if isinstance(command, PlayNow):
            targets.scheduler.play_now(command.play)
        elif isinstance(command, Stop):
            affected = await targets.scheduler.stop(command.play_id)
            self.log.info("stop command %s: %s", command.msg_id, ", ".join(affected) or "nothing to stop")
        elif isinstance(command, ReloadConfig):
            await targets.reload_config()
        elif isinstance(command, Reboot):
            self.log.warning("admin-signed reboot command %s: %s", command.msg_id, command.reason or "no reason given")
            self._emit("reboot")
            targets.request_reboot()
        elif isinstance(command, SetVolume):
            targets.set_volume(command.volume)
            self.log.info("volume set to %d", command.volume)
        elif isinstance(command, TestTone):
            quiet = targets.quiet()
            if quiet.contains(self._clock.now()):
                self.log.warning("test tone refused: inside quiet hours %s", quiet.describe())
                self._security.refused(PlayItem(ItemKind.TONE, tone=command), QUIET_HOURS)
                return
            await targets.playback.submit(PlayItem(ItemKind.TONE, tone=command))
        else:  # pragma: no cover - the verifier only lets the known kinds through
            self.log.warning("ignored a %s command", _kind(command))


def _kind(message: object) -> str:
    return str(getattr(message, "kind", type(message).__name__))
