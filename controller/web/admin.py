"""The admin's sign-in page: each user's live sessions, "sign out everywhere", and login locks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from sqlalchemy import func, select

from controller.api.deps import ControllerDep
from controller.db.models import UserSession
from controller.db.session import transaction
from controller.services import sessions, throttle
from controller.services.access import require_role
from controller.services.users import Role, list_users
from controller.web.render import WebRoute, redirect, render
from controller.web.security import CsrfChecked, WebActor

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/admin/sessions")
def sessions_page(request: Request, actor: WebActor, controller: ControllerDep, user_id: int | None = None) -> Response:
    require_role(actor, Role.ADMIN)
    now = controller.clock.now()
    with transaction(controller.session_factory) as session:
        counts = session.execute(
            select(UserSession.user_id, func.count())
            .where(UserSession.revoked_at.is_(None), UserSession.expires_at > now)
            .group_by(UserSession.user_id)
        )
        live = {user: count for user, count in counts}
        users = list(list_users(session))
        chosen = next((u for u in users if u.id == user_id), None)
        rows = sessions.active_sessions(session, actor, chosen.id, now) if chosen else []
        locks = throttle.locks(session, now)
        return render(
            request,
            "admin_sessions.html",
            actor=actor,
            users=users,
            live=live,
            chosen=chosen,
            rows=rows,
            locks=locks,
            roles={r.value: r.label_vi for r in Role},
        )


@router.post("/admin/users/{user_id}/sign-out-everywhere")
def sign_out_everywhere(
    request: Request, user_id: int, actor: WebActor, controller: ControllerDep, _csrf: CsrfChecked
) -> Response:
    require_role(actor, Role.ADMIN)
    with transaction(controller.session_factory) as session:
        name = sessions.get_user(session, user_id).username
        count = sessions.sign_out_everywhere(session, actor, user_id, controller.clock.now())
    return redirect(request, f"/admin/sessions?user_id={user_id}", f"Đã đăng xuất {name} khỏi {count} phiên.")


@router.post("/admin/login-locks/unlock")
def unlock(
    request: Request,
    actor: WebActor,
    controller: ControllerDep,
    _csrf: CsrfChecked,
    key: Annotated[str, Form(max_length=160)] = "",
) -> Response:
    with transaction(controller.session_factory) as session:
        lifted = throttle.lift_lock(session, actor, key, controller.clock.now())
    if not lifted:
        return redirect(request, "/admin/sessions", "Khóa này không còn.", "error")
    return redirect(request, "/admin/sessions", f"Đã mở khóa đăng nhập {key}.")
