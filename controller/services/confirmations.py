"""Ingesting what agents send: play confirmations (idempotently), liveness and telemetry.

Nothing an agent says is taken on trust: a confirmation, state or telemetry whose instants or durations cannot
be true (see `_implausible`) is refused, stored as a security event and never counted.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from controller.db.models import Agent, Play, PlayEvent, ReportSequence, SecurityEventRecord
from controller.db.status import OFF_AIR, REFUSED_BY_CONTROLLER, PlayStatus
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

CLOCK_TOLERANCE = timedelta(minutes=5)
"""How far an agent's clock may run ahead of ours, and a play start before its booked instant."""
DURATION_TOLERANCE_S = 5.0
"""Seconds a play may report beyond its audio's length (player start-up), plus `DURATION_TOLERANCE_RATIO`."""
DURATION_TOLERANCE_RATIO = 0.02
SAME_CLOCK_SLACK = timedelta(seconds=2)


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
    refused: int = 0
    """Reports refused as implausible; each is also in `security_events` and stored as a security event."""


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
        if msg.at > now + CLOCK_TOLERANCE:
            _refuse(session, result, msg, now, "future-dated", f"{msg.kind} dated {msg.at.isoformat()}")
            continue
        seen[msg.agent_id] = max(seen.get(msg.agent_id, msg.at), msg.at)
        if isinstance(msg, Confirmation):
            confirmations.append(msg)
        elif isinstance(msg, AgentState):
            _apply_state(session, msg, now, result)
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
    _record_sequences(session, [m for t, m in batch if isinstance(m, Confirmation) and m.agent_id == t], now)
    if confirmations:
        _store_confirmations(session, confirmations, now, result)
    return result


def _refuse(session: Session, result: IngestResult, msg: AgentMessage, now: datetime, reason: str, detail: str) -> None:
    """Refuse one report: log it, keep it as a security event (dated when we received it), never count it."""
    detail = f"controller refused {msg.kind} {msg.msg_id}: {detail}"[:500]
    log.warning("agent %s: %s (%s)", msg.agent_id, detail, reason)
    result.refused += 1
    result.security_events.append(
        SecurityEvent(
            agent_id=msg.agent_id, at=now, reason=reason, detail=detail, topic=msg.kind, rejected_msg_id=msg.msg_id
        )
    )
    topic = REFUSED_BY_CONTROLLER + msg.kind
    session.add(SecurityEventRecord(agent_id=msg.agent_id, at=now, reason=reason, detail=detail, topic=topic))


def record_refusal(session: Session, agent_id: str, reason: str, channel: str, detail: str, now: datetime) -> None:
    """Keep a report refused before it was read (malformed, unsigned, forged) as a security event.

    The caller rate-limits: a flood must not fill the database.
    """
    detail = f"controller refused a {channel} message: {detail}"[:500]
    topic = REFUSED_BY_CONTROLLER + channel
    session.add(SecurityEventRecord(agent_id=agent_id, at=now, reason=reason, detail=detail, topic=topic))


def agent_keys(session: Session, agent_ids: Collection[str]) -> dict[str, str | None]:
    """The registered public key (base64) of each known agent among `agent_ids`; None for an agent without one."""
    rows = session.execute(select(Agent.id, Agent.public_key).where(Agent.id.in_(list(agent_ids))))
    return {agent_id: key for agent_id, key in rows}


def _record_sequences(session: Session, confirmations: list[Confirmation], now: datetime) -> None:
    rows = [{"agent_id": c.agent_id, "seq": c.seq, "received_at": now} for c in confirmations if c.seq is not None]
    if rows:
        insert = _insert(session)
        session.connection().execute(insert(ReportSequence.__table__).on_conflict_do_nothing(), rows)


def _implausible(c: Confirmation, play: Play, now: datetime) -> str | None:
    """Why a confirmation cannot be true of this play, or None. Instants already past `now` are refused earlier."""
    if c.started_at is not None and c.started_at > now + CLOCK_TOLERANCE:
        return f"started_at {c.started_at.isoformat()} is after it was received"
    # `ended_at` is `started_at` plus the seconds played; a simulator's fast player puts it ahead of the wall
    # clock, so it is bounded by what was played rather than by the receipt.
    if c.ended_at is not None:
        latest = max(now, (c.started_at or now) + timedelta(seconds=c.duration_played_s or 0.0))
        if c.ended_at > latest + CLOCK_TOLERANCE:
            return f"ended_at {c.ended_at.isoformat()} is after it was received"
    if c.started_at is not None and c.started_at < play.starts_at - CLOCK_TOLERANCE:
        return f"started {c.started_at.isoformat()}, before the booked {play.starts_at.isoformat()}"
    if c.started_at is not None and c.ended_at is not None and c.ended_at < c.started_at:
        return "ended before it started"
    if c.started_at is not None and c.at < c.started_at - CLOCK_TOLERANCE:
        return "reported before it started"
    audio = play.audio_asset.duration_s
    limit = audio * (1 + DURATION_TOLERANCE_RATIO) + DURATION_TOLERANCE_S
    for name in ("duration_played_s", "preempted_played_s"):
        value_s: float | None = getattr(c, name)
        if value_s is not None and value_s > limit:
            return f"{name} {value_s:.1f}s for {audio:.1f}s of audio"
    if c.started_at is not None and c.ended_at is not None and c.duration_played_s is not None:
        span = (c.ended_at - c.started_at).total_seconds()
        if c.duration_played_s > span + DURATION_TOLERANCE_S:
            return f"{c.duration_played_s:.1f}s played in {span:.1f}s"
    return None


