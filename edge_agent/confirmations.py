"""Confirmations and the durable outbox: what happened to each play, sent to the controller at least once.

A confirmation is recorded with the play's new status in one SQLite transaction, then published at
QoS 1 and deleted only after the broker's PUBACK, so it survives outages and crashes; a redelivery
keeps its `msg_id`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import aiomqtt

from common.clock import Clock
from edge_agent.faults import EXIT_BEFORE_CONFIRM, fault_point
from edge_agent.state import AgentStore, PlayStatus
from protocol import MQTT_QOS, Topics
from protocol.messages import Confirmation, ManifestPlay, PlayEvent


@dataclass(frozen=True, slots=True)
class ConfirmationFacts:
    """What is known about a play when its status changes; each is None where it does not apply."""

    reason: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_played_s: float | None = None
    resumed_after: str | None = None
    """The emergency play this one was preempted by and resumed after."""
    preempted_played_s: float | None = None
    """Seconds of this play heard before the preemption."""


NO_FACTS = ConfirmationFacts()


class Confirmations:
    """Records confirmations in the agent's store and flushes them to the broker in order.

    `on_recorded(status, reason)` runs after each recorded confirmation (the agent shows errors
    on the LED); `emit(event)` tells the agent's listener.
    """

    def __init__(
        self,
        agent_id: str,
        topics: Topics,
        clock: Clock,
        store: Callable[[], AgentStore],
        *,
        on_recorded: Callable[[PlayStatus, str | None], None],
        emit: Callable[[str], None],
    ) -> None:
        self.agent_id = agent_id
        self._topic = topics.confirmations(agent_id)
        self._clock = clock
        self._store = store
        self._on_recorded = on_recorded
        self._emit = emit
        self._ready = asyncio.Event()
        self._lock = asyncio.Lock()

    def report(self, play: ManifestPlay, status: PlayStatus, facts: ConfirmationFacts = NO_FACTS) -> bool:
        """The playback line's and the scheduler's `Report`: `armed` is kept locally, the rest confirmed."""
        if status is PlayStatus.ARMED:  # local only: no confirmation reports it
            return self._store().arm(play.play_id, self._clock.now())
        return self.confirm(play.play_id, status, facts)

    def confirm(self, play_id: str, status: PlayStatus, facts: ConfirmationFacts = NO_FACTS) -> bool:
        """Record a play's new status and its confirmation in one transaction, then wake the outbox.

        Returns False, recording nothing, if the play had already reached that status or a later one.
        """
        now = self._clock.now()
        reason = facts.reason[:500] if facts.reason else None
        confirmation = Confirmation(
            agent_id=self.agent_id,
            at=now,
            play_id=play_id,
            event=PlayEvent(status.value),
            started_at=facts.started_at,
            ended_at=facts.ended_at,
            duration_played_s=facts.duration_played_s,
            reason=reason,
            resumed_after=facts.resumed_after,
            preempted_played_s=facts.preempted_played_s,
        )
        if not self._store().advance(play_id, status, confirmation, now, facts.reason):
            return False
        self._on_recorded(status, facts.reason)
        if status is PlayStatus.FINISHED:
            fault_point(EXIT_BEFORE_CONFIRM)
        self._ready.set()
        self._emit(status.value)
        return True

    def wake(self) -> None:
        """Flush at the next chance, e.g. when a session starts."""
        self._ready.set()

    async def flush_loop(self, client: aiomqtt.Client) -> None:
        """Flush whenever a confirmation is recorded, for as long as the session lasts."""
        while True:
            await self._ready.wait()
            self._ready.clear()
            await self.flush(client)

    async def flush(self, client: aiomqtt.Client) -> None:
        """Publish the outbox in order, at QoS 1; drop each entry only once the broker acknowledged it."""
        async with self._lock:  # one flusher at a time, or entries in flight would be sent twice
            store = self._store()
            while batch := store.pending_confirmations(limit=10):
                results = await asyncio.gather(
                    *(client.publish(self._topic, entry.payload, qos=MQTT_QOS) for entry in batch),
                    return_exceptions=True,
                )
                sent = [entry.msg_id for entry, result in zip(batch, results, strict=True) if result is None]
                store.mark_sent(sent)
                for _ in sent:
                    self._emit("confirmed")
                for result in results:
                    if isinstance(result, BaseException):
                        raise result
