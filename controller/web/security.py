"""Web sign-in state, CSRF tokens and the commune scope of a page."""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form, Request
from sqlalchemy.orm import Session

from controller.db.models import Commune
from controller.deps import SESSION_TOKEN, ControllerDep, session_actor
from controller.errors import Forbidden, NotFound
from controller.schemas import MAX_ID
from controller.services.access import Actor, require_commune, visible_commune_ids, visible_communes
from controller.services.geo import get_commune
from controller.services.users import Role

log = logging.getLogger(__name__)

SESSION_CSRF = "csrf"


class LoginRequired(Exception):
    """No signed-in user: the page redirects to the login form."""


def csrf_token(request: Request) -> str:
    """This session's CSRF token, created on first use. Every form carries it in a hidden field."""
    token = request.session.get(SESSION_CSRF)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


def check_csrf(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    """Reject a POST whose hidden token does not match the session's (403)."""
    expected = request.session.get(SESSION_CSRF)
    if not isinstance(expected, str) or not expected or not hmac.compare_digest(expected, csrf_token):
        log.warning("CSRF token mismatch on %s %s", request.method, request.url.path)
        raise FormExpired(
            "CSRF token missing or wrong",
            "Biểu mẫu đã hết hạn hoặc không hợp lệ. Hãy tải lại trang rồi thử lại.",
        )


class FormExpired(Forbidden):
    """The form's token does not match the session's (an old tab, a new login): the page sends the browser
    back to the form, where static/forms.js fills in what was typed, with a fresh token."""


CsrfChecked = Annotated[None, Depends(check_csrf)]


def sign_in(request: Request, token: str) -> None:
    """Start a fresh cookie for a new server-side session: nothing from before survives, the CSRF token included."""
    request.session.clear()
    request.session[SESSION_TOKEN] = token
    csrf_token(request)


def web_actor(request: Request, controller: ControllerDep) -> Actor:
    """The signed-in user from the server-side session; otherwise the page sends the browser to the login form."""
    actor = session_actor(request, controller)
    if actor is None:
        raise LoginRequired
    return actor


WebActor = Annotated[Actor, Depends(web_actor)]


@dataclass(frozen=True)
class Scope:
    """Which communes a page shows: `visible` (None: all) and, if one was chosen or implied, `commune`."""

    visible: Collection[int] | None
    commune: Commune | None
    communes: list[Commune]
    """The communes the actor may pick from, for the commune selector."""

    @property
    def commune_id(self) -> int | None:
        return self.commune.id if self.commune else None


def page_scope(session: Session, actor: Actor, commune_id: int | None, *, write: bool = False) -> Scope:
    """The scope of a page. A commune login is pinned to its commune; asking for another is 403."""
    if commune_id is None and actor.role in (Role.OFFICER, Role.LEADER):
        commune_id = actor.commune_id
    visible = visible_commune_ids(session, actor)
    commune: Commune | None = None
    if commune_id is not None and not 1 <= commune_id <= MAX_ID:
        raise NotFound(f"commune {commune_id} out of range", "Không tìm thấy xã.")
    if commune_id is not None:
        require_commune(session, actor, commune_id, write=write)
        commune = get_commune(session, commune_id)
    return Scope(visible, commune, visible_communes(session, actor))
