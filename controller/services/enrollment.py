"""Enrolment of a new loudspeaker post with a one-time token the admin issues.

The token is `loa-enroll.v1.<payload>.<mac>`, both parts base64url: the payload is JSON naming
the agent id, the commune code (and optionally village and name), an expiry and a random
nonce; the MAC is HMAC-SHA256 under a key derived from the controller's `mqtt_secret` (the same
secret the per-agent MQTT passwords come from, generated on first start, mode 0600). So a token
cannot be forged or re-bound to another agent or commune, lapses on its own, and is accepted
once: its nonce is recorded in `{data_dir}/enroll_used_nonces` when it is redeemed.

Redeeming registers the agent (or accepts a re-enrolment of the same agent in the same commune,
e.g. a Pi replaced after a storm) and returns what the Pi needs: its MQTT login, the broker URL,
the controller's public key and topic root, and the media base URL.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Agent, Commune
from controller.dispatch.broker_auth import derive_password, load_or_create_secret
from controller.errors import Conflict, ControllerError, NotFound
from controller.schemas import AgentCreate
from controller.services import geo
from controller.services.context import Context
from protocol.topics import check_agent_id

PREFIX = "loa-enroll.v1."
DEFAULT_TTL_S = 7 * 24 * 3600
USED_FILE = "enroll_used_nonces"
_used_lock = threading.Lock()


class InvalidToken(ControllerError):
    """The enrolment token is malformed, forged, expired or already used."""

    status_code = 401


@dataclass(frozen=True)
class EnrollmentClaims:
    """What a token allows: enrolling exactly this agent id in exactly this commune, until `expires_at`."""

    agent_id: str
    commune_code: str
    expires_at: int
    nonce: str
    village_id: int | None = None
    name: str = ""


@dataclass(frozen=True)
class EnrollmentResult:
    """What the enrol script writes into the Pi's config."""

    agent_id: str
    commune_code: str
    username: str
    password: str
    broker_url: str
    controller_public_key: str
    topic_root: str
    media_base_url: str
    registered: bool