def _out_of_order(c: Confirmation, stored: dict[str, PlayEvent]) -> str | None:
    """Why this event contradicts the play's events already stored, or None.

    Both instants come from the same agent's clock, so only a couple of seconds of slack are allowed.
    """
    started = stored.get(Event.STARTED.value)
    if c.event in (Event.FINISHED, Event.FAILED, Event.SKIPPED) and started is not None:
        began = started.started_at or started.at
        if c.ended_at is not None and c.ended_at < began - SAME_CLOCK_SLACK:
            return f"{c.event.value} ended before the stored start {began.isoformat()}"
    if c.event is Event.STARTED:
        for final in (Event.FINISHED, Event.FAILED, Event.SKIPPED):
            done = stored.get(final.value)
            if done is not None and (c.started_at or c.at) > (done.ended_at or done.at) + SAME_CLOCK_SLACK:
                return f"started after the stored {final.value} at {(done.ended_at or done.at).isoformat()}"
    return None


def _apply_state(session: Session, msg: AgentState, now: datetime, result: IngestResult) -> None:
    agent = session.get(Agent, msg.agent_id)
    if agent is None:
        log.warning("state from unknown agent %s dropped", msg.agent_id)
        result.dropped += 1
        return
    # Compared with the last state taken, not with the last message seen: an agent's Last Will carries the
    # instant its session began (as its online state does), so a crash's Will is older than the telemetry
    # and confirmations that followed, yet it is the newest word on whether the agent is there.
    # A state stored in the future (before such states were refused) would pin the agent: it is ignored.
    if agent.state_at is None or msg.at >= agent.state_at or agent.state_at > now + CLOCK_TOLERANCE:
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
    current = session.get(Play, msg.current_play_id) if msg.current_play_id else None
    # Telemetry sent just before a play ended may arrive after its confirmation: an ended play is not on air.
    agent.current_play_id = current.id if current is not None and current.status not in OFF_AIR else None
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
        "seq": c.seq,
        "manifest_revision": c.manifest_revision,
    }


def _store_confirmations(
    session: Session, confirmations: list[Confirmation], now: datetime, result: IngestResult
) -> None:
    ids = {c.play_id for c in confirmations}
    plays = {
        p.id: p for p in session.scalars(select(Play).where(Play.id.in_(ids)).options(joinedload(Play.audio_asset)))
    }
    stored: dict[str, dict[str, PlayEvent]] = {}
    for ev in session.scalars(select(PlayEvent).where(PlayEvent.play_id.in_(ids))):
        stored.setdefault(ev.play_id, {})[ev.event] = ev
    rows: list[dict[str, Any]] = []
    by_key: dict[tuple[str, str], Confirmation] = {}
    for c in confirmations:
        play = plays.get(c.play_id)
        if play is None or play.agent_id != c.agent_id:
            log.warning("confirmation %s for unknown play %s from %s dropped", c.msg_id, c.play_id, c.agent_id)
            result.dropped += 1
            continue
        if (c.play_id, c.event.value) in by_key or c.event.value in stored.get(c.play_id, {}):
            rows.append(play_event_row(c, now))  # a redelivery: the insert below counts it as a duplicate
            continue
        problem = _implausible(c, play, now)
        if problem is not None:
            _refuse(session, result, c, now, "implausible", problem)
            continue
        problem = _out_of_order(c, stored.get(c.play_id, {}))
        if problem is not None:
            _refuse(session, result, c, now, "out-of-order", problem)
            continue
        by_key[(c.play_id, c.event.value)] = c
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
    _on_air(session, sorted((by_key[key] for key in inserted), key=lambda c: c.at))


_ENDED = frozenset({Event.FINISHED, Event.FAILED, Event.SKIPPED})


def _on_air(session: Session, confirmations: list[Confirmation]) -> None:
    """What each cluster plays now, from its confirmations (telemetry alone would lag by its period):
    a start puts the play on air, and its end, failure or preemption takes it off."""
    for c in confirmations:
        if c.event is not Event.STARTED and c.event not in _ENDED:
            continue
        agent = session.get(Agent, c.agent_id)
        if agent is None:
            continue
        if c.event is Event.STARTED:
            agent.current_play_id = c.play_id
        elif agent.current_play_id == c.play_id:
            agent.current_play_id = None


STALE_FROM = frozenset({PlayStatus.HELD, PlayStatus.CANCELLED})
"""A play in one of these states is in no current manifest: if it still plays, a stale schedule was followed."""


def _advance(play: Play, c: Confirmation) -> None:
    """Move a play's status forward; a later, lower-ranked event never moves it back.

    A play that a later manifest held or cancelled, confirmed as played anyway (an agent that never got the
    later revision, or an old manifest re-published on the broker), is flagged "phát theo lịch cũ" and counted
    apart, never silently.
    """
    if play.status in STALE_FROM and c.event in (Event.STARTED, Event.FINISHED):
        play.stale_schedule = True
        log.warning(
            "play %s on %s was %s yet confirmed %s from manifest revision %s: a stale schedule",
            play.id, play.agent_id, play.status, c.event.value, c.manifest_revision,
        )  # fmt: skip
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
