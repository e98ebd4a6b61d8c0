"""Sign in and sign out. The session cookie this sets is the same login the API accepts."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from controller.deps import SESSION_TOKEN, ContextDep, client_of
from controller.errors import Unauthorized
from controller.services import sessions
from controller.services.throttle import LoginThrottled
from controller.web.render import WebRoute, render
from controller.web.security import CsrfChecked, sign_in

log = logging.getLogger(__name__)

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only a path on this site: never another host (`//evil`, `https://...`)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", actor=None, next=safe_next(next), error=None, username="")


@router.post("/login")
def login(
    request: Request,
    ctx: ContextDep,
    _csrf: CsrfChecked,
    username: Annotated[str, Form(max_length=80)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        actor, token = sessions.start(ctx, username.strip(), password, client_of(request))
    except (Unauthorized, LoginThrottled) as exc:
        return render(
            request,
            "login.html",
            actor=None,
            status_code=exc.status_code,
            next=safe_next(next),
            username=username,
            error=exc.message_vi,
        )
    sign_in(request, token)
    log.info("web login: %s", actor.username)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, ctx: ContextDep, _csrf: CsrfChecked) -> Response:
    token = request.session.get(SESSION_TOKEN)
    if isinstance(token, str):
        sessions.end(ctx, token)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
