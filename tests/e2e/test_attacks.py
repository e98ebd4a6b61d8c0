"""Forged and replayed manifests, published straight to the broker, never make an agent play."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from common.broker_url import parse_broker_url
from common.clock import utcnow
from protocol import ManifestPlay, ScheduleManifest, Signer, Topics
from protocol.signing import generate_private_key
from simulator.demo import seed_commune
from simulator.fleet import Fleet
from tests.e2e.conftest import System
from tests.e2e.test_broadcast_loop import fleet_for, render_short_bulletin

pytestmark = pytest.mark.e2e


class Attacker:
    """A plain MQTT client. On the embedded broker it holds the controller's login: a compromised broker."""

    def __init__(self, system: System) -> None:
        address = parse_broker_url(system.controller.broker_url)
        self.inbox: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="attacker", protocol=mqtt.MQTTv311)
        if system.credentials:
            self.client.username_pw_set(*system.credentials("loa-controller"))
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
