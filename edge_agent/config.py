"""The agent's configuration: one TOML file per loudspeaker post, loaded into a frozen `AgentConfig`."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from edge_agent.errors import ConfigError
from loa.broker_url import BrokerAddress, parse_broker_url
from protocol.errors import ProtocolError
from protocol.signing import decode_public_key
from protocol.topics import Topics, check_agent_id


class AgentConfig(BaseModel):
    """Everything one agent needs to know. Unknown keys are refused, so typos never pass silently."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agent_id: str
    broker_url: str
    username: str | None = None
    password: str | None = Field(default=None, repr=False)
    ca_file: Path | None = None
    """CA bundle for `mqtts://` brokers; the system's trust store when unset."""
    controller_public_key: str
    """Base64 of the controller's raw 32-byte Ed25519 public key, as `GET /api/system` serves it."""
    topic_root: str = "loa/v1"
    state_dir: Path
    media_base_url: str | None = None
    """Base for relative `audio_url`s in manifests, e.g. `http://controller:8000`."""

    amplifier_pin: int = Field(default=17, ge=0, le=63)
    amplifier_active_high: bool = False
    """False suits the common low-trigger relay boards: the pin is pulled low to switch the amp on."""
    amplifier_warmup_s: float = Field(default=1.0, ge=0, le=60)
    amplifier_cooldown_s: float = Field(default=2.0, ge=0, le=600)

    volume: int = Field(default=80, ge=0, le=100)
    player: Literal["alsa", "virtual"] = "alsa"
    alsa_device: str = Field(default="default", min_length=1)
    player_command: tuple[str, ...] | None = None
    """Overrides the decoder command; see `AlsaPlayer` for the placeholders."""

    keepalive_s: int = Field(default=30, ge=5, le=3600)
    reconnect_max_s: float = Field(default=60.0, gt=0, le=3600)
    late_grace_s: float = Field(default=60.0, ge=0, le=3600)
    """A play that cannot start within this long after its `starts_at` is skipped as late."""
    download_attempts: int = Field(default=3, ge=1, le=20)
    telemetry_interval_s: float = Field(default=300.0, ge=0)
    """Seconds between telemetry messages; 0 turns telemetry off."""

    @field_validator("agent_id")
    @classmethod
    def _agent_id(cls, value: str) -> str:
        try:
            return check_agent_id(value)
        except ProtocolError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("broker_url")
    @classmethod
    def _broker_url(cls, value: str) -> str:
        parse_broker_url(value)  # BrokerUrlError is a ValueError
        return value

    @field_validator("controller_public_key")
    @classmethod
    def _public_key(cls, value: str) -> str:
        try:
            decode_public_key(value)
        except ProtocolError as exc:
            raise ValueError(str(exc)) from None
        return value.strip()

    @field_validator("topic_root")
    @classmethod
    def _topic_root(cls, value: str) -> str:
        try:
            Topics(value)
        except ProtocolError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("media_base_url")
    @classmethod
    def _media_base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"must be an http:// or https:// URL, got {value!r}")
        return value

    @field_validator("player_command")
    @classmethod
    def _player_command(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and (not value or "{file}" not in " ".join(value)):
            raise ValueError("must be a non-empty list of arguments containing {file}")
        return value

    @property
    def broker(self) -> BrokerAddress:
        """The parsed broker address; `username`/`password` here win over any in the URL."""
        address = parse_broker_url(self.broker_url)
        return BrokerAddress(
            host=address.host,
            port=address.port,
            tls=address.tls,
            username=self.username if self.username is not None else address.username,
            password=self.password if self.password is not None else address.password,
        )

    @property
    def public_key(self) -> Ed25519PublicKey:
        return decode_public_key(self.controller_public_key)

    @property
    def media_dir(self) -> Path:
        """Where downloaded audio is cached, named by SHA-256."""
        return self.state_dir / "media"


def config_from_mapping(data: Mapping[str, Any], *, source: str = "agent config") -> AgentConfig:
    """Validate a mapping into an `AgentConfig`, raising `ConfigError` that names the bad key."""
    try:
        return AgentConfig.model_validate(dict(data))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err.get("loc", ())) or "<root>"
            if err.get("type") == "extra_forbidden":
                problems.append(f"{key}: unknown key")
            elif err.get("type") == "missing":
                problems.append(f"{key}: required key is missing")
            else:
                msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
                problems.append(f"{key}: {msg}")
        raise ConfigError(f"{source}: " + "; ".join(problems)) from None


def load_config(path: Path | str) -> AgentConfig:
    """Read an agent TOML file. A relative `state_dir` is taken relative to the file's folder."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the agent config: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    state_dir = data.get("state_dir")
    if isinstance(state_dir, str) and not Path(state_dir).is_absolute():
        data["state_dir"] = str(path.parent / state_dir)
    return config_from_mapping(data, source=str(path))
