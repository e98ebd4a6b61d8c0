"""Sign-in management for API clients: password change, API tokens, sessions and login locks."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request

from controller.deps import ContextDep, CurrentActor, IdPath, client_of
from controller.schemas import (
    ApiTokenCreate,
    ApiTokenPublic,
    ApiTokenSecret,
    LoginLockPublic,
    PasswordChange,
    RevokedCount,
    SessionPublic,
)
from controller.services import api_tokens, sessions, throttle

router = APIRouter(prefix="/api", tags=["account"])


@router.post("/me/password", status_code=204)
def change_password(data: PasswordChange, request: Request, ctx: ContextDep, actor: CurrentActor) -> None:
    """Change your own password. Every session of yours is signed out; API tokens stay valid."""
    sessions.change_password(ctx, actor, data.current_password, data.new_password, client_of(request))


@router.get("/me/tokens")
def list_tokens(ctx: ContextDep, actor: CurrentActor) -> list[ApiTokenPublic]:
    return api_tokens.list_public(ctx, actor)


@router.post("/me/tokens", status_code=201)
def create_token(data: ApiTokenCreate, ctx: ContextDep, actor: CurrentActor) -> ApiTokenSecret:
    """A new API token for `Authorization: Bearer ...`. The token is shown in this answer only."""
    return api_tokens.create(ctx, actor, data.name)


@router.delete("/me/tokens/{token_id}", status_code=204)
def revoke_token(token_id: IdPath, ctx: ContextDep, actor: CurrentActor) -> None:
    api_tokens.revoke(ctx, actor, token_id)


@router.get("/users/{user_id}/sessions")
def list_sessions(user_id: IdPath, ctx: ContextDep, actor: CurrentActor) -> list[SessionPublic]:
    """A user's live sessions (an admin, or the user themself)."""
    return sessions.list_sessions(ctx, actor, user_id)


@router.post("/users/{user_id}/sign-out-everywhere")
def sign_out_everywhere(user_id: IdPath, ctx: ContextDep, actor: CurrentActor) -> RevokedCount:
    """Revoke every session of a user (an admin, or the user themself)."""
    return RevokedCount(revoked=sessions.sign_out_everywhere(ctx, actor, user_id).revoked)


@router.get("/login-locks")
def list_locks(ctx: ContextDep, actor: CurrentActor) -> list[LoginLockPublic]:
    """Accounts and addresses locked now after too many failed logins (admins only)."""
    return throttle.list_locks(ctx, actor)


@router.delete("/login-locks/{key}", status_code=204)
def lift_lock(
    ctx: ContextDep, actor: CurrentActor, key: str = Path(max_length=160, pattern=r"^(user|addr):.+$")
) -> None:
    """Lift a lock early (admins only)."""
    throttle.unlock(ctx, actor, key)
