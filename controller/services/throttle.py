"""Login throttling, per account and per client address: growing delays, then a temporary lock.

A failed (or too early) attempt counts against both keys. After `FREE_FAILURES` failures for an account
(`ADDRESS_FREE_FAILURES` for an address) the next attempt must wait 1 s, then 2 s, 4 s ... (at most
`MAX_DELAY`). At `ACCOUNT_LOCK_AT` failures for an account, or `ADDRESS_LOCK_AT` for an address (a commune
office shares one address), the key is locked for `LOCK_FOR`, with an audit entry. Failures older than
`WINDOW` are forgotten, so the legitimate user gets in afterwards. A successful login clears the account's
record. An admin can lift a lock early.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import LoginThrottle
from controller.errors import ControllerError, NotFound
from controller.schemas import LoginLockPublic
from controller.services import audit
from controller.services.access import Actor, require_role
from controller.services.context import Context
from controller.services.users import Role

log = logging.getLogger(__name__)

FREE_FAILURES = 3
ADDRESS_FREE_FAILURES = 10
MAX_DELAY = timedelta(seconds=60)
ACCOUNT_LOCK_AT = 10
ADDRESS_LOCK_AT = 30
WINDOW = timedelta(minutes=15)
LOCK_FOR = timedelta(minutes=15)


class LoginThrottled(ControllerError):
    """Too many failed logins for this account or address: try again after `retry_after_s`."""

    status_code = 429

    def __init__(self, message: str, message_vi: str, retry_after_s: int) -> None:
        super().__init__(message, message_vi)
        self.retry_after_s = retry_after_s

    def details(self) -> dict[str, object]:
        return {"retry_after_s": self.retry_after_s}

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


@dataclass(frozen=True)
class Attempt:
    """Who is trying to log in, and from where."""

    username: str
    address: str

    @property
    def keys(self) -> tuple[str, str]:
        return (account_key(self.username), address_key(self.address))


def account_key(username: str) -> str:
    return f"user:{username.strip().lower()[:150]}"


def address_key(address: str) -> str:
    return f"addr:{address[:150]}"


def _wait_message(seconds: int) -> str:
    if seconds >= 60:
        return f"Đăng nhập sai quá nhiều lần. Tài khoản tạm bị khóa, hãy thử lại sau {(seconds + 59) // 60} phút."
    return f"Đăng nhập sai nhiều lần. Hãy đợi {seconds} giây rồi thử lại."


def check_allowed(session: Session, attempt: Attempt, now: datetime) -> None:
    """Raise LoginThrottled (and count the early attempt) if either key is locked or still waiting."""
    for key in attempt.keys:
        row = session.get(LoginThrottle, key)
        if row is None:
            continue
        if now - row.window_start > WINDOW and (row.locked_until is None or row.locked_until <= now):
            session.delete(row)
            session.flush()
            continue
        until = max((t for t in (row.locked_until, row.next_allowed_at) if t is not None), default=None)
        if until is not None and until > now:
            seconds = max(1, int((until - now).total_seconds() + 0.999))
            record_failure(session, attempt, now)
            log.warning("login throttled for %s (%s): wait %d s", attempt.username, key, seconds)
            raise LoginThrottled(f"login throttled on {key} for {seconds} s", _wait_message(seconds), seconds)


def record_failure(session: Session, attempt: Attempt, now: datetime) -> None:
    """Count a failed attempt against the account and the address; lock a key that reaches its limit."""
    limits = ((FREE_FAILURES, ACCOUNT_LOCK_AT), (ADDRESS_FREE_FAILURES, ADDRESS_LOCK_AT))
    for key, (free, lock_at) in zip(attempt.keys, limits, strict=True):
        row = session.get(LoginThrottle, key)
        if row is None or (now - row.window_start > WINDOW and (row.locked_until is None or row.locked_until <= now)):
            if row is not None:
                session.delete(row)
                session.flush()
            row = LoginThrottle(key=key, failures=0, window_start=now)
            session.add(row)
        row.failures += 1
        if row.failures > free:
            delay = timedelta(seconds=2 ** min(row.failures - free - 1, 16))
            row.next_allowed_at = now + min(delay, MAX_DELAY)
        if row.failures >= lock_at and (row.locked_until is None or row.locked_until <= now):
            row.locked_until = now + LOCK_FOR
            # The window restarts at the lock, so the record outlives the lock and is then forgotten.
            row.window_start = now + LOCK_FOR - WINDOW
            audit.record(
                session,
                Actor.system(),
                "login-locked",
                "login",
                key,
                detail=f"{row.failures} failed logins; locked until {row.locked_until.isoformat()}",
                at=now,
            )
            log.warning("login locked: %s after %d failures", key, row.failures)
    session.flush()


def record_success(session: Session, attempt: Attempt) -> None:
    """The right password, not throttled: forget the account's failures (the address keeps its count)."""
    row = session.get(LoginThrottle, account_key(attempt.username))  # usually none: no write per API call
    if row is not None:
        session.delete(row)


def locks(session: Session, now: datetime) -> list[LoginThrottle]:
    """Keys locked now, for the admin."""
    stmt = select(LoginThrottle).where(LoginThrottle.locked_until > now).order_by(LoginThrottle.key)
    return list(session.scalars(stmt))


def lift_lock(session: Session, actor: Actor, key: str, now: datetime) -> bool:
    """An admin lifts a lock (and forgets the failures) on `user:NAME` or `addr:IP`. False if there was none."""
    require_role(actor, Role.ADMIN)
    row = session.get(LoginThrottle, key)
    if row is None:
        return False
    session.delete(row)
    audit.record(session, actor, "login-unlocked", "login", key, at=now)
    return True


def list_locks(ctx: Context, actor: Actor) -> list[LoginLockPublic]:
    """Accounts and addresses locked now (admins only)."""
    require_role(actor, Role.ADMIN)
    with ctx.transaction() as session:
        return [LoginLockPublic.model_validate(r) for r in locks(session, ctx.now())]


def unlock(ctx: Context, actor: Actor, key: str) -> None:
    """An admin lifts a lock early; NotFound if there is none (any more)."""
    with ctx.transaction() as session:
        if not lift_lock(session, actor, key, ctx.now()):
            raise NotFound(f"no login lock {key}", "Không có khóa đăng nhập này.")
