"""What citizens may see: bulletins that were approved and confirmed played, unless the officer holds them back.

Also the reach counter ("số lượt tiếp cận"): page views and listens per bulletin per local day, each visitor once
a day, recognised by a hash salted with a random value that is deleted the next day. No address, no cookie.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, delete, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from controller.db.models import (
    Agent,
    AudioAsset,
    Bulletin,
    Commune,
    Play,
    PlayEvent,
    PublicHold,
    PublicRefusal,
    ReachCount,
    ReachSalt,
    ReachSeen,
)
from controller.errors import InvalidInput, NotFound
from controller.schemas import BulletinStatus
from controller.services import audit
from controller.services.access import Actor, require_commune
from controller.topics import topic_name

REACH_KINDS = ("view", "listen")
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


def key(value: str, limit: int = 64) -> str:
    """An id or code from a URL, safe to compare in SQL: empty when too long or holding control characters.

    PostgreSQL refuses NUL in text, and nothing we store has one, so such a value can only find nothing.
    """
    if len(value) > limit or any(ord(ch) < 32 or ch == "\x7f" for ch in value):
        return ""
    return value


def plain_text(value: str, limit: int, *, multiline: bool = False) -> str:
    """Citizen input as plain text: normalised, control characters dropped, trimmed and capped. Markup stays text."""
    value = unicodedata.normalize("NFC", value)
    keep = {"\n"} if multiline else set()
    cleaned = "".join(
        ch if ch in keep or unicodedata.category(ch)[0] != "C" else " " for ch in value.replace("\r\n", "\n")
    )
    if multiline:
        lines = [" ".join(line.split()) for line in cleaned.split("\n")]
        cleaned = "\n".join(lines)
        while "\n\n\n" in cleaned:
            cleaned = cleaned.replace("\n\n\n", "\n\n")
    else:
        cleaned = " ".join(cleaned.split())
    return cleaned.strip()[:limit]


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


# --- holding back -------------------------------------------------------------------------------------------


def hold_back(session: Session, actor: Actor, bulletin_id: str, reason: str = "") -> Bulletin:
    """Keep a bulletin off the public page and the feeds, from the next request on. Returns the bulletin."""
    bulletin = _bulletin(session, bulletin_id)
    require_commune(session, actor, bulletin.commune_id, write=True)
    hold = session.get(PublicHold, bulletin.id)
    if hold is None:
        hold = PublicHold(bulletin_id=bulletin.id, held_by=actor.username, reason=plain_text(reason, 500))
        session.add(hold)
        audit.record(
            session, actor, "public-hold", "bulletin", bulletin.id, commune_id=bulletin.commune_id, detail=hold.reason
        )
    return bulletin


def release(session: Session, actor: Actor, bulletin_id: str) -> Bulletin:
    """Let a held-back bulletin appear again (if it is still approved and was broadcast). Returns the bulletin."""
    bulletin = _bulletin(session, bulletin_id)
    require_commune(session, actor, bulletin.commune_id, write=True)
    hold = session.get(PublicHold, bulletin.id)
    if hold is not None:
        session.delete(hold)
        audit.record(session, actor, "public-release", "bulletin", bulletin.id, commune_id=bulletin.commune_id)
    return bulletin


def _bulletin(session: Session, bulletin_id: str) -> Bulletin:
    bulletin = session.get(Bulletin, key(bulletin_id)) if key(bulletin_id) else None
    if bulletin is None:
        raise NotFound(f"bulletin {bulletin_id[:64]!r} not found", "Không tìm thấy bản tin.")
    return bulletin


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


# --- reach ----------------------------------------------------------------------------------------------------


def local_day(now: datetime, tz: ZoneInfo) -> str:
    return now.astimezone(tz).date().isoformat()


def _today_salt(session: Session, day: str) -> str:
    """Today's salt; yesterday's salts and every hash made with them are deleted first."""
    session.execute(delete(ReachSeen).where(ReachSeen.day != day))
    session.execute(delete(ReachSalt).where(ReachSalt.day != day))
    row = session.get(ReachSalt, day)
    if row is None:
        try:
            with session.begin_nested():
                row = ReachSalt(day=day, salt=secrets.token_hex(32))
                session.add(row)
        except IntegrityError:  # another request made it first
            row = session.get(ReachSalt, day)
            assert row is not None
    return row.salt


REACH_DAILY_CAP = 50_000
"""Most visitors counted per bulletin, kind and day: a flood of fake visitors stops there instead of filling
the day's hash table (a commune has some thousands of people)."""


def _reach_row(session: Session, day: str, bulletin_id: str, kind: str) -> ReachCount | None:
    return session.scalar(
        select(ReachCount).where(ReachCount.day == day, ReachCount.bulletin_id == bulletin_id, ReachCount.kind == kind)
    )


def count_reach(
    session: Session,
    bulletin_id: str,
    kind: str,
    visitor: str,
    *,
    now: datetime,
    tz: ZoneInfo,
    daily_cap: int = REACH_DAILY_CAP,
) -> bool:
    """Count one view or listen, unless this visitor was already counted for it today. True when counted.

    `visitor` is whatever identifies a browser for a day (address and user agent); only its salted hash is kept.
    Past `daily_cap` visitors a day, nothing more is stored and the refusal is counted.
    """
    if kind not in REACH_KINDS:
        raise InvalidInput(f"unknown reach kind {kind!r}", "Loại lượt tiếp cận không hợp lệ.")
    day = local_day(now, tz)
    row = _reach_row(session, day, bulletin_id, kind)
    if row is not None and row.count >= daily_cap:
        count_refusal(session, "reach-cap", now, tz)
        return False
    salt = _today_salt(session, day)
    digest = hashlib.sha256(f"{salt}\0{visitor}\0{bulletin_id}\0{kind}".encode()).hexdigest()
    if session.get(ReachSeen, digest) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(ReachSeen(digest=digest, day=day))
    except IntegrityError:
        return False
    if row is None:
        try:
            with session.begin_nested():
                session.add(ReachCount(day=day, bulletin_id=bulletin_id, kind=kind, count=1))
            return True
        except IntegrityError:
            row = _reach_row(session, day, bulletin_id, kind)
            assert row is not None
    row.count = ReachCount.count + 1
    return True


def count_refusal(session: Session, reason: str, now: datetime, tz: ZoneInfo) -> None:
    """Add one to today's count of what the public side refused for `reason` (flood, honeypot, caps)."""
    day = local_day(now, tz)
    stmt = select(PublicRefusal).where(PublicRefusal.day == day, PublicRefusal.reason == reason)
    row = session.scalar(stmt)
    if row is None:
        try:
            with session.begin_nested():
                session.add(PublicRefusal(day=day, reason=reason, count=1))
            return
        except IntegrityError:
            row = session.scalar(stmt)
            assert row is not None
    row.count = PublicRefusal.count + 1


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
