"""A whole controller (HTTP, scheduler, bus, database) on a real broker, for end-to-end runs."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from pydantic import SecretStr

from controller.app import create_app
from controller.config import Settings
from controller.runtime import Controller
from controller.server import ServerThread
from simulator.local import free_port, throwaway_admin
from tests.conftest import BrokerEndpoint

SHORT_BULLETIN = {
    "title": "Cảnh giác lừa đảo qua điện thoại",
    "topic": "an-ninh-mang",
    "body": (
        "Bà con lưu ý. Cơ quan công an không bao giờ gọi điện yêu cầu chuyển tiền. "
        "Không cung cấp mã xác thực cho bất kỳ ai."
    ),
    "legal_references": ["Luật An ninh mạng số 24/2018/QH14"],
}


def quarter_params(instant: datetime | str) -> dict[str, int]:
    """The report query (year, quarter) for an instant, in Asia/Ho_Chi_Minh like the report itself."""
    if isinstance(instant, str):
        instant = datetime.fromisoformat(instant)
    local = instant.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    return {"year": local.year, "quarter": (local.month - 1) // 3 + 1}


@dataclass
class System:
    controller: Controller
    settings: Settings
    api: httpx.Client
    base_url: str

    @property
    def credentials(self) -> Callable[[str], tuple[str, str]] | None:
        broker = self.controller.embedded_broker
        return broker.credentials if broker else None


@pytest.fixture(params=["mosquitto", "embedded", "nats"])
def system(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[System]:
    """The controller on Mosquitto or NATS (external) or on its own embedded broker, over each database."""
    mqtt_url = None
    if request.param in ("mosquitto", "nats"):
        endpoint: BrokerEndpoint = request.getfixturevalue(request.param)
        mqtt_url = endpoint.url
    settings, admin = system_settings(
        tmp_path, "e2e", database_url=database_url, mqtt_url=mqtt_url, embedded_mqtt_port=free_port()
    )
    with running_system(settings, admin) as system:
        yield system


def system_settings(tmp_path: Path, prefix: str, **overrides: Any) -> tuple[Settings, tuple[str, str]]:
    """Settings for a throwaway controller, and its admin login: its own data dir, HTTP port, client id and topics."""
    run = uuid.uuid4().hex[:10]
    admin = throwaway_admin()
    settings = Settings(
        admin_username=admin[0],
        admin_password=SecretStr(admin[1]),
        data_dir=tmp_path / "controller",
        http_port=free_port(),
        mqtt_client_id=f"ctl-{run}",
        topic_root=f"{prefix}{run}/loa/v1",
        **overrides,
    )
    return settings, admin


@contextmanager
def running_system(settings: Settings, admin: tuple[str, str]) -> Iterator[System]:
    """The whole controller serving HTTP on its port, with an API client logged in as the admin."""
    app = create_app(settings)
    server = ServerThread(app, settings.http_host, settings.http_port)
    server.start()
    base = settings.resolved_public_base_url
    try:
        with httpx.Client(base_url=base, timeout=60, auth=admin) as api:
            yield System(app.state.controller, settings, api, base)
    finally:
        server.stop()
