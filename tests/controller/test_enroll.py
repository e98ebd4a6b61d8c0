"""Enrolment end to end: an admin-issued one-time token, POST /api/enroll, the Pi's config written with
private permissions, and the agent then online on the controller's own (authenticating) broker."""

from __future__ import annotations

import asyncio
import stat
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from gpiozero.pins.mock import MockFactory
from pydantic import SecretStr

from controller.app import create_app
from controller.config import Settings
from controller.dispatch.broker_auth import load_or_create_secret
from controller.server import ServerThread
from controller.services.enrollment import InvalidToken, mint_token, read_token
from edge_agent import Agent, VirtualPlayer, load_config
from edge_agent.enroll import main as enroll_main
from simulator.local import free_port, throwaway_admin


@dataclass
class Controller:
    api: httpx.Client
    base_url: str
    secret: bytes
    commune_code: str


@pytest.fixture
def controller(tmp_path: Path) -> Iterator[Controller]:
    """A whole controller with its embedded broker, which refuses any login it did not issue."""
    admin = throwaway_admin()
    port = free_port()
    run = uuid.uuid4().hex[:10]
    settings = Settings(
        admin_username=admin[0],
        admin_password=SecretStr(admin[1]),
        data_dir=tmp_path / "controller",
        database_url=f"sqlite:///{tmp_path / 'loa.db'}",
        embedded_mqtt_port=free_port(),
        http_port=port,
        mqtt_client_id=f"ctl-{run}",
        topic_root=f"enr{run}/loa/v1",
    )
    server = ServerThread(create_app(settings), settings.http_host, port)
    server.start()
    try:
        with httpx.Client(base_url=settings.resolved_public_base_url, timeout=30, auth=admin) as api:
            province = api.post("/api/provinces", json={"code": f"p{run}", "name": "Nghệ An"}).json()
            code = f"c{run}"
            r = api.post("/api/communes", json={"province_id": province["id"], "code": code, "name": "Trung Lộc"})
            assert r.status_code == 201, r.text
            secret = load_or_create_secret(settings.data_dir / "mqtt_secret")
            yield Controller(api, settings.resolved_public_base_url, secret, code)
    finally:
        server.stop()


def test_tokens_are_bound_signed_expiring() -> None:
    secret = b"s" * 32
    token = mint_token(secret, "xa-01", "c1", ttl_s=60, now=1000)
    claims = read_token(secret, token, now=1030)
    assert (claims.agent_id, claims.commune_code, claims.expires_at) == ("xa-01", "c1", 1060)
    with pytest.raises(InvalidToken, match="expired"):
        read_token(secret, token, now=1061)
    with pytest.raises(InvalidToken, match="invalid"):
        read_token(b"t" * 32, token, now=1030)  # another controller's secret
    head, _payload, mac = token.rsplit(".", 2)
    other = mint_token(secret, "xa-02", "c1", ttl_s=60, now=1000).rsplit(".", 2)[1]
    with pytest.raises(InvalidToken, match="invalid"):
        read_token(secret, f"{head}.{other}.{mac}", now=1030)  # re-bound to another agent
    with pytest.raises(InvalidToken):
        read_token(secret, "loa-enroll.v1.garbage", now=1030)


def test_enrol_writes_a_private_config_and_the_agent_comes_online(controller: Controller, tmp_path: Path) -> None:
    agent_id = f"enr-{uuid.uuid4().hex[:8]}"
    token = mint_token(controller.secret, agent_id, controller.commune_code, name="Thôn 1, cụm 1")
    config = tmp_path / "etc" / "agent.toml"
    argv = ["--controller", controller.base_url, "--token", token, "--config", str(config)]
    argv += ["--state-dir", str(tmp_path / "state"), "--player", "virtual"]
    assert enroll_main(argv) == 0

    password_file = config.with_name("mqtt-password")
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    # The post's own signing key (v1.2) stays on it, private; the controller now refuses reports it did not sign,
    # so the agent coming online below shows its signed state was accepted.
    assert stat.S_IMODE((tmp_path / "state" / "agent_ed25519.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(config.stat().st_mode) == 0o640
    assert "password =" not in config.read_text()  # the secret lives only in the 0600 file
    loaded = load_config(config)
    assert loaded.agent_id == agent_id and loaded.broker.password == password_file.read_text().strip()

    agents = {a["id"]: a for a in controller.api.get("/api/agents").json()}
    assert agents[agent_id]["name"] == "Thôn 1, cụm 1"

    pins = MockFactory()
    try:
        asyncio.run(_run_until_online(loaded, pins, controller))
    finally:
        pins.close()

    # The token was spent: a second use is refused, as is a forged one.
    again = httpx.post(f"{controller.base_url}/api/enroll", json={"token": token})
    assert again.status_code == 401 and "đã được dùng" in again.json()["detail"]
    forged = mint_token(b"x" * 32, agent_id, controller.commune_code)
    assert httpx.post(f"{controller.base_url}/api/enroll", json={"token": forged}).status_code == 401


async def _run_until_online(config: object, pins: MockFactory, controller: Controller) -> None:
    from edge_agent.config import AgentConfig

    assert isinstance(config, AgentConfig)
    agent = Agent(config, player=VirtualPlayer(), pin_factory=pins)
    task = asyncio.create_task(agent.run())
    try:
        deadline = time.monotonic() + 30
        while True:
            status = await asyncio.to_thread(
                lambda: {a["id"]: a for a in controller.api.get("/api/agents").json()}[config.agent_id]["status"]
            )
            if status == "online":
                break
            assert not task.done(), "the agent stopped"
            assert time.monotonic() < deadline, f"the agent never came online (status {status})"
            await asyncio.sleep(0.2)
        assert agent.store.manifest_revision() is not None  # and it holds its first signed manifest
    finally:
        await agent.stop()
        await task


def test_enrolment_errors_are_specific(controller: Controller, tmp_path: Path) -> None:
    unknown = mint_token(controller.secret, "enr-x1", "no-such-commune")
    r = httpx.post(f"{controller.base_url}/api/enroll", json={"token": unknown})
    assert r.status_code == 404
    expired = mint_token(controller.secret, "enr-x2", controller.commune_code, ttl_s=-1)
    r = httpx.post(f"{controller.base_url}/api/enroll", json={"token": expired})
    assert r.status_code == 401 and "hết hạn" in r.json()["detail"]
    config = tmp_path / "agent.toml"
    code = enroll_main(["--controller", controller.base_url, "--token", expired, "--config", str(config)])
    assert code == 1 and not config.exists()
