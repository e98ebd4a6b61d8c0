"""A controller restart in the middle of a slot neither drops nor repeats a play."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from controller.app import create_app
from controller.db.models import Play, PlayEvent
from controller.db.session import make_engine, make_session_factory
from controller.server import ServerThread
from simulator.demo import seed_commune
from simulator.fleet import Fleet, FleetSpec
from simulator.local import quiet_hours_away_from_now
from simulator.steps import submit_and_approve
from tests.conftest import BrokerEndpoint
from tests.e2e.conftest import SHORT_BULLETIN, system_settings

pytestmark = pytest.mark.e2e

AGENTS = 4
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def test_a_restart_mid_slot_neither_drops_nor_repeats_a_play(mosquitto: BrokerEndpoint, tmp_path: Path) -> None:
    run = uuid.uuid4().hex[:8]
    settings, admin = system_settings(tmp_path, "restart", mqtt_url=mosquitto.url)
    port = settings.http_port
    base = settings.resolved_public_base_url

    def start() -> ServerThread:
        server = ServerThread(create_app(settings), settings.http_host, port)
        server.start()
        return server

    server = start()
    api = httpx.Client(base_url=base, timeout=60, auth=admin)
    try:
        commune_id, ids = seed_commune(api, AGENTS, prefix=f"r{run}")
        items = []
        for title in ("Tin thứ nhất", "Tin thứ hai"):
            b = api.post("/api/bulletins", json={**SHORT_BULLETIN, "title": title}).json()
            assert api.post(f"/api/bulletins/{b['id']}/render").status_code == 200
            submit_and_approve(api, b["id"], override="test: short audio")
            items.append(b["id"])
        # A slot that starts at the next whole minute (at least 10 s away), local time.
        now = datetime.now(ZONE)
        start_at = (now + timedelta(seconds=70 if now.second > 50 else 60)).replace(second=0, microsecond=0)
        slot = api.post(
            "/api/slots",
            json={"commune_id": commune_id, "name": "Thử", "start_time": f"{start_at:%H:%M}", "length_min": 5},
        )
        assert slot.status_code == 201, slot.text
        programme = api.post(
            "/api/programmes",
            json={
                "commune_id": commune_id,
                "slot_id": slot.json()["id"],
                "name": "Chương trình thử",
                "bulletin_ids": items,
                "recurrence": {"kind": "dates", "dates": [start_at.date().isoformat()]},
                "acknowledged": ["unusual-time", "first-weekend"],
            },
        )
        assert programme.status_code == 201, programme.text
        before = {p["id"] for p in api.get("/api/plays").json()}
        assert len(before) == 2 * AGENTS

        fleet = Fleet(
            ids,
            FleetSpec(
                broker_url=mosquitto.url,
                public_key=api.get("/api/system").json()["public_key"],
                topic_root=settings.topic_root,
                media_base_url=base,
                state_root=tmp_path / "agents",
                quiet_hours=quiet_hours_away_from_now(),
            ),
        )

        async def scenario() -> None:
            nonlocal server
            await fleet.start()
            try:
                wait = (start_at - datetime.now(ZONE)).total_seconds() + 60
                assert await fleet.wait_for("started", AGENTS, timeout=wait), fleet.progress.line()
                server.stop()  # mid-slot: the first item plays, the second is still ahead
                await asyncio.sleep(1.0)
                server = start()
                assert await fleet.wait_for("confirmed", AGENTS, timeout=30)
                deadline = asyncio.get_running_loop().time() + 60
                while fleet.progress.events["finished"] < 2 * AGENTS:
                    assert asyncio.get_running_loop().time() < deadline, fleet.progress.line()
                    await asyncio.sleep(0.5)
                await asyncio.sleep(2.0)  # let the last confirmations reach the database
            finally:
                await fleet.stop()

        asyncio.run(scenario())
        assert fleet.progress.events["started"] == 2 * AGENTS  # nothing played twice
        after = api.get("/api/plays").json()
        assert {p["id"] for p in after} == before  # the restart made no new plays
        assert {p["status"] for p in after} == {"finished"}
        engine = make_engine(settings.resolved_database_url)
        try:
            with make_session_factory(engine)() as s:
                finished = s.scalar(select(func.count()).select_from(PlayEvent).where(PlayEvent.event == "finished"))
                assert finished == 2 * AGENTS
                assert s.scalar(select(func.count()).select_from(Play)) == 2 * AGENTS
        finally:
            engine.dispose()
    finally:
        api.close()
        server.stop()
