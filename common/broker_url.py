"""Parsing `mqtt://` and `mqtts://` broker URLs, shared by the controller, agents and simulator."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

from common.errors import LoaError


class BrokerUrlError(LoaError, ValueError):
    """A broker URL that is not mqtt://host[:port] or mqtts://host[:port]."""


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def parse_broker_url(url: str) -> BrokerAddress:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts"):
        raise BrokerUrlError(f"broker URL must start with mqtt:// or mqtts://, got {url!r}")
    if not parts.hostname:
        raise BrokerUrlError(f"broker URL has no host: {url!r}")
    tls = parts.scheme == "mqtts"
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError:
        raise BrokerUrlError(f"broker URL has a bad port: {url!r}") from None
    return BrokerAddress(
        host=parts.hostname,
        port=port,
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def redact_url(url: str) -> str:
    """The URL with its password replaced by `***`, for logs, reports and JSON. Anything unparsable is hidden."""
    try:
        parts = urlsplit(url)
        password, host = parts.password, parts.hostname
        port = parts.port
    except ValueError:
        return "<unparsable URL>"
    if password is None:
        return url
    host = f"[{host}]" if host and ":" in host else host or ""
    netloc = f"{parts.username or ''}:***@{host}{f':{port}' if port else ''}"
    return urlunsplit(parts._replace(netloc=netloc))
