"""Missed plays: planned but never confirmed by the end of their slot plus a grace period."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from controller.db.models import Play
from controller.db.status import UNCONFIRMED, PlayStatus

REASON_VI = {
    "agent-offline": "Cụm loa mất kết nối trong giờ phát",
    "not-downloaded": "Cụm loa chưa tải được âm thanh",
    "no-confirmation": "Cụm loa không gửi xác nhận phát",
    "interrupted": "Cụm loa bắt đầu phát nhưng không phát xong",
}


def play_end(play: Play) -> datetime:
    """When a play should be over: its slot's end, else its start plus the audio's length."""
    if play.slot_end is not None:
        return max(play.slot_end, play.starts_at + timedelta(seconds=play.audio_asset.duration_s))
    return play.starts_at + timedelta(seconds=play.audio_asset.duration_s)


def mark_missed(session: Session, now: datetime, grace: timedelta) -> list[Play]:
    """Mark every overdue unconfirmed play as missed, with the likeliest reason. Idempotent.

    A confirmation that arrives later (an agent that played offline and flushes its outbox on reconnect)
    still moves the play to finished: see `confirmations._RANK`.
    """
    candidates = session.scalars(
        select(Play)
        .options(joinedload(Play.audio_asset), joinedload(Play.agent))
        .where(Play.status.in_(UNCONFIRMED), Play.starts_at < now - grace)
    )
    missed = []
    for play in candidates:
        if play_end(play) + grace > now:
            continue
        play.reason = _reason(play)
        play.status = PlayStatus.MISSED
        missed.append(play)
    session.flush()
    return missed


def _reason(play: Play) -> str:
    agent = play.agent
    if play.status == PlayStatus.STARTED:
        return "interrupted"
    if play.status == PlayStatus.DOWNLOADED:
        return "no-confirmation"
    if agent.last_seen_at is None or agent.last_seen_at < play.starts_at or agent.status == "offline":
        return "agent-offline"
    return "not-downloaded"
