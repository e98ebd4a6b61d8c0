"""Who may see and change what: a commune login reaches only its own commune."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Commune, User
from controller.errors import Forbidden
from controller.services.users import Role, authenticate

SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """The signed-in person behind a request, or the system itself (CLI, jobs, file imports)."""

    username: str
    role: Role
    commune_id: int | None = None
    province_id: int | None = None
    user_id: int | None = None

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.username, Role(user.role), user.commune_id, user.province_id, user.id)

    @classmethod
    def system(cls, name: str = SYSTEM) -> Actor:
        """Local administrative access: the CLI and background jobs, which run on the controller host."""
        return cls(name, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def can_edit(self) -> bool:
        """Province viewers only read; everyone else changes things within their reach."""
        return self.role is not Role.PROVINCE


def can_see_commune(session: Session, actor: Actor, commune_id: int) -> bool:
    if actor.is_admin:
        return True
    if actor.role is Role.PROVINCE:
        province = session.scalar(select(Commune.province_id).where(Commune.id == commune_id))
        return province is not None and province == actor.province_id
    return actor.commune_id == commune_id


def require_commune(session: Session, actor: Actor, commune_id: int | None, *, write: bool = False) -> None:
    """Raise Forbidden unless the actor may see (or, with `write`, change) this commune's data.

    Province-wide data (`commune_id` None, such as a province bulletin) is readable by everyone and
    writable only by admins and province accounts... which are read-only, so by admins.
    """
    if commune_id is None:
        if write and not actor.is_admin:
            raise Forbidden(
                f"{actor.username} may not change province-wide data", "Bạn không có quyền sửa dữ liệu chung."
            )
        return
    if not can_see_commune(session, actor, commune_id):
        raise Forbidden(
            f"{actor.username} may not reach commune {commune_id}", "Bạn không có quyền truy cập dữ liệu của xã này."
        )
    if write and not actor.can_edit:
        raise Forbidden(f"{actor.username} has read-only access", "Tài khoản của bạn chỉ được xem, không được sửa.")


def require_role(actor: Actor, *roles: Role) -> None:
    if actor.role not in roles and not actor.is_admin:
        names = ", ".join(r.label_vi for r in roles)
        raise Forbidden(f"{actor.username} ({actor.role}) is not one of {roles}", f"Chỉ {names} được làm việc này.")


def visible_commune_ids(session: Session, actor: Actor) -> list[int] | None:
    """The communes an actor may see, or None for all of them."""
    if actor.is_admin:
        return None
    if actor.role is Role.PROVINCE:
        return list(session.scalars(select(Commune.id).where(Commune.province_id == actor.province_id)))
    return [actor.commune_id] if actor.commune_id is not None else []


def visible_communes(session: Session, actor: Actor) -> list[Commune]:
    """The communes an actor may see, by name (for the pages' commune selector)."""
    stmt = select(Commune).order_by(Commune.name)
    visible = visible_commune_ids(session, actor)
    if visible is not None:
        stmt = stmt.where(Commune.id.in_(visible))
    return list(session.scalars(stmt))


class LoginCache:
    """Remembers HTTP Basic logins for a minute, so API clients do not pay an argon2 hash per request.

    Keyed by a SHA-256 of username and password, never the password itself; a hit still reads the user
    row, so a changed password or a deactivated account is noticed at once.
    """

    def __init__(self, ttl_s: float = 60.0, max_entries: int = 1024) -> None:
        self._ttl = ttl_s
        self._max = max_entries
        self._entries: dict[str, tuple[Actor, float, str]] = {}
        self._lock = threading.Lock()

    def check(self, session: Session, username: str, password: str) -> Actor | None:
        key = hashlib.sha256(f"{username}\0{password}".encode()).hexdigest()
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and hit[1] > now:
            # A cheap lookup, not a hash: a changed password or a deactivated account is noticed at once.
            user = session.scalars(select(User).where(User.username == username)).first()
            if user is not None and user.active and user.password_hash == hit[2]:
                return hit[0]
        user = authenticate(session, username, password)
        if user is None:
            return None
        actor = Actor.of(user)
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.clear()
            self._entries[key] = (actor, now + self._ttl, user.password_hash)
        return actor
