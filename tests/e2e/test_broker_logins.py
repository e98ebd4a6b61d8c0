"""An external Mosquitto with dynamic security: enrolment adds the post's login and role, retiring removes them.

No password file is edited by hand; the real agent then connects with the login enrolment gave it.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from gpiozero.pins.mock import MockFactory
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import SecretStr

from controller.dispatch.broker_auth import load_or_create_secret
from controller.services.enrollment import mint_token
from edge_agent.agent import Agent
from edge_agent.config import load_config
from edge_agent.enroll import main as enroll_main
from edge_agent.player import VirtualPlayer
from simulator.demo import seed_commune
from tests.conftest import BrokerEndpoint, _DynSecLogins
from tests.e2e.conftest import running_system, system_settings

pytestmark = pytest.mark.e2e


def try_login(endpoint: BrokerEndpoint, username: str, password: str) -> str:
    result: list[str] = []
    done = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=username, protocol=mqtt.MQTTv311)
    client.username_pw_set(username, password)

    def on_connect(_c: object, _u: object, _f: object, reason: object, _p: object) -> None:
        result.append(str(reason))
        done.set()

    client.on_connect = on_connect
    client.connect(endpoint.host, endpoint.port)
    client.loop_start()
    try:
        assert done.wait(10)
    finally:
        client.disconnect()
        client.loop_stop()
    return result[0]


def test_enrolment_adds_the_broker_login_and_retiring_removes_it(
    secured_mosquitto: BrokerEndpoint, tmp_path: Path
) -> None:
    logins = secured_mosquitto.credentials
    assert isinstance(logins, _DynSecLogins)
    ctl_user, ctl_password = logins("loa-controller")
    settings, admin = system_settings(
        tmp_path,
        "dyn",
        database_url=f"sqlite:///{tmp_path / 'loa.db'}",
        mqtt_url=secured_mosquitto.url,
        mqtt_username=ctl_user,
        mqtt_password=ctl_password,
        mqtt_dynsec_username=logins.admin[0],
        mqtt_dynsec_password=SecretStr(logins.admin[1]),
    )
    agent_id = f"dyn-{uuid.uuid4().hex[:8]}"
    with running_system(settings, admin) as system:
        commune_id, _ = seed_commune(system.api, 0, prefix=f"d{uuid.uuid4().hex[:6]}")
        (commune,) = [c for c in system.api.get("/api/communes").json() if c["id"] == commune_id]
        token = mint_token(load_or_create_secret(settings.data_dir / "mqtt_secret"), agent_id, commune["code"])
        config = tmp_path / "etc" / "agent.toml"
        argv = ["--controller", system.base_url, "--token", token, "--config", str(config)]
        assert enroll_main([*argv, "--state-dir", str(tmp_path / "state"), "--player", "virtual"]) == 0
        loaded = load_config(config)
        password = loaded.broker.password
        assert password is not None

        # The real agent logs in with what enrolment gave it and comes online, signed.
        pins = MockFactory()
        try:
            asyncio.run(_until_online(Agent(loaded, player=VirtualPlayer(), pin_factory=pins), system.api))
        finally:
            pins.close()

        retired = system.api.post(f"/api/agents/{agent_id}/retire")
        assert retired.status_code == 200, retired.text
        assert retired.json()["retired_at"] is not None
    assert try_login(secured_mosquitto, agent_id, password) == "Not authorized"


async def _until_online(agent: Agent, api: object) -> None:
    import httpx

    assert isinstance(api, httpx.Client)
    task = asyncio.create_task(agent.run())
    try:
        deadline = time.monotonic() + 30
        while True:
            agents = await asyncio.to_thread(lambda: api.get("/api/agents").json())
            if any(a["id"] == agent.agent_id and a["status"] == "online" for a in agents):
                return
            assert not task.done(), "the agent stopped"
            assert time.monotonic() < deadline, "the agent never came online"
            await asyncio.sleep(0.2)
    finally:
        await agent.stop()
        await task
