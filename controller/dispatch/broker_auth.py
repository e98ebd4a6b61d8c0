"""Credentials and topic ACL for the embedded broker.

Each MQTT password is HMAC-SHA256(broker secret, username), so every agent has its own
credential without a password table, and there is no default password anywhere. The secret is
generated on first start and kept in the data directory with mode 0600.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amqtt.contexts import Action
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin

from protocol.topics import Channel

log = logging.getLogger(__name__)

CONTROLLER_USER = "loa-controller"
AGENT_SUBSCRIBE = (Channel.MANIFEST, Channel.COMMANDS)
AGENT_PUBLISH = (Channel.CONFIRMATIONS, Channel.STATE, Channel.TELEMETRY, Channel.SECURITY)


def derive_password(secret: bytes, username: str) -> str:
    """The MQTT password of `username` under this broker secret."""
    return hmac.new(secret, b"loa-xa mqtt\n" + username.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class DerivedCredentials:
    """`(username, password)` for any client of a broker with this secret.

    A plain picklable callable, so simulator worker processes can take it in their `FleetSpec`.
    """

    secret: bytes

    def __call__(self, username: str) -> tuple[str, str]:
        return username, derive_password(self.secret, username)


def load_or_create_secret(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        tmp.replace(path)
    return bytes.fromhex(path.read_text().strip())


class HmacAuthPlugin(BaseAuthPlugin):  # type: ignore[misc]
    """Accepts a client only if its password is the HMAC of its username. No anonymous access.

    One session per identity: an agent's client id must be its login name. amqtt otherwise let one agent's
    login reconnect under another agent's client id and then checked the real agent's session against the
    intruder's ACL, which silenced it. Only the controller's own login may pick its client id (tests and the
    simulator run several controllers on one broker); it holds the broker's secret anyway.
    """

    @dataclass
    class Config:
        secret_hex: str = ""
        controller_user: str = CONTROLLER_USER

    async def authenticate(self, *, session: Any) -> bool:
        secret_hex = self._get_config_option("secret_hex", "")
        if not secret_hex or not session or not session.username or session.password is None:
            return False
        password = session.password
        if isinstance(password, bytes):
            password = password.decode("utf-8", "replace")
        if not hmac.compare_digest(derive_password(bytes.fromhex(secret_hex), session.username), str(password)):
            return False
        controller = self._get_config_option("controller_user", CONTROLLER_USER)
        if session.username != controller and session.client_id != session.username:
            log.warning("refused %s logging in with client id %r: an agent's id must be its login", session.username,
                        session.client_id)  # fmt: skip
            return False
        return True


class AgentTopicAclPlugin(BaseTopicPlugin):  # type: ignore[misc]
    """An agent may subscribe to its own manifest and commands and publish only its own reports."""

    @dataclass
    class Config:
        topic_root: str = "loa/v1"
        controller_user: str = CONTROLLER_USER

    async def topic_filtering(
        self, *, session: Any = None, topic: str | None = None, action: Action | None = None
    ) -> bool:
        user = session.username if session else None
        if not user or not topic:
            return False
        if user == self._get_config_option("controller_user", CONTROLLER_USER):
            return True
        own = f"{self._get_config_option('topic_root', 'loa/v1')}/agents/{user}"
        if action == Action.SUBSCRIBE:
            channels: tuple[Channel, ...] = AGENT_SUBSCRIBE
        elif action == Action.PUBLISH:
            channels = AGENT_PUBLISH
        else:
            channels = AGENT_SUBSCRIBE
        return any(_matches(f"{own}/{c.value}", topic) for c in channels)


def _matches(pattern: str, topic: str) -> bool:
    """Level-by-level match where `+` in the pattern (the configured root) stands for one level.

    A `+` or `#` in the client's own topic never matches: agents may not subscribe with wildcards.
    """
    want, got = pattern.split("/"), topic.split("/")
    return len(want) == len(got) and all(
        w == g or (w == "+" and g not in ("+", "#")) for w, g in zip(want, got, strict=True)
    )
