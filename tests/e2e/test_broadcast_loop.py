"""The whole loop on a real broker: render, book, 20 agents download, play and confirm, report counts 20."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from simulator.demo import broadcast_once, seed_commune
from simulator.fleet import Fleet, FleetSpec
from simulator.local import quiet_hours_away_from_now
from simulator.steps import submit_and_approve
from tests.e2e.conftest import SHORT_BULLETIN, System, quarter_params

pytestmark = pytest.mark.e2e

AGENTS = 20


def render_short_bulletin(system: System) -> dict[str, Any]:
    bulletin = system.api.post("/api/bulletins", json=SHORT_BULLETIN)
    assert bulletin.status_code == 201, bulletin.text
    asset = system.api.post(f"/api/bulletins/{bulletin.json()['id']}/render")
    assert asset.status_code == 200, asset.text
    submit_and_approve(system.api, bulletin.json()["id"], override="test: short audio")
    return {"bulletin": bulletin.json(), "asset": asset.json()}


def fleet_for(system: System, ids: list[str], state: Path, speed: float = 4.0) -> Fleet:
    return Fleet(
        ids,
        FleetSpec(
            quiet_hours=quiet_hours_away_from_now(),
            broker_url=system.controller.broker_url,
            public_key=system.controller.public_key,
            topic_root=system.settings.topic_root,
            media_base_url=system.base_url,
            state_root=state,
            speed=speed,
            credentials=system.credentials,
        ),
    )


def test_twenty_agents_play_and_the_quarterly_report_counts_exactly_twenty(system: System, tmp_path: Path) -> None:
    commune_id, ids = seed_commune(system.api, AGENTS)
    made = render_short_bulletin(system)
    audio = system.api.get(made["asset"]["url"].removeprefix(system.base_url))
    assert audio.status_code == 200
    assert audio.headers["content-type"] == "audio/mpeg"
    assert "immutable" in audio.headers["cache-control"]
    assert audio.content[:3] == b"ID3" or audio.content[0] == 0xFF

    fleet = fleet_for(system, ids, tmp_path / "agents")

    relay: dict[str, tuple[list[bool], bool]] = {}

    async def run() -> dict[str, Any]:
        try:
            schedule = await broadcast_once(
                system.base_url,
                fleet,
                bulletin_id=made["bulletin"]["id"],
                commune_id=commune_id,
                lead_s=4.0,
                timeout_s=90,
                out=lambda _line: None,
                auth=system.api.auth,
            )
            await asyncio.sleep(1.0)  # the cooldown before the relay is released, at 4x speed
            for agent_id, pins in fleet.pin_factories.items():
                pin = pins.pin(17)
                relay[agent_id] = ([bool(s.state) for s in pin.states], bool(pin.state))
            return schedule
        finally:
            await fleet.stop()

    schedule = asyncio.run(run())
    assert system.controller.ingestor.wait_idle(10)
    plays = system.api.get("/api/plays", params={"schedule_id": schedule["id"]}).json()
    assert len(plays) == AGENTS
    assert {p["status"] for p in plays} == {"finished"}
    assert all(p["duration_played_s"] == pytest.approx(made["asset"]["duration_s"], rel=0.05) for p in plays)
    assert fleet.progress.count("downloaded") == AGENTS
    assert fleet.progress.events["started"] == AGENTS  # each agent played exactly once

    report = system.api.get("/api/reports/quarterly", params=quarter_params(schedule["starts_at"])).json()
    assert report["total_confirmed_plays"] == AGENTS
    assert report["total_planned_plays"] == AGENTS
    (row,) = report["rows"]
    assert (row["topic"], row["confirmed_plays"], row["bulletins_broadcast"]) == ("an-ninh-mang", AGENTS, 1)
    assert row["confirmed_minutes"] == pytest.approx(AGENTS * made["asset"]["duration_s"] / 60, rel=0.05)

    # Every agent's low-trigger relay (GPIO 17) was pulled low for the play and released after.
    assert len(relay) == AGENTS
    for agent_id, (history, now_high) in relay.items():
        assert False in history, f"{agent_id}: amplifier never switched on"
        assert now_high, f"{agent_id}: amplifier left on"


def test_openapi_is_served(system: System) -> None:
    spec = system.api.get("/openapi.json").json()
    for path in ("/api/bulletins", "/api/schedules", "/api/reports/quarterly", "/media/{sha256}.mp3", "/api/agents"):
        assert path in spec["paths"], path
    assert system.api.get("/docs").status_code == 200


def test_bad_requests_get_vietnamese_errors(system: System) -> None:
    missing = system.api.post("/api/bulletins/khong-co/render")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "Không tìm thấy bản tin."
    assert system.api.get("/media/" + "0" * 64 + ".mp3").status_code == 404
    assert system.api.get("/media/..%2F..%2Fetc%2Fpasswd.mp3").status_code == 404


def test_a_write_is_visible_to_the_very_next_request(system: System) -> None:
    """The request's transaction commits before the response leaves, never after."""
    for i in range(25):
        created = system.api.post("/api/bulletins", json={**SHORT_BULLETIN, "title": f"Bản tin {i}"})
        assert created.status_code == 201, created.text
        fetched = system.api.get(f"/api/bulletins/{created.json()['id']}")
        assert fetched.status_code == 200, fetched.text
        assert fetched.json()["title"] == f"Bản tin {i}"


def test_the_officer_sees_the_normalised_text_that_will_be_read(system: System) -> None:
    body = "UBND xã thông báo: từ 17h30 ngày 27/5/2026, phí là 500.000 đồng theo Quyết định số 1369/QĐ-UBND."
    created = system.api.post("/api/bulletins", json={**SHORT_BULLETIN, "body": body}).json()
    spoken = system.api.get(f"/api/bulletins/{created['id']}/spoken-text").json()["text"]
    for expected in (
        "Ủy ban nhân dân xã",
        "mười bảy giờ ba mươi phút",
        "ngày hai mươi bảy tháng năm năm hai nghìn không trăm hai mươi sáu",
        "năm trăm nghìn đồng",
        "một nghìn ba trăm sáu mươi chín",
    ):
        assert expected in spoken, (expected, spoken)
    assert not any(ch.isdigit() for ch in spoken)
