"""Forged and replayed manifests, published straight to the broker, never make an agent play."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from common.broker_url import parse_broker_url
from common.clock import utcnow
from protocol import (
    AgentState,
    AgentStatus,
    Confirmation,
    ManifestPlay,
    PlayEvent,
    ScheduleManifest,
    Signer,
    Telemetry,
    Topics,
)
from protocol.codec import encode
from protocol.signing import generate_private_key
from simulator.demo import seed_commune
from simulator.fleet import Fleet
from tests.e2e.conftest import System, quarter_params
from tests.e2e.test_broadcast_loop import fleet_for, render_short_bulletin

pytestmark = pytest.mark.e2e


class Attacker:
    """A plain MQTT client. On the embedded broker it holds the controller's login (a compromised broker), or
    with `login_as` an agent's own login (a post whose password was read off its SD card)."""

    def __init__(self, system: System, login_as: str = "loa-controller") -> None:
        address = parse_broker_url(system.controller.broker_url)
        self.inbox: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        client_id = "attacker" if login_as == "loa-controller" else login_as
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
        if system.credentials:
            self.client.username_pw_set(*system.credentials(login_as))
        ready = threading.Event()
        self.client.on_connect = lambda *_a: ready.set()
        self.client.on_message = lambda _c, _u, m: self.inbox.put(m)
        self.client.connect(address.host, address.port)
        self.client.loop_start()
        assert ready.wait(10)

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1, retain=True).wait_for_publish(10)

    def capture(self, topic: str) -> bytes:
        """The retained message on `topic` now."""
        self.client.subscribe(topic, qos=1)
        msg = self.inbox.get(timeout=10)
        self.client.unsubscribe(topic)
        return bytes(msg.payload)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def security_reasons(system: System) -> list[str]:
    system.controller.ingestor.wait_idle(10)
    return [e.reason for e in system.controller.ingestor.security_events]


