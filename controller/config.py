"""Controller settings, read from `LOA_*` environment variables. Built by `get_settings()`, never at import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the controller needs to start. Unset paths derive from `data_dir`."""

    model_config = SettingsConfigDict(env_prefix="LOA_", extra="ignore", frozen=True)

    data_dir: Path = Path("var")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite in data_dir")
    mqtt_url: str | None = Field(default=None, description="mqtt://host:port; unset starts the embedded broker")
    mqtt_username: str | None = None
    mqtt_password: str | None = None
    mqtt_client_id: str = "loa-controller"
    embedded_mqtt_host: str = "127.0.0.1"
    embedded_mqtt_port: int = 1883
    topic_root: str = "loa/v1"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    public_base_url: str | None = Field(default=None, description="Base URL agents fetch /media from")
    signing_key_path: Path | None = None
    media_dir: Path | None = None
    timezone: str = "Asia/Ho_Chi_Minh"
    manifest_horizon_hours: float = 72.0
    manifest_refresh_s: float = 300.0
    play_grace_s: float = 60.0

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'loa.db').resolve()}"

    @property
    def resolved_signing_key_path(self) -> Path:
        return self.signing_key_path or self.data_dir / "controller_ed25519.pem"

    @property
    def resolved_media_dir(self) -> Path:
        return self.media_dir or self.data_dir / "media"

    @property
    def resolved_public_base_url(self) -> str:
        return (self.public_base_url or f"http://{self.http_host}:{self.http_port}").rstrip("/")


def get_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with keyword overrides taking precedence."""
    return Settings(**overrides)
