"""The agent's configuration: one TOML file per loudspeaker post, loaded into a frozen `AgentConfig`."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import msgspec
from msgspec import Meta
from msgspec.structs import force_setattr
from nacl.signing import VerifyKey

from common.broker_url import BrokerAddress, parse_broker_url
from edge_agent.errors import ConfigError
from protocol.codec import describe
from protocol.errors import ProtocolError
from protocol.quiet import QuietHours, parse_hhmm
from protocol.signing import decode_public_key
from protocol.topics import Topics, check_agent_id

log = logging.getLogger(__name__)

DEFAULT_LATE_GRACE_S = 60.0

PLACEHOLDER_PREFIX = "REPLACE-WITH"
"""The example file's placeholders. A config still holding one is refused: there are no default secrets."""


class AgentConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Everything one agent needs to know. Unknown keys are refused, so typos never pass silently.

    `config_from_mapping` (and `load_config`) check every type and range; constructing one in code
    runs the cross-field checks in `__post_init__` and turns path strings into `Path`s.
    """

    agent_id: str
    broker_url: str
    username: str | None = None
    password: str | None = None
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

    amplifier_pin: Annotated[int, Meta(ge=0, le=63)] = 17
    amplifier_active_high: bool = False
    """False suits the common low-trigger relay boards: the pin is pulled low to switch the amp on."""
    amplifier_warmup_s: Annotated[float, Meta(ge=0, le=60)] = 1.0
    amplifier_cooldown_s: Annotated[float, Meta(ge=0, le=600)] = 2.0
    status_led_pin: Annotated[int, Meta(ge=0, le=63)] | None = None
    """The status LED: steady when online and idle, fast blink while playing, slow blink offline,
    double flash on error. None: no LED."""
    status_led_active_high: bool = True
    stop_button_pin: Annotated[int, Meta(ge=0, le=63)] | None = None
    """A local stop button, the physical kill switch: silences the amplifier at once. None: no button."""
    stop_button_pull_up: bool = True
    """True for a button wired between the pin and ground (the usual way)."""

    volume: Annotated[int, Meta(ge=0, le=100)] = 80
    player: Literal["alsa", "virtual"] = "alsa"
    alsa_device: Annotated[str, Meta(min_length=1)] = "default"
    player_command: tuple[str, ...] | None = None
    """Overrides the decoder command; see `AlsaPlayer` for the placeholders."""

    quiet_hours_start: str = "21:00"
    quiet_hours_end: str = "05:00"
    """Local times, HH:MM. Inside the window only a signed emergency plays. Equal start and end: no quiet hours."""
    timezone: str = "Asia/Ho_Chi_Minh"
    """The IANA zone quiet hours are read in."""

    cache_max_bytes: Annotated[int, Meta(ge=1024 * 1024)] = 1024 * 1024 * 1024
    """Upper bound of the media cache. Least recently used audio goes first; audio an upcoming play needs never goes."""
    prefetch_window_s: Annotated[float, Meta(ge=0)] = 72 * 3600.0
    """Audio is fetched as soon as its play starts within this many seconds. 0: only at the play's warm-up."""

    keepalive_s: Annotated[int, Meta(ge=5, le=3600)] = 30
    reconnect_max_s: Annotated[float, Meta(gt=0, le=3600)] = 60.0
    late_grace_s: Annotated[float, Meta(ge=0, le=3600)] = DEFAULT_LATE_GRACE_S
    """A play that cannot start within this long after its `starts_at` is skipped as late."""
    download_attempts: Annotated[int, Meta(ge=1, le=20)] = 3
    telemetry_interval_s: Annotated[float, Meta(ge=0)] = 300.0
    """Seconds between telemetry messages; 0 turns telemetry off."""
    security_events_burst: Annotated[int, Meta(ge=1, le=1000)] = 10
    security_events_per_minute: Annotated[float, Meta(gt=0, le=600)] = 6.0
    """Rejected messages are reported at most at this rate after a burst; the rest are counted and the
    count rides on the next event sent, so a flood cannot flood the controller or the 4G bill."""
    reboot_command: tuple[str, ...] = ("systemctl", "reboot")
    """Run on an admin-signed reboot command, after a clean shutdown."""

    def __post_init__(self) -> None:
        for key in _PATH_KEYS:
            value = getattr(self, key)
            if isinstance(value, str):
                force_setattr(self, key, Path(value))
        for key, check in _CHECKS:
            value = getattr(self, key)
            if value is not None:
                problem = check(value)
                if problem:
                    raise ValueError(f"{key}: {problem}")
        if self.password is not None and self.password_file is not None:
            raise ValueError("password_file: give either password or password_file, not both")
        used: dict[int, str] = {}
        for key in ("amplifier_pin", "status_led_pin", "stop_button_pin"):
            pin = getattr(self, key)
            if pin is None:
                continue
            if pin in used:
                raise ValueError(f"{key}: GPIO {pin} is already the {used[pin]}")
            used[pin] = key

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{k}={'***' if k == 'password' and v is not None else repr(v)}"
            for k in self.__struct_fields__
            if (v := getattr(self, k)) is not None
        )
        return f"AgentConfig({fields})"

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
    def public_key(self) -> VerifyKey:
        return decode_public_key(self.controller_public_key)

    @property
    def admin_key(self) -> VerifyKey | None:
        return decode_public_key(self.admin_public_key) if self.admin_public_key else None

    @property
    def quiet_hours(self) -> QuietHours:
        return QuietHours.parse(self.quiet_hours_start, self.quiet_hours_end, self.timezone)

    @property
    def media_dir(self) -> Path:
        """Where downloaded audio is cached, named by SHA-256."""
        return self.state_dir / "media"


