"""schemathesis against the whole OpenAPI of a throwaway controller: no server error, answers as documented."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr

from controller.app import create_app
from controller.config import Settings
from controller.db.models import AudioAsset, Bulletin
from controller.db.session import transaction
from controller.runtime import Controller
from controller.schemas import AgentCreate, CommuneCreate, ProvinceCreate, VillageCreate
from controller.server import ServerThread
from controller.services import geo
from controller.services.users import Role, create_user
from simulator.local import free_port, throwaway_admin

ST = Path(sys.executable).parent / "st"
MAX_EXAMPLES = 8
"""Per operation and phase: with ~60 operations, both logins take about 4 minutes on 2 cores."""

CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance"


@dataclass
class Target:
    base_url: str
    logins: dict[str, tuple[str, str]]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """A throwaway controller (SQLite, embedded broker) with a commune, clusters, a bulletin and two logins."""
    tmp = tmp_path_factory.mktemp("fuzz")
    run = uuid.uuid4().hex[:8]
    admin = throwaway_admin()
    settings = Settings(
        admin_username=admin[0],
        admin_password=SecretStr(admin[1]),
        data_dir=tmp / "controller",
        embedded_mqtt_port=free_port(),
        http_port=free_port(),
        mqtt_client_id=f"fuzz-{run}",
        topic_root=f"fuzz{run}/loa/v1",
    )
    app = create_app(settings)
    server = ServerThread(app, settings.http_host, settings.http_port)
    server.start()
    try:
        controller: Controller = app.state.controller
        officer = ("canbo.fuzz", "mat-khau-fuzz-1")
        with transaction(controller.session_factory) as s:
            p = geo.create_province(s, ProvinceCreate(code="NA", name="Nghệ An"))
            c = geo.create_commune(s, CommuneCreate(province_id=p.id, code="tl", name="Xã Trung Lộc"))
            v = geo.create_village(s, VillageCreate(commune_id=c.id, name="Thôn Một"))
            for i in range(2):
                geo.register_agent(s, AgentCreate(id=f"cum-{i}", commune_id=c.id, village_id=v.id))
            create_user(s, *officer, Role.OFFICER, commune_id=c.id)
            b = Bulletin(id="b-mau", commune_id=c.id, title="Mẫu", topic="an-ninh-mang", body="Nội dung.")
            s.add(b)
            s.flush()
            asset = AudioAsset(
                bulletin_id=b.id, sha256="ab" * 32, size_bytes=1, duration_s=200.0, engine="espeak-ng", voice="vi"
            )
            s.add(asset)
            s.flush()
            b.audio_asset_id = asset.id
        yield Target(settings.resolved_public_base_url, {"admin": admin, "officer": officer})
    finally:
        server.stop()


@pytest.mark.parametrize("who", ["admin", "officer"])
def test_the_whole_api_answers_without_server_errors_and_as_documented(
    target: Target, who: str, tmp_path: Path
) -> None:
    username, password = target.logins[who]
    command = [
        str(ST),
        "run",
        f"{target.base_url}/openapi.json",
        "--checks",
        CHECKS,
        "--phases",
        # Stateful sequences (create, then read, change, delete what was made) only as the admin, to stay in
        # a few minutes on 2 cores: the officer's run checks the commune-bound answers.
        "examples,coverage,fuzzing,stateful" if who == "admin" else "examples,coverage,fuzzing",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--workers",
        "1",
        "--seed",
        "16",
        "--generation-database",
        "none",
        "--request-timeout",
        "60",
        "--auth",
        f"{username}:{password}",
        "--no-color",
        "--report-dir",
        str(tmp_path),
    ]
    # In tmp_path: schemathesis and hypothesis keep caches in the working directory.
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
