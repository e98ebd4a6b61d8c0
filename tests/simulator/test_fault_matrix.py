"""The fault matrix: 250 real agents against a real controller on Mosquitto, every fault kind at once.

One bulletin is booked for the whole commune, 60 s after the fleet starts. A fixed-seed, exclusive
`FaultPlan` hits 10 agents with each of 16 rules; 90 stay healthy. Every rule's outcome follows
from the protocol, so the test knows in advance what each agent's play must end as, and asserts
it per agent, exactly: played plays counted once, missed ones reported with their reason.

Fault times are seconds after the fleet started; windows keep wide margins around the slot
(downloads end within a few seconds of the start, even on a loaded machine well before the first
timed fault at 40 s; the slot is at 60 s, its grace ends at 75 s).
"""

from __future__ import annotations

import asyncio
import resource
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from common.clock import utcnow
from simulator.demo import seed_commune
from simulator.faults import FaultKind, parse_faults
from simulator.fleet import Fleet, FleetSpec
from simulator.local import quiet_hours_away_from_now
from simulator.steps import submit_and_approve
from tests.conftest import BrokerEndpoint
from tests.e2e.conftest import SHORT_BULLETIN, System, quarter_params, running_system, system_settings

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

AGENTS = 250
SEED = 766_2025
SPEED = 40.0
SLOT_AT_S = 60.0
"""The play starts this long after the fleet does; the first timed fault comes at 40 s."""
GRACE_S = 15.0
"""How late a play may start: the agents' late grace and the controller's play grace."""
MISSED_GRACE_S = 5.0
SETTLE_S = 150.0
"""The longest the test waits, from the fleet's start, for every play to reach its expected end."""

FINISHED = ("finished", None)
MATRIX: list[tuple[str, tuple[str, str | None], str]] = [
    ("offline=0.04", ("missed", "agent-offline"), "never online: the controller marks the play missed"),
    ("offline=0.04:at=40:for=40", FINISHED, "offline through the slot: plays from the cache, confirms later"),
    ("offline=0.04:at=0:for=85", ("skipped", "late"), "the manifest arrives after the slot and its grace"),
    ("flap=0.04:period=3:for=30", FINISHED, "a link down 3 s, up 3 s: manifest, audio and outbox get through"),
    ("drop=0.04:every=3:times=6", FINISHED, "lost messages come again: QoS 1 and the outbox"),
    ("slow-download=0.04:kbps=96", FINISHED, "a slow link still brings the audio long before the slot"),
    ("fail-download=0.04:times=2", FINISHED, "two cut downloads, then a resumed one"),
    ("fail-download=0.04:times=always", ("failed", "download-failed"), "every download cut: given up at the grace"),
    ("skew=0.04:offset=1.5", FINISHED, "a clock 1.5 s fast plays 1.5 s early"),
    ("skew=0.04:offset=90", ("skipped", "late"), "a clock 90 s fast thinks the slot and its grace are over"),
    ("drift=0.04:ppm=500", FINISHED, "a drifting clock is still within the grace"),
    ("play-error=0.04", ("failed", "device-unavailable"), "ALSA cannot open the device"),
    ("crash=0.04:at=40:down=5", FINISHED, "a crash after the download, back well before the slot"),
    ("crash=0.04:at=45:down=inf", ("missed", "no-confirmation"), "dead after confirming the download"),
    ("power-cut=0.04:during=download:down=3", FINISHED, "the download resumes after the reboot"),
    ("power-cut=0.04:during=play:down=3", ("failed", "interrupted"), "never replayed after the reboot"),
]
"""Each rule, the end it must bring each of its agents' play to, and why."""
NOT_DOWNLOADING = {"offline=0.04", "offline=0.04:at=0:for=85", "fail-download=0.04:times=always", "skew=0.04:offset=90"}
"""Groups that never get the audio; every other agent has it before the first timed fault (40 s) on a sane machine."""


@pytest.fixture
def system(database_url: str, mosquitto: BrokerEndpoint, tmp_path: Path) -> Iterator[System]:
    """The whole controller on Mosquitto, with short graces, and no timed manifest refresh to race the test."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or hard > soft):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # 250 agents, 160 links, their sockets
    settings, admin = system_settings(
        tmp_path,
        "faults",
        database_url=database_url,
        mqtt_url=mosquitto.url,
        play_grace_s=GRACE_S,
        missed_grace_s=MISSED_GRACE_S,
        manifest_refresh_s=3600.0,
        expansion_refresh_s=3600.0,
    )
    try:
        with running_system(settings, admin) as system:
            yield system
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def outcome(play: dict[str, Any]) -> tuple[str, str | None]:
    """A play's status and its reason code (the part before any ': detail')."""
    reason = play["reason"]
    return play["status"], reason.split(":", 1)[0] if reason else None