def book(system: System, bulletin_id: str, commune_id: int, seconds_ahead: float) -> int:
    r = system.api.post(
        "/api/schedules",
        json={
            "bulletin_id": bulletin_id,
            "commune_id": commune_id,
            "starts_at": (utcnow() + timedelta(seconds=seconds_ahead)).isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_forged_and_replayed_manifests_are_rejected_and_nothing_plays(system: System, tmp_path: Path) -> None:
    commune_id, (agent_id,) = seed_commune(system.api, 1, prefix="atk")
    made = render_short_bulletin(system)
    asset = made["asset"]
    topics = Topics(system.settings.topic_root)
    topic = topics.manifest(agent_id)
    fleet = fleet_for(system, [agent_id], tmp_path / "agents", speed=8.0)
    attacker = Attacker(system)

    async def scenario() -> None:
        await fleet.start()
        assert await fleet.wait_for("manifest", 1, timeout=30)

        # 1. A manifest signed with the attacker's own key, for a play two seconds ahead.
        now = utcnow()
        forged_play = ManifestPlay(
            play_id="f" * 32,
            starts_at=now + timedelta(seconds=2),
            bulletin_id="propaganda",
            audio_url=asset["url"],
            sha256=asset["sha256"],
            size_bytes=asset["size_bytes"],
            duration_s=asset["duration_s"],
        )
        forged = ScheduleManifest(
            agent_id=agent_id,
            issued_at=now,
            expires_at=now + timedelta(hours=1),
            revision=10_000,
            horizon_end=now + timedelta(hours=1),
            plays=(forged_play,),
        )
        attacker.publish(topic, Signer(generate_private_key()).sign(topic, forged))
        # 2. The same message with no signature at all.
        attacker.publish(topic, msgspec.json.encode(forged))
        assert await fleet.wait_for("rejected", 1, timeout=15)

        # 3. Replay: capture a genuine manifest (play A), let the controller move on (A + B), replay it.
        book(system, made["bulletin"]["id"], commune_id, 6)
        await asyncio.sleep(0.5)
        genuine_old = await asyncio.to_thread(attacker.capture, topic)
        book(system, made["bulletin"]["id"], commune_id, 9)
        await asyncio.sleep(0.5)
        attacker.publish(topic, genuine_old)

        # Both genuine plays happen; the forged one never does.
        assert await fleet.wait_for("finished", 1, timeout=30)
        deadline = asyncio.get_running_loop().time() + 30
        while fleet.progress.events["finished"] < 2 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)

    try:
        asyncio.run(_with_stop(fleet, scenario()))
    finally:
        attacker.close()

    plays = system.api.get("/api/plays", params={"agent_id": agent_id}).json()
    assert len(plays) == 2
    assert {p["status"] for p in plays} == {"finished"}, plays
    assert fleet.progress.events["started"] == 2  # the forged play never started
    reasons = security_reasons(system)
    assert "unknown-key" in reasons
    assert "unsigned" in reasons
    assert "replayed" in reasons


async def _with_stop(fleet: Fleet, coro: Coroutine[Any, Any, None]) -> None:
    try:
        await coro
    finally:
        await fleet.stop()


def test_an_agents_own_login_cannot_inflate_the_report_or_pin_it_offline(system: System) -> None:
    """The issue's findings 3 and 4, through the broker: each report is refused and the report is unchanged."""
    commune_id, (agent_id,) = seed_commune(system.api, 1, prefix="inf")
    made = render_short_bulletin(system)
    book(system, made["bulletin"]["id"], commune_id, 3600)
    (play,) = system.api.get("/api/plays", params={"agent_id": agent_id}).json()
    booked = datetime.fromisoformat(play["starts_at"])
    before = system.api.get("/api/reports/quarterly", params=quarter_params(booked)).json()
    topics = Topics(system.settings.topic_root)
    now = utcnow()
    forged = [
        # 10,800 s claimed for a short bulletin, ending two hours before its booked start.
        Confirmation(
            agent_id=agent_id,
            at=now,
            play_id=play["id"],
            event=PlayEvent.FINISHED,
            started_at=booked - timedelta(hours=5),
            ended_at=booked - timedelta(hours=2),
            duration_played_s=10_800.0,
        ),
        AgentState(agent_id=agent_id, at=datetime(2099, 1, 1, tzinfo=UTC), status=AgentStatus.OFFLINE),
        Telemetry(agent_id=agent_id, at=now + timedelta(days=1), uptime_s=1, volume=0),
    ]
    agent = Attacker(system, login_as=agent_id)
    try:
        for msg in forged:
            channel = {"confirmation": topics.confirmations, "state": topics.state, "telemetry": topics.telemetry}
            agent.client.publish(channel[msg.kind](agent_id), encode(msg), qos=1).wait_for_publish(10)
        deadline = time.monotonic() + 20
        while len(security_reasons(system)) < len(forged) and time.monotonic() < deadline:
            time.sleep(0.1)
        genuine = AgentState(agent_id=agent_id, at=utcnow(), status=AgentStatus.ONLINE)
        agent.client.publish(topics.state(agent_id), encode(genuine), qos=1).wait_for_publish(10)
        deadline = time.monotonic() + 20  # the broker's PUBACK comes before the controller has the message
        while agent_status(system, agent_id) != "online" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert system.controller.ingestor.wait_idle(10)
    finally:
        agent.close()

    assert sorted(security_reasons(system)) == ["future-dated", "future-dated", "implausible"]
    after = system.api.get("/api/reports/quarterly", params=quarter_params(booked)).json()
    assert after == before
    (still,) = system.api.get("/api/plays", params={"agent_id": agent_id}).json()
    assert still["status"] == "planned"
    assert agent_status(system, agent_id) == "online"  # the 2099 state did not pin it offline


def agent_status(system: System, agent_id: str) -> str:
    (listed,) = [a for a in system.api.get("/api/agents").json() if a["id"] == agent_id]
    return str(listed["status"])
