"""Logins and roles over the real API: commune isolation, leader-only approval, read-only province."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from common.clock import utcnow
from controller.db.session import transaction
from controller.services.users import Role, create_user
from simulator.demo import seed_commune
from tests.e2e.conftest import SHORT_BULLETIN, System

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.parametrize("system", ["embedded"], indirect=True),
]
PASSWORD = "mat-khau-du-dai-1"


def login(system: System, username: str, password: str = PASSWORD) -> httpx.Client:
    return httpx.Client(base_url=system.base_url, timeout=60, auth=(username, password))


def test_roles_and_communes_are_enforced_on_every_route(system: System) -> None:
    c1, agents1 = seed_commune(system.api, 2, prefix="a")
    c2, agents2 = seed_commune(system.api, 1, prefix="b")
    province_id = system.api.get("/api/communes").json()[0]["province_id"]
    with transaction(system.controller.session_factory) as s:
        create_user(s, "canbo1", PASSWORD, Role.OFFICER, commune_id=c1)
        create_user(s, "chutich1", PASSWORD, Role.LEADER, commune_id=c1)
        create_user(s, "canbo2", PASSWORD, Role.OFFICER, commune_id=c2)
        create_user(s, "tinh", PASSWORD, Role.PROVINCE, province_id=province_id)

    with httpx.Client(base_url=system.base_url, timeout=60) as anonymous:
        assert anonymous.get("/api/bulletins").status_code == 401
        assert anonymous.get("/api/system").status_code == 200  # agents and enrolment read the public key
    with login(system, "canbo1", "sai-mat-khau-roi") as wrong:
        assert wrong.get("/api/bulletins").status_code == 401
    clients = [login(system, u) for u in ("canbo1", "chutich1", "canbo2", "tinh")]
    try:
        check(system, clients, c1, c2, agents1, agents2, province_id)
    finally:
        for client in clients:
            client.close()


def check(
    system: System,
    clients: list[httpx.Client],
    c1: int,
    c2: int,
    agents1: list[str],
    agents2: list[str],
    province_id: int,
) -> None:
    officer, leader, other, province = clients
    bulletin = officer.post("/api/bulletins", json=SHORT_BULLETIN).json()
    assert (bulletin["commune_id"], bulletin["status"], bulletin["created_by"]) == (c1, "draft", "canbo1")
    assert officer.post(f"/api/bulletins/{bulletin['id']}/render").status_code == 200
    submitted = officer.post(f"/api/bulletins/{bulletin['id']}/submit", json={"duration_override": "Tin ngắn."})
    assert submitted.status_code == 200, submitted.text
    assert officer.post(f"/api/bulletins/{bulletin['id']}/approve", json={}).status_code == 403
    approved = leader.post(f"/api/bulletins/{bulletin['id']}/approve", json={"comment": "Đồng ý"})
    assert approved.status_code == 200 and approved.json()["approved_by"] == "chutich1"
    booking = {
        "bulletin_id": bulletin["id"],
        "commune_id": c1,
        "starts_at": (utcnow() + timedelta(minutes=30)).isoformat(),
    }
    assert officer.post("/api/schedules", json=booking).status_code == 201

    # The other commune's officer sees nothing of commune 1 and can change nothing there.
    assert other.get(f"/api/bulletins/{bulletin['id']}").status_code == 404
    assert bulletin["id"] not in {b["id"] for b in other.get("/api/bulletins").json()}
    assert other.get("/api/agents", params={"commune_id": c1}).status_code == 403
    assert {a["id"] for a in other.get("/api/agents").json()} == set(agents2)
    assert other.post("/api/schedules", json=booking).status_code == 403
    assert other.post("/api/stop-all", json={"commune_id": c1}).status_code == 403
    assert other.post(f"/api/agents/{agents1[0]}/volume", json={"volume": 10}).status_code == 403
    assert other.get("/api/plays").json() == []

    # The province sees its communes (seed_commune made c2 in another province) and changes nothing.
    assert {c["id"] for c in province.get("/api/communes").json()} == {c1}
    assert province.get("/api/agents", params={"commune_id": c2}).status_code == 403
    assert province.get("/api/plays").status_code == 200 and len(province.get("/api/plays").json()) == 2
    assert province.post("/api/bulletins", json={**SHORT_BULLETIN, "commune_id": c1}).status_code == 403
    assert (
        province.post("/api/communes", json={"province_id": province_id, "code": "z", "name": "Z"}).status_code == 403
    )

    trail = officer.get(f"/api/bulletins/{bulletin['id']}/audit").json()
    assert [(e["actor"], e["action"]) for e in trail] == [
        ("canbo1", "create"),
        ("canbo1", "render"),
        ("canbo1", "submit"),
        ("chutich1", "approve"),
    ]
