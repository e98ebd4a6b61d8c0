"""What citizens may see: bulletins approved and confirmed played, unless the officer holds them back.

Read-only queries for the public page, its feeds, the officer's publication page and the forms: which
bulletins are public, when they were broadcast, their reach, and the published questions and answers.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session

from controller.db.models import (
    Agent,
    AudioAsset,
    Bulletin,
    CitizenQuestion,
    Commune,
    Play,
    PlayEvent,
    PublicHold,
    ReachCount,
)
from controller.errors import InvalidInput, NotFound
from controller.public_input import key
from controller.schemas import BulletinStatus, QuestionStatus
from controller.topics import topic_name

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass
class PublicBulletin:
    """A bulletin as the public page shows it: no internal ids beyond its own, no personal data."""

    id: str
    title: str
    topic: str
    topic_name: str
    body: str
    legal_references: str
    duration_s: float
    sha256: str
    size_bytes: int
    broadcasts: list[datetime] = field(default_factory=list)
    """Distinct confirmed broadcast instants (the start of the earliest cluster's play per session), UTC."""
    upcoming: list[datetime] = field(default_factory=list)
    """Planned broadcast instants still to come, UTC."""

    @property
    def first_broadcast(self) -> datetime | None:
        return self.broadcasts[0] if self.broadcasts else None

    @property
    def summary(self) -> str:
        """The first sentences, about 300 characters, for the poster and the feed."""
        text = " ".join(self.body.split())
        if len(text) <= 300:
            return text
        cut = text[:300].rsplit(" ", 1)[0]
        return cut + "…"


def get_commune_by_code(session: Session, code: str) -> Commune:
    code = key(code, 32)
    commune = session.scalar(select(Commune).where(Commune.code == code)) if code else None
    if commune is None:
        raise NotFound(f"commune {code[:40]!r} not found", "Không tìm thấy trang của xã/phường này.")
    return commune


def _public_filter(commune_id: int) -> list[ColumnElement[bool]]:
    """Approved, with audio, confirmed played on a cluster of this commune at least once, and not held back."""
    confirmed_here = (
        exists()
        .where(
            PlayEvent.play_id == Play.id,
            PlayEvent.event == "finished",
            Play.bulletin_id == Bulletin.id,
            Agent.id == Play.agent_id,
            Agent.commune_id == commune_id,
        )
        .correlate(Bulletin)
    )
    held = exists().where(PublicHold.bulletin_id == Bulletin.id).correlate(Bulletin)
    return [
        Bulletin.status == BulletinStatus.APPROVED.value,
        Bulletin.audio_asset_id.is_not(None),
        confirmed_here,
        ~held,
    ]


def parse_month(month: str | None) -> tuple[int, int] | None:
    """'2026-05' -> (2026, 5); empty -> None; anything else is refused in Vietnamese."""
    if not month:
        return None
    m = _MONTH.fullmatch(month.strip())
    if m is None or not 1 <= int(m.group(2)) <= 12 or not 2000 <= int(m.group(1)) <= 2100:
        raise InvalidInput(f"bad month filter {month[:20]!r}", "Tháng không hợp lệ (dạng 2026-05).")
    return int(m.group(1)), int(m.group(2))


def month_bounds(year: int, month: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(date(year, month, 1), time(0), tz)
    end = datetime.combine(date(year + month // 12, month % 12 + 1, 1), time(0), tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def list_public(
    session: Session,
    commune: Commune,
    tz: ZoneInfo,
    *,
    topic: str | None = None,
    month: tuple[int, int] | None = None,
    now: datetime | None = None,
    limit: int = 200,
) -> list[PublicBulletin]:
    """The commune's public bulletins, newest first broadcast first, filtered by topic and broadcast month."""
    stmt = select(Bulletin, AudioAsset).join(AudioAsset, AudioAsset.id == Bulletin.audio_asset_id)
    stmt = stmt.where(*_public_filter(commune.id))
    if topic:
        stmt = stmt.where(Bulletin.topic == key(topic))
    rows = list(session.execute(stmt))
    if not rows:
        return []
    times = _broadcast_times(session, commune.id, [b.id for b, _ in rows], now)
    items = [_public(b, a, *times.get(b.id, ([], []))) for b, a in rows]
    if month is not None:
        start, end = month_bounds(*month, tz)
        items = [i for i in items if any(start <= t < end for t in i.broadcasts)]
    items.sort(key=lambda i: (i.first_broadcast or datetime.min.replace(tzinfo=UTC), i.id), reverse=True)
    return items[:limit]


def get_public(session: Session, commune: Commune, bulletin_id: str, *, now: datetime | None = None) -> PublicBulletin:
    """One public bulletin of this commune, or 404 (also when it is held back, withdrawn or not yet broadcast)."""
    stmt = (
        select(Bulletin, AudioAsset)
        .join(AudioAsset, AudioAsset.id == Bulletin.audio_asset_id)
        .where(Bulletin.id == key(bulletin_id), *_public_filter(commune.id))
    )
    row = session.execute(stmt).first()
    if row is None:
        raise NotFound(f"public bulletin {bulletin_id[:64]!r} not found", "Không tìm thấy bản tin này.")
    bulletin, asset = row
    broadcasts, upcoming = _broadcast_times(session, commune.id, [bulletin.id], now).get(bulletin.id, ([], []))
    return _public(bulletin, asset, broadcasts, upcoming)


def _public(b: Bulletin, a: AudioAsset, broadcasts: list[datetime], upcoming: list[datetime]) -> PublicBulletin:
    return PublicBulletin(
        id=b.id,
        title=b.title,
        topic=b.topic,
        topic_name=topic_name(b.topic),
        body=b.body,
        legal_references=b.legal_references,
        duration_s=a.duration_s,
        sha256=a.sha256,
        size_bytes=a.size_bytes,
        broadcasts=broadcasts,
        upcoming=upcoming,
    )


def _broadcast_times(
    session: Session, commune_id: int, bulletin_ids: Sequence[str], now: datetime | None
) -> dict[str, tuple[list[datetime], list[datetime]]]:
    """Per bulletin: distinct confirmed start instants (to the minute) and planned future ones, in this commune."""
    confirmed = (
        select(Play.bulletin_id, Play.starts_at)
        .join(Agent, Agent.id == Play.agent_id)
        .join(PlayEvent, (PlayEvent.play_id == Play.id) & (PlayEvent.event == "finished"))
        .where(Agent.commune_id == commune_id, Play.bulletin_id.in_(list(bulletin_ids)))
        .distinct()  # the clusters of one session share a start: one row per session, not per cluster
    )
    out: dict[str, tuple[set[datetime], set[datetime]]] = {}
    for bid, at in session.execute(confirmed):
        out.setdefault(bid, (set(), set()))[0].add(at.replace(second=0, microsecond=0))
    if now is not None:
        planned = (
            select(Play.bulletin_id, Play.starts_at)
            .join(Agent, Agent.id == Play.agent_id)
            .where(
                Agent.commune_id == commune_id,
                Play.bulletin_id.in_(list(bulletin_ids)),
                Play.status == "planned",
                Play.starts_at > now,
            )
            .distinct()
        )
        for bid, at in session.execute(planned):
            out.setdefault(bid, (set(), set()))[1].add(at.replace(second=0, microsecond=0))
    return {bid: (sorted(done), sorted(todo)[:20]) for bid, (done, todo) in out.items()}


def public_topics(session: Session, commune: Commune) -> list[tuple[str, str]]:
    """The topics that have at least one public bulletin, as (code, name)."""
    stmt = select(Bulletin.topic).where(*_public_filter(commune.id)).distinct()
    return sorted(((t, topic_name(t)) for t in session.scalars(stmt)), key=lambda p: p[1])


@dataclass(frozen=True)
class PublicationState:
    """For the officer: where each approved bulletin of the commune stands on the public page."""

    bulletin_id: str
    title: str
    topic: str
    state: str
    """public, waiting (approved, no confirmed play yet) or held."""
    reason: str = ""


def publication_states(session: Session, commune_id: int) -> list[PublicationState]:
    stmt = (
        select(Bulletin, PublicHold)
        .outerjoin(PublicHold, PublicHold.bulletin_id == Bulletin.id)
        .where(Bulletin.commune_id == commune_id, Bulletin.status == BulletinStatus.APPROVED.value)
        .order_by(Bulletin.updated_at.desc())
    )
    public_ids = set(session.scalars(select(Bulletin.id).where(*_public_filter(commune_id))))
    states = []
    for bulletin, hold in session.execute(stmt):
        if hold is not None:
            state, reason = "held", hold.reason
        else:
            state, reason = ("public" if bulletin.id in public_ids else "waiting"), ""
        states.append(PublicationState(bulletin.id, bulletin.title, bulletin.topic, state, reason))
    return states


def reach_totals(
    session: Session, start_day: str, end_day: str, *, bulletin_ids: Collection[str] | None = None
) -> dict[str, dict[str, int]]:
    """Views and listens per bulletin over local days [start_day, end_day)."""
    stmt = (
        select(ReachCount.bulletin_id, ReachCount.kind, func.sum(ReachCount.count))
        .where(ReachCount.day >= start_day, ReachCount.day < end_day)
        .group_by(ReachCount.bulletin_id, ReachCount.kind)
    )
    if bulletin_ids is not None:
        stmt = stmt.where(ReachCount.bulletin_id.in_(list(bulletin_ids)))
    out: dict[str, dict[str, int]] = {}
    for bid, kind, n in session.execute(stmt):
        out.setdefault(bid, {"view": 0, "listen": 0})[kind] = int(n or 0)
    return out


def reach_for_communes(
    session: Session, start_day: str, end_day: str, commune_ids: Collection[int] | None
) -> dict[str, int]:
    """Total views and listens over local days [start_day, end_day) of the bulletins of these communes (None: all)."""
    stmt = (
        select(ReachCount.kind, func.sum(ReachCount.count))
        .join(Bulletin, Bulletin.id == ReachCount.bulletin_id)
        .where(ReachCount.day >= start_day, ReachCount.day < end_day)
        .group_by(ReachCount.kind)
    )
    if commune_ids is not None:
        stmt = stmt.where(Bulletin.commune_id.in_(list(commune_ids)))
    totals = {"view": 0, "listen": 0}
    for kind, n in session.execute(stmt):
        totals[kind] = int(n or 0)
    return totals


@dataclass(frozen=True)
class PublishedAnswer:
    """A published question and answer as citizens see them: no name, no contact."""

    body: str
    answer: str
    topic: str
    answered_at: datetime | None


def published(
    session: Session, commune_id: int, *, bulletin_id: str | None = None, limit: int = 50
) -> list[PublishedAnswer]:
    stmt = (
        select(CitizenQuestion)
        .where(CitizenQuestion.commune_id == commune_id, CitizenQuestion.published.is_(True))
        .order_by(CitizenQuestion.published_at.desc(), CitizenQuestion.id.desc())
        .limit(limit)
    )
    if bulletin_id is not None:
        stmt = stmt.where(CitizenQuestion.bulletin_id == bulletin_id)
    return [PublishedAnswer(q.body, q.answer, q.topic, q.answered_at) for q in session.scalars(stmt)]


def question_counts(session: Session, commune_id: int, start: datetime, end: datetime) -> dict[str, int]:
    """Received, answered (either way) and published questions created in [start, end)."""
    stmt = (
        select(CitizenQuestion.status, CitizenQuestion.published, func.count(CitizenQuestion.id))
        .where(
            CitizenQuestion.commune_id == commune_id,
            CitizenQuestion.created_at >= start,
            CitizenQuestion.created_at < end,
        )
        .group_by(CitizenQuestion.status, CitizenQuestion.published)
    )
    counts = {"received": 0, "answered": 0, "answered_at_session": 0, "published": 0}
    for status, is_published, n in session.execute(stmt):
        counts["received"] += n
        if status != QuestionStatus.NEW.value:
            counts["answered"] += n
        if status == QuestionStatus.SESSION.value:
            counts["answered_at_session"] += n
        if is_published:
            counts["published"] += n
    return counts
