"""Ingesting what agents send: play confirmations (idempotently), liveness and telemetry."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from controller.db.models import Agent, Play, PlayEvent, SecurityEventRecord
from controller.db.status import PlayStatus
from protocol.codec import encode
from protocol.messages import (
    AgentMessage,
    AgentState,
    Confirmation,
    SecurityEvent,
    Telemetry,
)
from protocol.messages import (
    PlayEvent as Event,
)

log = logging.getLogger(__name__)

_RANK: dict[str, float] = {
    PlayStatus.PLANNED: 0,
    PlayStatus.DOWNLOADED: 1,
    PlayStatus.STARTED: 2,
    PlayStatus.MISSED: 2.5,
    PlayStatus.FINISHED: 3,
    PlayStatus.FAILED: 3,
    PlayStatus.SKIPPED: 3,
}
"""A later event never moves a play back. `missed` is set by the controller at slot end; a confirmation that
arrives later from an agent's outbox (finished, failed, skipped) still replaces it."""


@dataclass
class IngestResult:
    """What one batch did. `duplicates` were already stored and changed nothing."""

    stored: int = 0
    duplicates: int = 0
    dropped: int = 0
    security_events: list[SecurityEvent] = field(default_factory=list)


def _insert(session: Session) -> Any:
    bind = session.get_bind()
    return (postgresql if bind.dialect.name == "postgresql" else sqlite).insert


def ingest(session: Session, batch: Sequence[tuple[str, AgentMessage]], now: datetime) -> IngestResult:
    """Store one batch of (topic agent id, message). Safe to call again with the same messages."""
    result = IngestResult()
    confirmations: list[Confirmation] = []
    seen: dict[str, datetime] = {}
    for topic_agent, msg in batch:
        if msg.agent_id != topic_agent:
            log.warning("dropped %s from topic of %s claiming agent %s", msg.kind, topic_agent, msg.agent_id)
            result.dropped += 1
            continue
        seen[msg.agent_id] = max(seen.get(msg.agent_id, msg.at), msg.at)
        if isinstance(msg, Confirmation):
            confirmations.append(msg)
        elif isinstance(msg, AgentState):
            _apply_state(session, msg, result)
        elif isinstance(msg, SecurityEvent):
            log.warning("agent %s rejected a message on %s: %s %s", msg.agent_id, msg.topic, msg.reason, msg.detail)
            result.security_events.append(msg)
            session.add(
                SecurityEventRecord(
                    agent_id=msg.agent_id, at=msg.at, reason=msg.reason, detail=msg.detail, topic=msg.topic
                )
            )
        elif isinstance(msg, Telemetry):
            _apply_telemetry(session, msg, now, result)
    _touch_agents(session, seen, now)
    if confirmations:
        _store_confirmations(session, confirmations, now, result)
    return result


def _apply_state(session: Session, msg: AgentState, result: IngestResult) -> None:
    agent = session.get(Agent, msg.agent_id)
    if agent is None:
        log.warning("state from unknown agent %s dropped", msg.agent_id)
        result.dropped += 1
        return
    # Compared with the last state taken, not with the last message seen: an agent's Last Will carries the
    # instant its session began (as its online state does), so a crash's Will is older than the telemetry
    # and confirmations that followed, yet it is the newest word on whether the agent is there.
    if agent.state_at is None or msg.at >= agent.state_at:
        agent.status = msg.status.value
        agent.version = msg.version[:40]
        agent.state_at = msg.at
    result.stored += 1


def _apply_telemetry(session: Session, msg: Telemetry, now: datetime, result: IngestResult) -> None:
    """Keep the latest health figures, and the agent's clock offset against ours.

    Telemetry is sent live (QoS 0, never queued), so `at - received` measures the agent's clock against the
    controller's, plus one-way network delay: tens of milliseconds, well under the 1 s echo threshold.
    """
    agent = session.get(Agent, msg.agent_id)
    if agent is None:
        result.dropped += 1
        return
    if agent.last_seen_at is not None and msg.at < agent.last_seen_at - timedelta(minutes=5):
        return  # an old message: its offset would be stale
    agent.clock_offset_s = round((msg.at - now).total_seconds(), 3)
    agent.volume = msg.volume
    agent.current_play_id = msg.current_play_id
    agent.telemetry = encode(msg, check=False).decode()  # decoded, so valid, a moment ago
    result.stored += 1


def _touch_agents(session: Session, seen: dict[str, datetime], now: datetime) -> None:
    if not seen:
        return
    for agent in session.scalars(select(Agent).where(Agent.id.in_(seen))):
        last = min(seen[agent.id], now)
        if agent.last_seen_at is None or last > agent.last_seen_at:
            agent.last_seen_at = last


def play_event_row(c: Confirmation, received_at: datetime) -> dict[str, Any]:
    """The `play_event` row a confirmation becomes."""
    return {
        "msg_id": c.msg_id,
        "play_id": c.play_id,
        "agent_id": c.agent_id,
        "event": c.event.value,
        "at": c.at,
        "started_at": c.started_at,
        "ended_at": c.ended_at,
        "duration_played_s": c.duration_played_s,
        "reason": c.reason,
        "received_at": received_at,
    }


def _store_confirmations(
    session: Session, confirmations: list[Confirmation], now: datetime, result: IngestResult
) -> None:
    plays = {p.id: p for p in session.scalars(select(Play).where(Play.id.in_({c.play_id for c in confirmations})))}
    rows: list[dict[str, Any]] = []
    by_key: dict[tuple[str, str], Confirmation] = {}
    for c in confirmations:
        play = plays.get(c.play_id)
        if play is None or play.agent_id != c.agent_id:
            log.warning("confirmation %s for unknown play %s from %s dropped", c.msg_id, c.play_id, c.agent_id)
            result.dropped += 1
            continue
        by_key.setdefault((c.play_id, c.event.value), c)
        rows.append(play_event_row(c, now))
    if not rows:
        return
    insert = _insert(session)
    table = PlayEvent.__table__
    stmt = insert(table).on_conflict_do_nothing().returning(table.c.play_id, table.c.event)
    # A Core executemany on the session's connection: SQLAlchemy batches it with RETURNING
    # ("insertmanyvalues") on both backends. Through the ORM it ran one statement per row.
    inserted = session.connection().execute(stmt, rows).all()
    result.stored += len(inserted)
    result.duplicates += len(rows) - len(inserted)
    for play_id, event in inserted:
        _advance(plays[play_id], by_key[(play_id, event)])


def _advance(play: Play, c: Confirmation) -> None:
    """Move a play's status forward; a later, lower-ranked event never moves it back."""
    if _RANK[c.event.value] > _RANK.get(play.status, 0):
        play.status = c.event.value
    if c.event is Event.STARTED and play.started_at is None:
        play.started_at = c.started_at or c.at
    if c.event is Event.FINISHED:
        play.reason = None  # a late confirmation overrules "missed" and the guess at why
        play.started_at = c.started_at or play.started_at
        play.ended_at = c.ended_at or c.at
        play.duration_played_s = c.duration_played_s
    if c.event in (Event.FAILED, Event.SKIPPED):
        play.reason = c.reason
        if c.ended_at:
            play.ended_at = c.ended_at
        if c.duration_played_s is not None:
            play.duration_played_s = c.duration_played_s