_PATH_KEYS = ("state_dir", "password_file", "ca_file")


def _protocol_check(check: Any) -> Any:
    def run(value: str) -> str | None:
        try:
            check(value)
        except ProtocolError as exc:
            return str(exc)
        return None

    return run


def _check_password(value: str) -> str | None:
    if not value.strip() or value.startswith(PLACEHOLDER_PREFIX):
        return "is empty or still the example's placeholder; there is no default password"
    return None


def _check_hhmm(value: str) -> str | None:
    try:
        parse_hhmm(value)
    except ValueError as exc:
        return str(exc)
    return None


def _check_timezone(value: str) -> str | None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {value!r} (expected e.g. Asia/Ho_Chi_Minh)"
    return None


def _check_broker_url(value: str) -> str | None:
    try:
        parse_broker_url(value)
    except ValueError as exc:  # BrokerUrlError is a ValueError
        return str(exc)
    return None


def _check_http_url(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"must be an http:// or https:// URL, got {value!r}"
    return None


def _check_reboot_command(value: tuple[str, ...]) -> str | None:
    return None if value else "must be a non-empty list of arguments"


def _check_player_command(value: tuple[str, ...]) -> str | None:
    if not value or "{file}" not in " ".join(value):
        return "must be a non-empty list of arguments containing {file}"
    return None


_CHECKS: tuple[tuple[str, Any], ...] = (
    ("agent_id", _protocol_check(check_agent_id)),
    ("broker_url", _check_broker_url),
    ("password", _check_password),
    ("controller_public_key", _protocol_check(decode_public_key)),
    ("admin_public_key", _protocol_check(decode_public_key)),
    ("topic_root", _protocol_check(Topics)),
    ("media_base_url", _check_http_url),
    ("player_command", _check_player_command),
    ("quiet_hours_start", _check_hhmm),
    ("quiet_hours_end", _check_hhmm),
    ("timezone", _check_timezone),
    ("reboot_command", _check_reboot_command),
)
"""Checks beyond type and range, each returning a problem or None; `__post_init__` runs them in order."""


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
    """Validate a mapping into an `AgentConfig`, raising `ConfigError` that names every bad key."""
    try:
        config: AgentConfig = msgspec.convert(dict(data), AgentConfig, dec_hook=_decode_path)
    except msgspec.ValidationError as exc:
        # msgspec stops at the first problem; go through the keys one by one so the message names them all.
        # None found: the problem is across keys (the checks at the end of `__post_init__`).
        problems = _key_problems(data) or [describe(exc)]
        raise ConfigError(f"{source}: " + "; ".join(problems)) from None
    return config


def _key_problems(data: Mapping[str, Any]) -> list[str]:
    """Unknown keys, missing keys and each key's type or range, all at once, so one edit fixes them all."""
    fields = {f.name: f for f in msgspec.structs.fields(AgentConfig)}
    problems = [f"{key}: unknown key" for key in data if key not in fields]
    problems += [f"{name}: required key is missing" for name, f in fields.items() if f.required and name not in data]
    checks = dict(_CHECKS)
    for key, value in data.items():
        if key not in fields:
            continue
        try:
            msgspec.convert(value, fields[key].type, dec_hook=_decode_path)
        except msgspec.ValidationError as exc:
            problems.append(f"{key}: {describe(exc)}")
            continue
        problem = checks[key](value) if key in checks and value is not None else None
        if problem:
            problems.append(f"{key}: {problem}")
    return problems


def _decode_path(type_: type, value: Any) -> Any:
    if type_ is Path and isinstance(value, str):
        return Path(value)
    raise TypeError(f"expected a path, got {type(value).__name__}")


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
