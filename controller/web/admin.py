"""The admin's sign-in page: each user's live sessions, "sign out everywhere", and login locks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from controller.deps import ContextDep
from controller.errors import NotFound
from controller.services import sessions, throttle
from controller.services.access import require_role
from controller.services.users import Role
from controller.web.render import WebRoute, redirect, render
from controller.web.security import CsrfChecked, WebActor

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/admin/sessions")
def sessions_page(request: Request, actor: WebActor, ctx: ContextDep, user_id: int | None = None) -> Response:
    view = sessions.overview(ctx, actor, user_id)
    return render(
        request,
        "admin_sessions.html",
        actor=actor,
        users=view.users,
        live=view.live,
        chosen=view.chosen,
        rows=view.rows,
        locks=view.locks,
        roles={r.value: r.label_vi for r in Role},
    )


@router.post("/admin/users/{user_id}/sign-out-everywhere")
def sign_out_everywhere(
    request: Request, user_id: int, actor: WebActor, ctx: ContextDep, _csrf: CsrfChecked
) -> Response:
    require_role(actor, Role.ADMIN)
    done = sessions.sign_out_everywhere(ctx, actor, user_id)
    return redirect(
        request, f"/admin/sessions?user_id={user_id}", f"Đã đăng xuất {done.username} khỏi {done.revoked} phiên."
    )


@router.post("/admin/login-locks/unlock")
def unlock(
    request: Request,
    actor: WebActor,
    ctx: ContextDep,
    _csrf: CsrfChecked,
    key: Annotated[str, Form(max_length=160)] = "",
) -> Response:
    try:
        throttle.unlock(ctx, actor, key)
    except NotFound:
        return redirect(request, "/admin/sessions", "Khóa này không còn.", "error")
    return redirect(request, "/admin/sessions", f"Đã mở khóa đăng nhập {key}.")
