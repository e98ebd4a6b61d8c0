"""The agent's configuration: one TOML file per loudspeaker post, loaded into a frozen `AgentConfig`."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from edge_agent.errors import ConfigError
from edge_agent.quiet import QuietHours, parse_hhmm
from loa.broker_url import BrokerAddress, parse_broker_url
from protocol.errors import ProtocolError
from protocol.signing import decode_public_key
from protocol.topics import Topics, check_agent_id

log = logging.getLogger(__name__)

PLACEHOLDER_PREFIX = "REPLACE-WITH"
"""The example file's placeholders. A config still holding one is refused: there are no default secrets."""


class AgentConfig(BaseModel):
    """Everything one agent needs to know. Unknown keys are refused, so typos never pass silently."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agent_id: str
    broker_url: str
    username: str | None = None
    password: str | None = Field(default=None, repr=False)
    password_file: Path | None = None
    """A file holding only the MQTT password, mode 0600; the agent refuses one others can read."""
    ca_file: Path | None = None
    """CA bundle for `mqtts://` brokers; the system's trust store when unset."""
    controller_public_key: str
    """Base64 of the controller's raw 32-byte Ed25519 public key, as `GET /api/system` serves it."""
    admin_public_key: str | None = None
    """A separate admin key, the only one that may sign a reboot; without it the agent never reboots on command."""
    topic_root: str = "loa/v1"
    state_dir: Path
    media_base_url: str | None = None
    """Base for relative `audio_url`s in manifests, e.g. `http://controller:8000`."""

    amplifier_pin: int = Field(default=17, ge=0, le=63)
    amplifier_active_high: bool = False
    """False suits the common low-trigger relay boards: the pin is pulled low to switch the amp on."""
    amplifier_warmup_s: float = Field(default=1.0, ge=0, le=60)
    amplifier_cooldown_s: float = Field(default=2.0, ge=0, le=600)
    status_led_pin: int | None = Field(default=None, ge=0, le=63)
    """The status LED: steady when online and idle, fast blink while playing, slow blink offline,
    double flash on error. None: no LED."""
    status_led_active_high: bool = True
    stop_button_pin: int | None = Field(default=None, ge=0, le=63)
    """A local stop button, the physical kill switch: silences the amplifier at once. None: no button."""
    stop_button_pull_up: bool = True
    """True for a button wired between the pin and ground (the usual way)."""

    volume: int = Field(default=80, ge=0, le=100)
    player: Literal["alsa", "virtual"] = "alsa"
    alsa_device: str = Field(default="default", min_length=1)
    player_command: tuple[str, ...] | None = None
    """Overrides the decoder command; see `AlsaPlayer` for the placeholders."""

    quiet_hours_start: str = "21:00"
    quiet_hours_end: str = "05:00"
    """Local times, HH:MM. Inside the window only a signed emergency plays. Equal start and end: no quiet hours."""
    timezone: str = "Asia/Ho_Chi_Minh"
    """The IANA zone quiet hours are read in."""

    cache_max_bytes: int = Field(default=1024 * 1024 * 1024, ge=1024 * 1024)
    """Upper bound of the media cache. Least recently used audio goes first; audio an upcoming play needs never goes."""
    prefetch_window_s: float = Field(default=72 * 3600.0, ge=0)
    """Audio is fetched as soon as its play starts within this many seconds. 0: only at the play's warm-up."""

    keepalive_s: int = Field(default=30, ge=5, le=3600)
    reconnect_max_s: float = Field(default=60.0, gt=0, le=3600)
    late_grace_s: float = Field(default=60.0, ge=0, le=3600)
    """A play that cannot start within this long after its `starts_at` is skipped as late."""
    download_attempts: int = Field(default=3, ge=1, le=20)
    telemetry_interval_s: float = Field(default=300.0, ge=0)
    """Seconds between telemetry messages; 0 turns telemetry off."""
    security_events_burst: int = Field(default=10, ge=1, le=1000)
    security_events_per_minute: float = Field(default=6.0, gt=0, le=600)
    """Rejected messages are reported at most at this rate after a burst; the rest are counted and the
    count rides on the next event sent, so a flood cannot flood the controller or the 4G bill."""
    reboot_command: tuple[str, ...] = ("systemctl", "reboot")
    """Run on an admin-signed reboot command, after a clean shutdown."""

    @field_validator("password")
    @classmethod
    def _password(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or value.startswith(PLACEHOLDER_PREFIX)):
            raise ValueError("is empty or still the example's placeholder; there is no default password")
        return value

    @field_validator("quiet_hours_start", "quiet_hours_end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        parse_hhmm(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (expected e.g. Asia/Ho_Chi_Minh)") from None
        return value

    @field_validator("reboot_command")
    @classmethod
    def _reboot_command(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("must be a non-empty list of arguments")
        return value

    @model_validator(mode="after")
    def _pins_differ(self) -> AgentConfig:
        pins: list[tuple[str, int | None]] = [
            ("amplifier_pin", self.amplifier_pin),
            ("status_led_pin", self.status_led_pin),
            ("stop_button_pin", self.stop_button_pin),
        ]
        used: dict[int, str] = {}
        for key, pin in pins:
            if pin is None:
                continue
            if pin in used:
                raise ValueError(f"{key}: GPIO {pin} is already the {used[pin]}")
            used[pin] = key
        if self.password is not None and self.password_file is not None:
            raise ValueError("password_file: give either password or password_file, not both")
        return self

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

    @field_validator("controller_public_key", "admin_public_key")
    @classmethod
    def _public_key(cls, value: str | None) -> str | None:
        if value is None:
            return None
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
        """The parsed broker address; `username`/`password` (or `password_file`) win over any in the URL."""
        address = parse_broker_url(self.broker_url)
        password = self.password
        if password is None and self.password_file is not None:
            password = read_secret_file(self.password_file, "password_file")
        return BrokerAddress(
            host=address.host,
            port=address.port,
            tls=address.tls,
            username=self.username if self.username is not None else address.username,
            password=password if password is not None else address.password,
        )

    @property
    def public_key(self) -> Ed25519PublicKey:
        return decode_public_key(self.controller_public_key)

    @property
    def admin_key(self) -> Ed25519PublicKey | None:
        return decode_public_key(self.admin_public_key) if self.admin_public_key else None

    @property
    def quiet_hours(self) -> QuietHours:
        return QuietHours.parse(self.quiet_hours_start, self.quiet_hours_end, self.timezone)

    @property
    def media_dir(self) -> Path:
        """Where downloaded audio is cached, named by SHA-256."""
        return self.state_dir / "media"


def read_secret_file(path: Path, key: str) -> str:
    """Read a one-line secret, refusing a file that group or others can read (it must be 0600 or 0400)."""
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{key}: cannot read {path}: {exc.strerror or exc}") from None
    if mode & 0o077:
        raise ConfigError(f"{key}: {path} is readable by others (mode {mode & 0o777:o}); chmod 600 it")
    if not text or text.startswith(PLACEHOLDER_PREFIX):
        raise ConfigError(f"{key}: {path} is empty or holds a placeholder; there is no default password")
    return text


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
                problems.append(msg if key == "<root>" else f"{key}: {msg}")
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
    for key in ("state_dir", "password_file", "ca_file"):
        value = data.get(key)
        if isinstance(value, str) and not Path(value).is_absolute():
            data[key] = str(path.parent / value)
    config = config_from_mapping(data, source=str(path))
    if config.password is not None and path.stat().st_mode & 0o077:
        log.warning(
            "%s holds the MQTT password and others can read it; chmod 600 it, or move the password to password_file",
            path,
        )
    if config.password_file is not None:
        read_secret_file(config.password_file, "password_file")  # fail at start, naming the key
    return config
