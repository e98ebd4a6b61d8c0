"""Annotated dependencies shared by the routes of both front-ends (api/ and web/)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from controller.db.models import User
from controller.runtime import Controller
from controller.services.access import Actor
from controller.services.context import Context


async def get_controller(request: Request) -> Controller:
    controller: Controller = request.app.state.controller
    return controller


ControllerDep = Annotated[Controller, Depends(get_controller)]


def get_context(controller: ControllerDep) -> Context:
    return controller.context()


ContextDep = Annotated[Context, Depends(get_context)]


def get_session(controller: ControllerDep) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    with controller.session_factory() as session, session.begin():
        yield session


# scope="function" commits before the response is sent, so the client's next request sees the write.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def current_actor(request: Request, controller: ControllerDep) -> Actor:
    """The signed-in user: from the web session cookie, or from HTTP Basic credentials for API clients.

    Raises 401 (with a Basic challenge) when neither is present or valid.
    """
    user_id = request.session.get("user_id") if "session" in request.scope else None
    with controller.session_factory() as session:
        user = session.get(User, user_id) if isinstance(user_id, int) else None
        if user is not None and user.active:
            return Actor.of(user)
        credentials = _basic_credentials(request.headers.get("authorization", ""))
        if credentials is not None:
            actor = controller.logins.check(session, *credentials)
            if actor is not None:
                return actor
    raise HTTPException(
        status_code=401,
        detail="Bạn cần đăng nhập.",
        headers={"WWW-Authenticate": 'Basic realm="loa-xa", charset="UTF-8"'},
    )


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic" or not token:
        return None
    try:
        username, sep, password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (username, password) if sep else None


CurrentActor = Annotated[Actor, Depends(current_actor)]
