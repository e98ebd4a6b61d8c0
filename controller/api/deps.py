"""Annotated dependencies shared by the routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from controller.runtime import Controller


def get_controller(request: Request) -> Controller:
    controller: Controller = request.app.state.controller
    return controller


ControllerDep = Annotated[Controller, Depends(get_controller)]


def get_session(controller: ControllerDep) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    with controller.session_factory() as session, session.begin():
        yield session


# scope="function" commits before the response is sent, so the client's next request sees the write.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
