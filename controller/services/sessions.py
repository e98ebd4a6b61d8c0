"""Server-side sign-in sessions: the cookie holds a random token, the database its hash, expiry and last use.

Logging out, changing the password and an admin's "sign out everywhere" revoke sessions, so a copied
cookie stops working. Every password check (web form and HTTP Basic alike) goes through the throttle.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from controller.db.models import LoginThrottle, User, UserSession
from controller.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from controller.schemas import SessionPublic
from controller.services import audit, throttle
from controller.services.access import Actor, LoginCache, require_role
from controller.services.context import Context
from controller.services.users import Role, authenticate, hash_password, list_users

log = logging.getLogger(__name__)

TOUCH_EVERY = timedelta(minutes=1)
"""last_seen_at is written at most this often per session, not on every request."""

WRONG_LOGIN_VI = "Tên đăng nhập hoặc mật khẩu không đúng."


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Client:
    """Where a request comes from: its address and (for sessions) its user agent."""

    address: str
    user_agent: str = ""


def check_password(
    ctx: Context, username: str, password: str, client: Client, cache: LoginCache | None = None
) -> Actor:
    """The actor for this username and password, through the throttle; commits the failure count.

    Raises LoginThrottled (429) while a key waits or is locked, and Unauthorized (401) on a wrong login.
    """
    attempt = throttle.Attempt(username, client.address)
    error: throttle.LoginThrottled | None = None
    actor: Actor | None = None
    now = ctx.now()
    with ctx.transaction() as session:
        try:
            throttle.check_allowed(session, attempt, now)
        except throttle.LoginThrottled as exc:
            error = exc  # the early attempt was counted; commit it, then refuse
        else:
            if cache is not None:
                actor = cache.check(session, username, password)
            else:
                user = authenticate(session, username, password)
                actor = Actor.of(user) if user is not None else None
            if actor is None:
                throttle.record_failure(session, attempt, now)
            else:
                throttle.record_success(session, attempt)
    if error is not None:
        raise error
    if actor is None:
        log.info("login failed for %r from %s", username, client.address)
        raise Unauthorized(f"wrong login for {username!r}", WRONG_LOGIN_VI)
    return actor


def start(ctx: Context, username: str, password: str, client: Client) -> tuple[Actor, str]:
    """Check the password (throttled) and open a session. Returns the actor and the cookie token."""
    actor = check_password(ctx, username, password, client)
    token = secrets.token_urlsafe(32)
    now = ctx.now()
    max_age = timedelta(seconds=ctx.settings.session_max_age_s)
    with ctx.transaction() as session:
        assert actor.user_id is not None
        session.add(
            UserSession(
                id=token_hash(token),
                user_id=actor.user_id,
                created_at=now,
                expires_at=now + max_age,
                last_seen_at=now,
                user_agent=client.user_agent[:200],
                address=client.address[:64],
            )
        )
        audit.record(session, actor, "login", "user", actor.user_id, detail=client.address, at=now)
    log.info("signed in: %s from %s", actor.username, client.address)
    return actor, token


def resolve(ctx: Context, token: str) -> Actor | None:
    """The actor of a live session token, or None (unknown, revoked, expired, or the user deactivated)."""
    if not token or len(token) > 200:
        return None
    now = ctx.now()
    with ctx.transaction() as session:
        row = session.get(UserSession, token_hash(token))
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            return None
        user = session.get(User, row.user_id)
        if user is None or not user.active:
            return None
        if now - row.last_seen_at >= TOUCH_EVERY:
            row.last_seen_at = now
        return Actor.of(user)


def end(ctx: Context, token: str) -> None:
    """Log out: revoke this session (nothing happens for an unknown token)."""
    if not token or len(token) > 200:
        return
    now = ctx.now()
    with ctx.transaction() as session:
        row = session.get(UserSession, token_hash(token))
        if row is not None and row.revoked_at is None:
            row.revoked_at = now
            user = session.get(User, row.user_id)
            who = Actor.of(user) if user is not None else Actor.system()
            audit.record(session, who, "logout", "user", row.user_id, at=now)


def _revoke_all(session: Session, user_id: int, now: datetime) -> int:
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _require_self_or_admin(actor: Actor, user_id: int) -> None:
    if not actor.is_admin and actor.user_id != user_id:
        raise Forbidden(
            f"{actor.username} may not manage user {user_id}'s sessions", "Bạn không có quyền làm việc này."
        )


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found", "Không tìm thấy tài khoản.")
    return user


@dataclass(frozen=True)
class SignedOut:
    username: str
    revoked: int


def sign_out_everywhere(ctx: Context, actor: Actor, user_id: int) -> SignedOut:
    """Revoke every session of a user (an admin, or the user themself). Returns how many were live."""
    _require_self_or_admin(actor, user_id)
    now = ctx.now()
    with ctx.transaction() as session:
        name = get_user(session, user_id).username
        count = _revoke_all(session, user_id, now)
        audit.record(session, actor, "sign-out-everywhere", "user", user_id, detail=f"{count} sessions", at=now)
    return SignedOut(name, count)


def list_sessions(ctx: Context, actor: Actor, user_id: int) -> list[SessionPublic]:
    """A user's live sessions, newest use first (an admin, or the user themself)."""
    with ctx.transaction() as session:
        return [SessionPublic.model_validate(r) for r in active_sessions(session, actor, user_id, ctx.now())]


@dataclass(frozen=True)
class SessionsOverview:
    """The admin's sign-in page: every user with their count of live sessions, one user's sessions, the locks."""

    users: list[User]
    live: dict[int, int]
    chosen: User | None
    rows: Sequence[UserSession]
    locks: list[LoginThrottle]


def overview(ctx: Context, actor: Actor, user_id: int | None) -> SessionsOverview:
    require_role(actor, Role.ADMIN)
    now = ctx.now()
    with ctx.transaction() as session:
        counts = session.execute(
            select(UserSession.user_id, func.count())
            .where(UserSession.revoked_at.is_(None), UserSession.expires_at > now)
            .group_by(UserSession.user_id)
        )
        live = {user: count for user, count in counts}
        users = list(list_users(session))
        chosen = next((u for u in users if u.id == user_id), None)
        rows = active_sessions(session, actor, chosen.id, now) if chosen else []
        return SessionsOverview(users, live, chosen, rows, throttle.locks(session, now))


def active_sessions(session: Session, actor: Actor, user_id: int, now: datetime) -> Sequence[UserSession]:
    """A user's live sessions, newest use first (an admin, or the user themself)."""
    _require_self_or_admin(actor, user_id)
    get_user(session, user_id)
    stmt = (
        select(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None), UserSession.expires_at > now)
        .order_by(UserSession.last_seen_at.desc())
    )
    return session.scalars(stmt).all()


def change_password(ctx: Context, actor: Actor, current: str, new: str, client: Client) -> None:
    """The signed-in user changes their password; every session of theirs is revoked (sign in again).

    The current password is checked through the throttle, so a stolen session cannot guess it freely.
    """
    if actor.user_id is None:
        raise Forbidden("the system actor has no password", "Tài khoản này không có mật khẩu.")
    try:
        check_password(ctx, actor.username, current, client)
    except Unauthorized:
        raise InvalidInput("wrong current password", "Mật khẩu hiện tại không đúng.") from None
    now = ctx.now()
    with ctx.transaction() as session:
        user = get_user(session, actor.user_id)
        user.password_hash = hash_password(new)
        count = _revoke_all(session, user.id, now)
        audit.record(session, actor, "password-changed", "user", user.id, detail=f"{count} sessions revoked", at=now)
