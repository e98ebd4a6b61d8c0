"""Emergencies end to end: a confirmed play-now preempts a normal broadcast, and stop-all silences everything."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from common.clock import utcnow
from simulator.demo import seed_commune
from simulator.steps import submit_and_approve
from tests.e2e.conftest import SHORT_BULLETIN, System
from tests.e2e.test_broadcast_loop import fleet_for

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

AGENTS = 3
LONG_BODY = " ".join([str(SHORT_BULLETIN["body"])] * 4)  # about 30 s of speech
STORM = {
    "title": "Cảnh báo bão khẩn cấp",
    "topic": "giao-thong-pccc",
    "priority": "emergency",
    "body": "Bão số ba đang vào. Bà con khẩn trương chằng chống nhà cửa và di chuyển đến nơi an toàn.",
}


def approved(system: System, data: dict[str, Any]) -> dict[str, Any]:
    bulletin = system.api.post("/api/bulletins", json=data).json()
    asset = system.api.post(f"/api/bulletins/{bulletin['id']}/render")
    assert asset.status_code == 200, asset.text
    submit_and_approve(system.api, bulletin["id"], override="test: short audio")
    return {"id": bulletin["id"], **asset.json()}


def plays(system: System, **params: Any) -> list[dict[str, Any]]:
    assert system.controller.ingestor.wait_idle(10)
    response = system.api.get("/api/plays", params=params)
    assert response.status_code == 200, response.text
    return list(response.json())


async def until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


def emergency(system: System, commune_id: int, bulletin_id: str, interrupted: str) -> dict[str, Any]:
    """The two-step confirmation: preview, then confirm with the token."""
    request = {"commune_id": commune_id, "bulletin_id": bulletin_id, "interrupted": interrupted}
    preview = system.api.post("/api/emergencies/preview", json=request)
    assert preview.status_code == 200, preview.text
    assert len(preview.json()["clusters"]) == AGENTS
    forged = system.api.post("/api/emergencies", json={"confirm_token": preview.json()["confirm_token"] + "x"})
    assert forged.status_code == 422 and "không hợp lệ" in forged.json()["detail"]
    started = system.api.post("/api/emergencies", json={"confirm_token": preview.json()["confirm_token"]})
    assert started.status_code == 201, started.text
    return dict(started.json())


def test_an_emergency_preempts_a_broadcast_and_the_kill_switch_silences_it(system: System, tmp_path: Path) -> None:
    commune_id, ids = seed_commune(system.api, AGENTS)
    normal = approved(system, {**SHORT_BULLETIN, "body": LONG_BODY})
    storm = approved(system, STORM)
    fleet = fleet_for(system, ids, tmp_path / "agents", speed=1.0)

    async def scenario() -> None:
        await fleet.start()
        try:
            assert await fleet.wait_for("connected", AGENTS, timeout=60)
            booking = system.api.post(
                "/api/schedules",
                json={
                    "bulletin_id": normal["id"],
                    "commune_id": commune_id,
                    "starts_at": (utcnow() + timedelta(seconds=4)).isoformat(),
                },
            )
            assert booking.status_code == 201, booking.text
            assert await fleet.wait_for("started", AGENTS, timeout=60)
            await asyncio.sleep(1.0)  # a second into the normal bulletin

            first = emergency(system, commune_id, storm["id"], "skip")
            assert await fleet.wait_for("finished", AGENTS, timeout=60)
            by_id = {p["id"]: p for p in plays(system)}
            await until(
                lambda: {p["status"] for p in plays(system, schedule_id=booking.json()["id"])} == {"skipped"},
                30,
                "the normal plays to be confirmed skipped",
            )
            for p in plays(system, schedule_id=booking.json()["id"]):
                assert "preempted" in (p["reason"] or ""), p
                assert p["duration_played_s"] is None or p["duration_played_s"] < normal["duration_s"]
            await until(
                lambda: all(p["status"] == "finished" for p in plays(system) if p["bulletin_id"] == storm["id"]),
                30,
                "the emergency plays to finish",
            )
            assert len([p for p in plays(system) if p["bulletin_id"] == storm["id"]]) == AGENTS
            assert first["interrupted"] == "skip" and len(by_id) >= AGENTS

            # A second emergency, stopped by the kill switch while it plays.
            emergency(system, commune_id, normal["id"], "skip")
            await until(lambda: all(fleet.players[a].is_playing for a in ids), 30, "the second emergency to play")
            stopped = system.api.post("/api/stop-all", json={"commune_id": commune_id})
            assert stopped.status_code == 200, stopped.text
            assert sorted(stopped.json()["clusters"]) == sorted(ids)
            await until(lambda: not any(fleet.players[a].is_playing for a in ids), 10, "every player to stop")
            await asyncio.sleep(3.0)  # amplifier cooldown
            for agent_id in ids:
                relay = fleet.pin_factories[agent_id].pin(17)
                assert relay.state, f"{agent_id}: amplifier left on after stop-all"
            listed = system.api.get("/api/emergencies").json()
            assert len(listed) == 2 and all(e["stopped_at"] for e in listed)
        finally:
            await fleet.stop()

    asyncio.run(scenario())


def test_an_unapproved_bulletin_cannot_be_an_emergency(system: System) -> None:
    commune_id, _ = seed_commune(system.api, 1)
    draft = system.api.post("/api/bulletins", json=STORM).json()
    preview = system.api.post("/api/emergencies/preview", json={"commune_id": commune_id, "bulletin_id": draft["id"]})
    assert preview.status_code == 422
    assert "chưa được lãnh đạo duyệt" in preview.json()["detail"]
