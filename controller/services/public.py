"""The public side's writes: holding a bulletin back, and the reach counter ("số lượt tiếp cận").

Reach counts page views and listens per bulletin per local day, each visitor once a day, recognised by a hash
salted with a random value that is deleted the next day. No address, no cookie.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from controller.db.models import Bulletin, PublicHold, PublicRefusal, ReachCount, ReachSalt, ReachSeen
from controller.errors import InvalidInput, NotFound
from controller.public_input import key, local_day, plain_text
from controller.services import audit
from controller.services.access import Actor, require_commune

REACH_KINDS = ("view", "listen")


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