def token_key(secret: bytes) -> bytes:
    """The token MAC key, derived so it is never the broker password key itself."""
    return hmac.new(secret, b"loa-xa enrolment token v1", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mint_token(
    secret: bytes,
    agent_id: str,
    commune_code: str,
    *,
    ttl_s: int = DEFAULT_TTL_S,
    village_id: int | None = None,
    name: str = "",
    now: float | None = None,
) -> str:
    """An enrolment token for one agent in one commune, valid for `ttl_s` seconds, usable once."""
    check_agent_id(agent_id)
    claims = {
        "agent_id": agent_id,
        "commune_code": commune_code,
        "exp": int((now if now is not None else time.time()) + ttl_s),
        "nonce": secrets.token_hex(16),
        "village_id": village_id,
        "name": name,
    }
    payload = _b64(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    mac = hmac.new(token_key(secret), payload.encode("ascii"), hashlib.sha256).digest()
    return f"{PREFIX}{payload}.{_b64(mac)}"


def read_token(secret: bytes, token: str, *, now: float | None = None) -> EnrollmentClaims:
    """Check a token's MAC and expiry and return its claims; `InvalidToken` otherwise."""
    bad = InvalidToken("invalid enrolment token", "Mã đăng ký không hợp lệ.")
    if not token.startswith(PREFIX) or token.count(".") != 3:
        raise bad
    payload, _, mac_text = token[len(PREFIX) :].partition(".")
    try:
        mac = _unb64(mac_text)
        claims: dict[str, Any] = json.loads(_unb64(payload))
    except (binascii.Error, ValueError):
        raise bad from None
    expected = hmac.new(token_key(secret), payload.encode("ascii"), hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected):
        raise bad
    try:
        result = EnrollmentClaims(
            agent_id=check_agent_id(str(claims["agent_id"])),
            commune_code=str(claims["commune_code"]),
            expires_at=int(claims["exp"]),
            nonce=str(claims["nonce"]),
            village_id=int(claims["village_id"]) if claims.get("village_id") is not None else None,
            name=str(claims.get("name") or ""),
        )
    except (KeyError, TypeError, ValueError):
        raise bad from None
    if result.expires_at <= (now if now is not None else time.time()):
        raise InvalidToken("enrolment token expired", "Mã đăng ký đã hết hạn; xin quản trị viên cấp mã mới.")
    return result


def _spend_nonce(data_dir: Path, claims: EnrollmentClaims, now: float) -> None:
    """Record the token as used; `InvalidToken` if it already was. Expired entries are dropped."""
    path = data_dir / USED_FILE
    with _used_lock:
        used: dict[str, int] = {}
        if path.exists():
            for line in path.read_text().splitlines():
                nonce, _, exp = line.partition(" ")
                if exp.isdigit() and int(exp) > now:
                    used[nonce] = int(exp)
        if claims.nonce in used:
            raise InvalidToken("enrolment token already used", "Mã đăng ký này đã được dùng.")
        used[claims.nonce] = claims.expires_at
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "w") as fh:
            fh.writelines(f"{n} {e}\n" for n, e in used.items())
        tmp.replace(path)


def commune_by_code(session: Session, code: str) -> Commune:
    row = session.scalars(select(Commune).where(Commune.code == code)).first()
    if row is None:
        raise NotFound(f"commune {code} not found", f"Không tìm thấy xã mã {code}.")
    return row


def enroll(
    session: Session,
    *,
    secret: bytes,
    data_dir: Path,
    token: str,
    broker_url: str,
    controller_public_key: str,
    topic_root: str,
    media_base_url: str,
    credentials: tuple[str, str] | None = None,
    now: float | None = None,
) -> EnrollmentResult:
    """Redeem a token: register the agent (unless it is a re-enrolment) and hand out its login.

    `credentials` is the broker's own answer for this agent (the embedded broker's); without it
    the password is derived from `secret` as the embedded broker would, for Mosquitto's password
    file (firmware_config/mosquitto/).
    """
    now = time.time() if now is None else now
    claims = read_token(secret, token, now=now)
    commune = commune_by_code(session, claims.commune_code)
    existing = session.get(Agent, claims.agent_id)
    if existing is not None and existing.commune_id != commune.id:
        raise Conflict(
            f"agent {claims.agent_id} is registered in another commune",
            f"Cụm loa {claims.agent_id} đã thuộc xã khác.",
        )
    _spend_nonce(data_dir, claims, now)
    if existing is None:
        geo.register_agent(
            session,
            AgentCreate(id=claims.agent_id, commune_id=commune.id, village_id=claims.village_id, name=claims.name),
        )
    username, password = credentials or (claims.agent_id, derive_password(secret, claims.agent_id))
    return EnrollmentResult(
        agent_id=claims.agent_id,
        commune_code=claims.commune_code,
        username=username,
        password=password,
        broker_url=broker_url,
        controller_public_key=controller_public_key,
        topic_root=topic_root,
        media_base_url=media_base_url,
        registered=existing is None,
    )


def enroll_agent(
    ctx: Context,
    token: str,
    *,
    broker_url: str,
    controller_public_key: str,
    topic_root: str,
    credentials_for: Callable[[str], tuple[str, str]] | None = None,
) -> EnrollmentResult:
    """Redeem a token in one transaction; a newly registered cluster gets its first manifest after the commit.

    `credentials_for(agent_id)` is the embedded broker's login for the agent, when there is one.
    """
    secret = load_or_create_secret(ctx.settings.data_dir / "mqtt_secret")
    claims = read_token(secret, token)
    with ctx.transaction() as session:
        result = enroll(
            session,
            secret=secret,
            data_dir=ctx.settings.data_dir,
            token=token,
            broker_url=broker_url,
            controller_public_key=controller_public_key,
            topic_root=topic_root,
            media_base_url=ctx.base_url,
            credentials=credentials_for(claims.agent_id) if credentials_for else None,
        )
    if result.registered:
        ctx.dispatcher.refresh([result.agent_id])
    return result


def main(argv: list[str] | None = None) -> int:
    """`python -m controller.services.enrollment --data-dir var AGENT_ID COMMUNE_CODE`: print a token."""
    parser = argparse.ArgumentParser(description="Issue a one-time enrolment token for a new loudspeaker post.")
    parser.add_argument("agent_id")
    parser.add_argument("commune_code")
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("LOA_DATA_DIR", "var")))
    parser.add_argument("--days", type=float, default=DEFAULT_TTL_S / 86400, help="validity, days (default 7)")
    parser.add_argument("--village-id", type=int)
    parser.add_argument("--name", default="")
    args = parser.parse_args(argv)
    secret = load_or_create_secret(args.data_dir / "mqtt_secret")
    print(
        mint_token(
            secret,
            args.agent_id,
            args.commune_code,
            ttl_s=int(args.days * 86400),
            village_id=args.village_id,
            name=args.name,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
