"""Sign-in management for API clients: password change, API tokens, sessions and login locks."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request

from controller.api.deps import ControllerDep, CurrentActor, IdPath, client_of
from controller.db.session import transaction
from controller.errors import NotFound
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
from controller.services.access import require_role
from controller.services.users import Role

router = APIRouter(prefix="/api", tags=["account"])


@router.post("/me/password", status_code=204)
def change_password(data: PasswordChange, request: Request, controller: ControllerDep, actor: CurrentActor) -> None:
    """Change your own password. Every session of yours is signed out; API tokens stay valid."""
    sessions.change_password(
        controller.session_factory,
        actor,
        data.current_password,
        data.new_password,
        client_of(request),
        controller.clock.now(),
    )


@router.get("/me/tokens")
def list_tokens(controller: ControllerDep, actor: CurrentActor) -> list[ApiTokenPublic]:
    with transaction(controller.session_factory) as session:
        return [ApiTokenPublic.model_validate(t) for t in api_tokens.list_tokens(session, actor)]


@router.post("/me/tokens", status_code=201)
def create_token(data: ApiTokenCreate, controller: ControllerDep, actor: CurrentActor) -> ApiTokenSecret:
    """A new API token for `Authorization: Bearer ...`. The token is shown in this answer only."""
    with transaction(controller.session_factory) as session:
        row, secret = api_tokens.create_token(session, actor, data.name, controller.clock.now())
        return ApiTokenSecret(**ApiTokenPublic.model_validate(row).model_dump(), token=secret)


@router.delete("/me/tokens/{token_id}", status_code=204)
def revoke_token(token_id: IdPath, controller: ControllerDep, actor: CurrentActor) -> None:
    with transaction(controller.session_factory) as session:
        api_tokens.revoke_token(session, actor, token_id, controller.clock.now())


@router.get("/users/{user_id}/sessions")
def list_sessions(user_id: IdPath, controller: ControllerDep, actor: CurrentActor) -> list[SessionPublic]:
    """A user's live sessions (an admin, or the user themself)."""
    with transaction(controller.session_factory) as session:
        rows = sessions.active_sessions(session, actor, user_id, controller.clock.now())
        return [SessionPublic.model_validate(r) for r in rows]


@router.post("/users/{user_id}/sign-out-everywhere")
def sign_out_everywhere(user_id: IdPath, controller: ControllerDep, actor: CurrentActor) -> RevokedCount:
    """Revoke every session of a user (an admin, or the user themself)."""
    with transaction(controller.session_factory) as session:
        return RevokedCount(revoked=sessions.sign_out_everywhere(session, actor, user_id, controller.clock.now()))


@router.get("/login-locks")
def list_locks(controller: ControllerDep, actor: CurrentActor) -> list[LoginLockPublic]:
    """Accounts and addresses locked now after too many failed logins (admins only)."""
    require_role(actor, Role.ADMIN)
    with transaction(controller.session_factory) as session:
        return [LoginLockPublic.model_validate(r) for r in throttle.locks(session, controller.clock.now())]


@router.delete("/login-locks/{key}", status_code=204)
def lift_lock(
    controller: ControllerDep, actor: CurrentActor, key: str = Path(max_length=160, pattern=r"^(user|addr):.+$")
) -> None:
    """Lift a lock early (admins only)."""
    with transaction(controller.session_factory) as session:
        if not throttle.lift_lock(session, actor, key, controller.clock.now()):
            raise NotFound(f"no login lock {key}", "Không có khóa đăng nhập này.")
