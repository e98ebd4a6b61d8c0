"""Controller settings, read from `LOA_*` environment variables. Built by `get_settings()`, never at import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
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
    mqtt_dynsec_username: str | None = Field(
        default=None, description="an external Mosquitto's dynamic-security admin: enrolment adds agent logins"
    )
    mqtt_dynsec_password: SecretStr | None = None
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
    missed_grace_s: float = Field(default=600.0, description="after slot end, an unconfirmed play is missed")
    expansion_refresh_s: float = Field(default=900.0, description="how often recurring programmes are expanded")
    scheduler_lease_s: float = Field(default=60.0, description="single-scheduler lease length in the database")
    bulletin_min_s: float = Field(default=180.0, description="shortest allowed non-emergency bulletin")
    bulletin_max_s: float = Field(default=300.0, description="longest allowed non-emergency bulletin")
    admin_username: str | None = Field(default=None, description="create this admin at start if no user exists")
    admin_password: SecretStr | None = None
    session_https_only: bool = Field(
        default=False, description="force the Secure cookie and HSTS; automatic when public_base_url is https"
    )
    session_max_age_s: int = 12 * 3600
    piper_model_dir: Path | None = Field(default=None, description="where Piper voice models (.onnx) live")
    piper_program: str = "piper"
    jingles_dir: Path | None = Field(default=None, description="jingle files; default: the shipped bulletins/jingles")
    abbreviations_dir: Path | None = Field(
        default=None, description="the commune's abbreviation files (*.txt, 'KEY = expansion' lines)"
    )

    @property
    def https(self) -> bool:
        """Served over HTTPS (the public URL says so, or the operator forced it): Secure cookie and HSTS."""
        return self.session_https_only or (self.public_base_url or "").lower().startswith("https://")

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
