"""Annotated dependencies shared by the routes of both front-ends (api/ and web/)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request
from sqlalchemy.orm import Session

from controller.errors import Unauthorized
from controller.runtime import Controller
from controller.schemas import MAX_ID
from controller.services import api_tokens, sessions
from controller.services.access import Actor
from controller.services.context import Context
from controller.services.sessions import Client


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


SESSION_TOKEN = "sid"
"""The key of the server-side session token inside the signed session cookie."""


def client_of(request: Request) -> Client:
    """The caller's address and user agent (the direct peer; put the proxy's address rules in the proxy)."""
    address = request.client.host if request.client else "unknown"
    return Client(address, request.headers.get("user-agent", "")[:200])


def session_actor(request: Request, controller: Controller) -> Actor | None:
    """The actor of the browser's server-side session, if the cookie names a live one."""
    token = request.session.get(SESSION_TOKEN) if "session" in request.scope else None
    if not isinstance(token, str):
        return None
    return sessions.resolve(controller.context(), token)


def current_actor(request: Request, controller: ControllerDep) -> Actor:
    """The signed-in user: from the web session, a Bearer API token, or HTTP Basic credentials.

    Raises 401 (with a Basic challenge) when none is present or valid, and 429 while logins are throttled.
    """
    actor = session_actor(request, controller)
    if actor is not None:
        return actor
    ctx = controller.context()
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value:
        actor = api_tokens.resolve(ctx, value.strip())
        if actor is not None:
            return actor
    credentials = _basic_credentials(header)
    if credentials is not None:
        try:
            return sessions.check_password(ctx, *credentials, client_of(request), controller.logins)
        except Unauthorized:
            pass
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


IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="a database id, 1 to 2³¹−1")]
"""An integer id in the URL path, bounded to what both databases hold (no OverflowError, no 500)."""

IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID, description="a database id, 1 to 2³¹−1")]
"""An optional integer id in the query string, bounded the same way."""
