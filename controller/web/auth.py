"""Sign in and sign out. The session cookie this sets is the same login the API accepts."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from controller.db.session import transaction
from controller.deps import ControllerDep
from controller.services.users import authenticate
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
    controller: ControllerDep,
    _csrf: CsrfChecked,
    username: Annotated[str, Form(max_length=80)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    with transaction(controller.session_factory) as session:
        user = authenticate(session, username.strip(), password)
        if user is not None:
            sign_in(request, user)
            log.info("web login: %s", user.username)
            return RedirectResponse(safe_next(next), status_code=303)
    log.info("web login failed for %r", username)
    return render(
        request,
        "login.html",
        actor=None,
        status_code=401,
        next=safe_next(next),
        username=username,
        error="Tên đăng nhập hoặc mật khẩu không đúng.",
    )


@router.post("/logout")
def logout(request: Request, _csrf: CsrfChecked) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