def test_every_fault_kind_at_once_ends_each_play_exactly_as_expected(system: System, tmp_path: Path) -> None:
    plan = parse_faults([spec for spec, _, _ in MATRIX], seed=SEED, exclusive=True)
    assert {rule.kind for rule in plan.rules} == set(FaultKind)
    commune_id, ids = seed_commune(system.api, AGENTS)
    hit = plan.assignments(ids)
    expected: dict[str, tuple[str, str | None]] = {}
    for agent_id, rules in hit.items():
        expected[agent_id] = MATRIX[plan.rules.index(rules[0])][1] if rules else FINISHED
    group = {a: MATRIX[plan.rules.index(rules[0])][0] if rules else "healthy" for a, rules in hit.items()}
    assert Counter(group.values()) == {**{spec: 10 for spec, _, _ in MATRIX}, "healthy": 90}

    bulletin = system.api.post("/api/bulletins", json=SHORT_BULLETIN).json()
    asset = system.api.post(f"/api/bulletins/{bulletin['id']}/render")
    assert asset.status_code == 200, asset.text
    submit_and_approve(system.api, bulletin["id"], override="test: short audio")

    fleet = Fleet(
        ids,
        FleetSpec(
            broker_url=system.controller.broker_url,
            public_key=system.controller.public_key,
            topic_root=system.settings.topic_root,
            media_base_url=system.base_url,
            state_root=tmp_path / "agents",
            speed=SPEED,
            quiet_hours=quiet_hours_away_from_now(),
            late_grace_s=GRACE_S,
            reconnect_max_s=4.0,
            faults=plan,
        ),
    )
    # Booked before the fleet starts: every agent finds its retained manifest when it first connects,
    # so the slot stands at a fixed point of the fault timeline, whatever the connection times.
    booking = system.api.post(
        "/api/schedules",
        json={
            "bulletin_id": bulletin["id"],
            "commune_id": commune_id,
            "starts_at": (utcnow() + timedelta(seconds=SLOT_AT_S)).isoformat(),
            "slot_name": "Fault matrix",
        },
    )
    assert booking.status_code == 201, booking.text
    schedule = booking.json()
    assert schedule["play_count"] == AGENTS
    missed_after = time.monotonic() + SLOT_AT_S + asset.json()["duration_s"] + MISSED_GRACE_S + 1.0

    def observed() -> dict[str, tuple[str, str | None]]:
        assert system.controller.ingestor.wait_idle(10)
        plays = system.api.get("/api/plays", params={"schedule_id": schedule["id"]}).json()
        return {p["agent_id"]: outcome(p) for p in plays}

    downloaders = {a for a in ids if group[a] not in NOT_DOWNLOADING}
    ready_after: list[float] = []

    statuses: dict[str, str] = {}

    async def run() -> dict[str, tuple[str, str | None]]:
        started = time.monotonic()
        deadline = started + SETTLE_S
        await fleet.start()
        try:
            while True:
                await asyncio.sleep(1.0)
                if not ready_after and downloaders <= fleet.progress.reached["downloaded"]:
                    ready_after.append(time.monotonic() - started)
                if time.monotonic() > missed_after:
                    await asyncio.to_thread(system.controller.jobs.mark_missed)
                seen = await asyncio.to_thread(observed)
                if seen == expected or time.monotonic() > deadline:
                    agents = await asyncio.to_thread(system.api.get, "/api/agents", params={"commune_id": commune_id})
                    statuses.update({a["id"]: a["status"] for a in agents.json()})  # before the fleet says goodbye
                    return seen
        finally:
            await fleet.stop()

    seen = asyncio.run(run())
    wrong = {a: (group[a], expected[a], seen.get(a)) for a in ids if seen.get(a) != expected[a]}
    setup = f"{ready_after[0]:.0f} s" if ready_after else "never"
    assert not wrong, (
        f"{len(wrong)} plays ended otherwise than expected (group, expected, seen): {wrong}; "
        f"every agent that needs the audio had it after {setup} (the plan assumes well under 40 s)"
    )
    assert observed() == expected  # and nothing moved once the fleet stopped

    # Liveness as the officer sees it, before the healthy agents' goodbyes: a post that died for good is
    # offline by its Last Will (not left "online" by the telemetry it sent before); healthy ones are online.
    dead = {a for a in ids if group[a] == "crash=0.04:at=45:down=inf"}
    never = {a for a in ids if group[a] == "offline=0.04"}
    assert {statuses[a] for a in dead} == {"offline"}, {a: statuses[a] for a in dead}
    assert "online" not in {statuses[a] for a in never}
    healthy = {a for a in ids if group[a] == "healthy"}
    assert {statuses[a] for a in healthy} == {"online"}, {a: statuses[a] for a in healthy if statuses[a] != "online"}

    # Each played item counted once: the report counts exactly the finished plays.
    finished = sum(1 for o in expected.values() if o == FINISHED)
    assert finished == 90 + 10 * sum(1 for _, o, _ in MATRIX if o == FINISHED)
    report = system.api.get("/api/reports/quarterly", params=quarter_params(schedule["starts_at"])).json()
    assert (report["total_planned_plays"], report["total_confirmed_plays"]) == (AGENTS, finished)

    # And each agent's speaker: one whole play for a finished play, one cut short by the power cut,
    # none otherwise; nothing played twice across crashes and reboots.
    for agent_id in ids:
        audio = [r for r in fleet.players[agent_id].history if r.kind == "audio"]
        if expected[agent_id] == FINISHED:
            assert [r.outcome.completed for r in audio] == [True], agent_id
        elif expected[agent_id] == ("failed", "interrupted"):
            assert [r.outcome.completed for r in audio] == [False], agent_id
        else:
            assert audio == [], agent_id
    # Confirmed `started` once per play that reached the player: finished, cut by the power, or refused by ALSA.
    reached_player = sum(
        1 for o in expected.values() if o in (FINISHED, ("failed", "interrupted"), ("failed", "device-unavailable"))
    )
    assert fleet.progress.events["started"] == reached_player
    assert fleet.progress.events["finished"] == finished

    # The faults took effect as planned.
    def members(spec: str) -> list[str]:
        return [a for a in ids if group[a] == spec]

    assert fleet.progress.events["crashed"] == 40
    assert fleet.progress.events["rebooted"] == 30
    assert all(fleet.links[a].stats.lost_packets == 6 for a in members("drop=0.04:every=3:times=6"))
    assert all(fleet.links[a].stats.download_cuts == 2 for a in members("fail-download=0.04:times=2"))
    assert all(fleet.links[a].stats.refused > 0 for a in members("offline=0.04"))
    assert not fleet.links.keys() & set(members("healthy") + members("play-error=0.04"))
