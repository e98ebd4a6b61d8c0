"""People who sign in, and their passwords (argon2id hashes only; there is no default account)."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import User
from controller.errors import InvalidInput
from controller.services.geo import add_unique, get_commune

MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()
"""argon2-cffi's RFC 9106 low-memory profile; stateless, so one module-level instance is safe."""

# Verifying against this keeps the time for an unknown username the same as for a wrong password.
_DUMMY_HASH = _hasher.hash("loa-xa: no such user")


class Role(StrEnum):
    """What a login may do: see everything, see a province, run a commune, or approve for a commune."""

    ADMIN = "admin"
    PROVINCE = "province"
    OFFICER = "officer"
    LEADER = "leader"

    @property
    def label_vi(self) -> str:
        return {
            Role.ADMIN: "Quản trị hệ thống",
            Role.PROVINCE: "Cán bộ tỉnh (xem báo cáo)",
            Role.OFFICER: "Cán bộ văn hóa - xã hội",
            Role.LEADER: "Lãnh đạo UBND xã",
        }[self]


COMMUNE_ROLES = frozenset({Role.OFFICER, Role.LEADER})


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password shorter than {MIN_PASSWORD_LENGTH} characters",
            f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự.",
        )
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(
    session: Session,
    username: str,
    password: str,
    role: Role,
    *,
    commune_id: int | None = None,
    province_id: int | None = None,
    full_name: str = "",
) -> User:
    """Add a login. Commune officers and leaders must belong to a commune; province viewers to a province."""
    if not username or len(username) > 80 or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise InvalidInput(
            f"bad username {username!r}", "Tên đăng nhập chỉ gồm chữ, số, dấu chấm, gạch ngang hoặc gạch dưới."
        )
    if role in COMMUNE_ROLES:
        if commune_id is None:
            raise InvalidInput(f"role {role} needs a commune", "Cán bộ xã phải thuộc một xã.")
        province_id = get_commune(session, commune_id).province_id
    elif role is Role.PROVINCE and province_id is None:
        raise InvalidInput("role province needs a province", "Tài khoản cấp tỉnh phải thuộc một tỉnh.")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role.value,
        commune_id=commune_id if role in COMMUNE_ROLES else None,
        province_id=province_id if role is not Role.ADMIN else None,
        full_name=full_name,
    )
    add_unique(session, user, f"user {username}", f"Tài khoản {username}")
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, else None (in constant-ish time)."""
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        verify_password(_DUMMY_HASH, password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def list_users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.username)).all()
