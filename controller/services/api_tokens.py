"""Per-user API tokens: API clients send `Authorization: Bearer loa_...` instead of a password.

Only the SHA-256 of a token is stored; the token itself is shown once, when it is made. Tokens are revoked
by their owner or an admin, and stop working at once.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import ApiToken, User
from controller.errors import Forbidden, InvalidInput, NotFound
from controller.schemas import ApiTokenPublic, ApiTokenSecret
from controller.services import audit
from controller.services.access import Actor
from controller.services.context import Context
from controller.services.sessions import token_hash

PREFIX = "loa_"
MAX_TOKENS_PER_USER = 20


def create_token(session: Session, actor: Actor, name: str, now: datetime) -> tuple[ApiToken, str]:
    """A new token for the signed-in user. Returns the row and the secret, which is never shown again."""
    if actor.user_id is None:
        raise Forbidden("the system actor cannot hold API tokens", "Tài khoản này không tạo được mã truy cập.")
    name = name.strip()
    if not name or len(name) > 80:
        raise InvalidInput(f"bad token name {name!r}", "Tên mã truy cập phải có từ 1 đến 80 ký tự.")
    live = session.scalars(
        select(ApiToken.id).where(ApiToken.user_id == actor.user_id, ApiToken.revoked_at.is_(None))
    ).all()
    if len(live) >= MAX_TOKENS_PER_USER:
        raise InvalidInput(
            f"{actor.username} already has {len(live)} tokens",
            f"Mỗi tài khoản có tối đa {MAX_TOKENS_PER_USER} mã truy cập. Hãy thu hồi mã cũ trước.",
        )
    secret = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=actor.user_id,
        name=name,
        token_hash=token_hash(secret),
        prefix=secret[: len(PREFIX) + 6],
        created_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "api-token-created", "api_token", row.id, detail=name, at=now)
    return row, secret


def list_tokens(session: Session, actor: Actor) -> Sequence[ApiToken]:
    """The signed-in user's live tokens."""
    stmt = (
        select(ApiToken)
        .where(ApiToken.user_id == actor.user_id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return session.scalars(stmt).all()


def revoke_token(session: Session, actor: Actor, token_id: int, now: datetime) -> None:
    """Revoke a token: its owner or an admin. Unknown or another user's token is 404 (no probing)."""
    row = session.get(ApiToken, token_id)
    if row is None or row.revoked_at is not None or (row.user_id != actor.user_id and not actor.is_admin):
        raise NotFound(f"api token {token_id} not found", "Không tìm thấy mã truy cập.")
    row.revoked_at = now
    audit.record(session, actor, "api-token-revoked", "api_token", row.id, at=now)


def resolve_token(session: Session, secret: str, now: datetime) -> Actor | None:
    """The actor behind a live bearer token, or None."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash(secret))).first()
    if row is None or row.revoked_at is not None:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() >= 60:
        row.last_used_at = now
    return Actor.of(user)


def create(ctx: Context, actor: Actor, name: str) -> ApiTokenSecret:
    """A new token for the signed-in user; the answer is the only place its secret appears."""
    with ctx.transaction() as session:
        row, secret = create_token(session, actor, name, ctx.now())
        return ApiTokenSecret(**ApiTokenPublic.model_validate(row).model_dump(), token=secret)


def list_public(ctx: Context, actor: Actor) -> list[ApiTokenPublic]:
    with ctx.transaction() as session:
        return [ApiTokenPublic.model_validate(t) for t in list_tokens(session, actor)]


def revoke(ctx: Context, actor: Actor, token_id: int) -> None:
    with ctx.transaction() as session:
        revoke_token(session, actor, token_id, ctx.now())


def resolve(ctx: Context, secret: str) -> Actor | None:
    """The actor behind a live bearer token, or None (notes when it was last used, at most once a minute)."""
    with ctx.transaction() as session:
        return resolve_token(session, secret, ctx.now())
