"""The v1 topic scheme. Every agent has its own subtree under `{root}/agents/{agent_id}/`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from protocol.errors import ProtocolError

AGENT_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
"""Lowercase letters, digits, `-` and `_`: no MQTT wildcard, and no `.`, which NATS refuses in MQTT topics."""
_AGENT_ID_RE = re.compile(AGENT_ID_PATTERN)


class Channel(StrEnum):
    """The per-agent topics. Direction and retention are documented in docs/protocol.md."""

    MANIFEST = "manifest"  # controller -> agent, signed, retained
    COMMANDS = "commands"  # controller -> agent, signed
    CONFIRMATIONS = "confirmations"  # agent -> controller
    STATE = "state"  # agent -> controller, retained, Last Will
    TELEMETRY = "telemetry"  # agent -> controller
    SECURITY = "security"  # agent -> controller: rejected messages


def check_agent_id(agent_id: str) -> str:
    """Return `agent_id` if it is a safe topic level, else raise."""
    if not _AGENT_ID_RE.fullmatch(agent_id):
        raise ProtocolError(f"invalid agent id {agent_id!r}: expected {AGENT_ID_PATTERN}")
    return agent_id


@dataclass(frozen=True)
class Topics:
    """Builds and parses topics under one root. Tests give each run its own root."""

    root: str = "loa/v1"

    def __post_init__(self) -> None:
        if not self.root or any(c in self.root for c in "+#") or self.root.endswith("/"):
            raise ProtocolError(f"invalid topic root {self.root!r}")

    def for_agent(self, agent_id: str, channel: Channel) -> str:
        return f"{self.root}/agents/{check_agent_id(agent_id)}/{channel.value}"

    def manifest(self, agent_id: str) -> str:
        return self.for_agent(agent_id, Channel.MANIFEST)

    def commands(self, agent_id: str) -> str:
        return self.for_agent(agent_id, Channel.COMMANDS)

    def confirmations(self, agent_id: str) -> str:
        return self.for_agent(agent_id, Channel.CONFIRMATIONS)

    def state(self, agent_id: str) -> str:
        return self.for_agent(agent_id, Channel.STATE)

    def telemetry(self, agent_id: str) -> str:
        return self.for_agent(agent_id, Channel.TELEMETRY)

    def security(self, agent_id: str) -> str:
        return self.for_agent(agent_id, Channel.SECURITY)

    def every_agent(self, channel: Channel) -> str:
        """Subscription filter for one channel of all agents."""
        return f"{self.root}/agents/+/{channel.value}"

    def parse(self, topic: str) -> tuple[str, Channel]:
        """Split a concrete per-agent topic into (agent_id, channel)."""
        prefix = f"{self.root}/agents/"
        if not topic.startswith(prefix):
            raise ProtocolError(f"topic {topic!r} is outside {prefix}")
        parts = topic[len(prefix) :].split("/")
        if len(parts) != 2:
            raise ProtocolError(f"topic {topic!r} is not {prefix}<agent>/<channel>")
        try:
            channel = Channel(parts[1])
        except ValueError:
            raise ProtocolError(f"unknown channel in topic {topic!r}") from None
        return check_agent_id(parts[0]), channel
