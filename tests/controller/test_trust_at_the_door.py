"""Trust at the door: throttled logins, revocable sessions, API tokens, headers, Origin, file modes, no 5xx."""

from __future__ import annotations

import re
import stat
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from common.clock import ManualClock, utcnow
from controller.app import create_app
from controller.config import Settings
from controller.db.models import AuditEvent, Bulletin
from controller.db.session import transaction
from controller.file_modes import FilesTooOpen
from controller.runtime import Controller
from controller.schemas import CommuneCreate, ProvinceCreate
from controller.server import ServerThread
from controller.services import geo
from controller.services.throttle import LOCK_FOR, WINDOW
from controller.services.users import Role, create_user
from simulator.local import free_port, throwaway_admin

OFFICER_PASSWORD = "mat-khau-can-bo-1"


@dataclass
class Door:
    client: httpx.Client
    controller: Controller
    clock: ManualClock
    settings: Settings
    admin: tuple[str, str]
    officer: tuple[str, str]
    commune_id: int

    def browser(self, **kwargs: Any) -> httpx.Client:
        """A client of its own (its own cookies), like a second browser."""
        return httpx.Client(base_url=self.settings.resolved_public_base_url, timeout=30, **kwargs)

    def web_login(self, client: httpx.Client, who: tuple[str, str], **headers: str) -> httpx.Response:
        """The login form, as a browser submits it (its CSRF token first)."""
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        data = {"username": who[0], "password": who[1], "csrf_token": token.group(1)}
        return client.post("/login", data=data, headers=headers, follow_redirects=False)

    def csrf(self, client: httpx.Client) -> str:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text)
        assert token is not None
        return token.group(1)


def door_settings(tmp_path: Path, **overrides: Any) -> tuple[Settings, tuple[str, str]]:
    admin = throwaway_admin()
    run = uuid.uuid4().hex[:8]
    settings = Settings(
        admin_username=admin[0],
        admin_password=SecretStr(admin[1]),
        data_dir=tmp_path / "controller",
        embedded_mqtt_port=free_port(),
        http_port=free_port(),
        mqtt_client_id=f"door-{run}",
        topic_root=f"door{run}/loa/v1",
        **overrides,
    )
    return settings, admin


@pytest.fixture
def door(tmp_path: Path, database_url: str) -> Iterator[Door]:
    settings, admin = door_settings(tmp_path, database_url=database_url)
    clock = ManualClock(utcnow())
    app = create_app(settings, clock=clock)
    server = ServerThread(app, settings.http_host, settings.http_port)
    server.start()
    try:
        client = httpx.Client(base_url=settings.resolved_public_base_url, timeout=30)
        controller: Controller = app.state.controller
        with transaction(controller.session_factory) as s:
            p = geo.create_province(s, ProvinceCreate(code="NA", name="Nghệ An"))
            c = geo.create_commune(s, CommuneCreate(province_id=p.id, code="tl", name="Xã Trung Lộc"))
            create_user(s, "canbo.tl", OFFICER_PASSWORD, Role.OFFICER, commune_id=c.id)
            commune_id = c.id
        yield Door(client, controller, clock, settings, admin, ("canbo.tl", OFFICER_PASSWORD), commune_id)
        client.close()
    finally:
        server.stop()


def audit_actions(door: Door, action: str) -> list[AuditEvent]:
    with door.controller.session_factory() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_the_51st_wrong_login_is_throttled_and_audited_and_the_user_gets_in_after_the_window(door: Door) -> None:
    username = door.officer[0]
    answers = []
    with door.browser() as browser:
        for _ in range(25):
            answers.append(door.web_login(browser, (username, "sai-mat-khau")).status_code)
    for _ in range(25):
        answers.append(door.client.get("/api/communes", auth=(username, "sai-mat-khau")).status_code)
    assert set(answers) <= {401, 429}
    assert 429 in answers[:12], answers  # the delays start after a few failures, web form and Basic alike
    fifty_first = door.client.get("/api/communes", auth=(username, "sai-mat-khau"))
    assert fifty_first.status_code == 429
    assert "thử lại" in fifty_first.json()["detail"]
    assert int(fifty_first.headers["retry-after"]) > 0
    locks = audit_actions(door, "login-locked")
    # The account locked first; the 30 failures from this one address then locked the address too.
    assert [e.object_id for e in locks] == [f"user:{username}", "addr:127.0.0.1"]
    # Locked: even the right password waits, on the API and on the form.
    assert door.client.get("/api/communes", auth=door.officer).status_code == 429
    with door.browser() as browser:
        refused = door.web_login(browser, door.officer)
        assert refused.status_code == 429 and "khóa" in refused.text
    # After the window the legitimate user gets in, and the account's record is cleared.
    door.clock.advance(max(WINDOW, LOCK_FOR) + timedelta(seconds=1))
    assert door.client.get("/api/communes", auth=door.officer).status_code == 200
    with door.browser() as browser:
        assert door.web_login(browser, door.officer).status_code == 303


def test_an_admin_lifts_a_lock(door: Door) -> None:
    username, _ = door.officer
    # The admin works from the same address, so uses an API token: the address is slowed down too.
    token = door.client.post("/api/me/tokens", json={"name": "quản trị"}, auth=door.admin).json()["token"]
    admin = {"authorization": f"Bearer {token}"}
    for _ in range(12):
        door.client.get("/api/communes", auth=(username, "sai-mat-khau"))
    locks = door.client.get("/api/login-locks", headers=admin).json()
    assert f"user:{username}" in [lock["key"] for lock in locks]
    assert door.client.get("/api/login-locks", auth=door.officer).status_code == 429  # the officer is locked out
    assert door.client.get("/api/login-locks", headers=admin).status_code == 200
    assert door.client.delete(f"/api/login-locks/user:{username}", headers=admin).status_code == 204
    assert door.client.delete("/api/login-locks/addr:127.0.0.1", headers=admin).status_code == 204
    assert door.client.get("/api/communes", auth=door.officer).status_code == 200
    unlocked = audit_actions(door, "login-unlocked")
    assert [(e.actor, e.object_id) for e in unlocked] == [
        (door.admin[0], f"user:{username}"),
        (door.admin[0], "addr:127.0.0.1"),
    ]


def test_a_cookie_copied_before_logout_is_refused_after_it(door: Door) -> None:
    with door.browser() as browser:
        assert door.web_login(browser, door.officer, **{"user-agent": "Chromium-test"}).status_code == 303
        copied = dict(browser.cookies)
        assert browser.get("/api/communes").status_code == 200
        with door.browser(cookies=copied) as thief:
            assert thief.get("/api/communes").status_code == 200
            # The admin sees the session, with its user agent.
            officer_id = _user_id(door)
            listed = door.client.get(f"/api/users/{officer_id}/sessions", auth=door.admin).json()
            assert [s["user_agent"] for s in listed] == ["Chromium-test"]
            assert browser.post("/logout", data={"csrf_token": door.csrf(browser)}).status_code in (200, 303)
            assert thief.get("/api/communes").status_code == 401
            assert thief.get("/", follow_redirects=False).headers["location"].startswith("/login")
    assert door.client.get(f"/api/users/{officer_id}/sessions", auth=door.admin).json() == []


def _user_id(door: Door) -> int:
    from controller.db.models import User

    with door.controller.session_factory() as s:
        user_id = s.scalar(select(User.id).where(User.username == door.officer[0]))
    assert user_id is not None
    return user_id


def test_a_password_change_and_sign_out_everywhere_revoke_sessions(door: Door) -> None:
    officer_id = _user_id(door)
    with door.browser() as browser:
        assert door.web_login(browser, door.officer).status_code == 303
        out = door.client.post(f"/api/users/{officer_id}/sign-out-everywhere", auth=door.admin)
        assert out.json() == {"revoked": 1}
        assert browser.get("/api/communes").status_code == 401
    with door.browser() as browser:
        assert door.web_login(browser, door.officer).status_code == 303
        wrong = browser.post("/api/me/password", json={"current_password": "khong-dung-1", "new_password": "x" * 12})
        assert wrong.status_code == 422 and "không đúng" in wrong.json()["detail"]
        changed = browser.post(
            "/api/me/password", json={"current_password": OFFICER_PASSWORD, "new_password": "mat-khau-moi-2"}
        )
        assert changed.status_code == 204
        assert browser.get("/api/communes").status_code == 401
    assert door.client.get("/api/communes", auth=door.officer).status_code == 401  # the old password is gone
    assert door.client.get("/api/communes", auth=(door.officer[0], "mat-khau-moi-2")).status_code == 200
    assert len(audit_actions(door, "password-changed")) == 1


def test_api_tokens_are_hashed_at_rest_and_revocable(door: Door) -> None:
    made = door.client.post("/api/me/tokens", json={"name": "máy báo cáo"}, auth=door.officer)
    assert made.status_code == 201
    token = made.json()["token"]
    bearer = {"authorization": f"Bearer {token}"}
    assert door.client.get("/api/communes", headers=bearer).status_code == 200
    with door.controller.session_factory() as s:
        from controller.db.models import ApiToken

        stored = s.scalars(select(ApiToken)).one()
        assert token not in (stored.token_hash, stored.prefix) and len(stored.token_hash) == 64
    listed = door.client.get("/api/me/tokens", headers=bearer).json()
    assert [t["name"] for t in listed] == ["máy báo cáo"] and "token" not in listed[0]
    assert door.client.delete(f"/api/me/tokens/{made.json()['id']}", headers=bearer).status_code == 204
    assert door.client.get("/api/communes", headers=bearer).status_code == 401
    assert door.client.get("/api/communes", headers={"authorization": "Bearer loa_forged"}).status_code == 401


def test_a_foreign_origin_is_refused_and_headers_are_set(door: Door) -> None:
    with door.browser() as browser:
        refused = door.web_login(browser, door.officer, origin="https://evil.example")
        assert refused.status_code == 403 and "trang web khác" in refused.json()["detail"]
        refused = door.web_login(browser, door.officer, referer="https://evil.example/form")
        assert refused.status_code == 403
        own = door.settings.resolved_public_base_url
        assert door.web_login(browser, door.officer, origin=own).status_code == 303
        stop = browser.post(
            "/api/stop-all", json={"commune_id": door.commune_id}, headers={"origin": "https://evil.example"}
        )
        assert stop.status_code == 403
        page = browser.get("/")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "http" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in page.headers  # plain http here
    api = door.client.get("/api/system")
    assert api.headers["x-content-type-options"] == "nosniff" and "content-security-policy" in api.headers
    assert "<script>" not in page.text and "onclick" not in page.text


def test_behind_https_the_cookie_is_secure_and_hsts_is_sent(tmp_path: Path) -> None:
    settings, _ = door_settings(tmp_path, public_base_url="https://loa.example.vn")
    server = ServerThread(create_app(settings), settings.http_host, settings.http_port)
    server.start()
    try:
        # The TLS proxy in front is not part of this test: ask the controller directly.
        page = httpx.get(f"http://{settings.http_host}:{settings.http_port}/login", timeout=30)
    finally:
        server.stop()
    assert page.headers["strict-transport-security"].startswith("max-age=")
    assert "secure" in page.headers["set-cookie"].lower()


def test_files_are_private_and_an_open_database_stops_the_start(tmp_path: Path) -> None:
    settings, _ = door_settings(tmp_path)
    controller: Controller = create_app(settings).state.controller
    controller.start()
    controller.stop()
    data = settings.data_dir
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for name in ("loa.db", "session_secret", "mqtt_secret", "controller_ed25519.pem"):
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name
    (data / "loa.db").chmod(0o644)
    with pytest.raises(FilesTooOpen, match="chmod 600") as refused:
        create_app(settings)
    assert "người dùng khác" in refused.value.message_vi
    (data / "loa.db").chmod(0o600)
    data.chmod(0o755)
    with pytest.raises(FilesTooOpen, match="chmod 700"):
        create_app(settings)


def test_the_five_schemathesis_findings_are_4xx(door: Door) -> None:
    api = door.admin
    c = door.client
    unknown = c.post("/api/stop-all", json={"commune_id": 999_999}, auth=api)
    assert unknown.status_code == 404 and unknown.json()["detail"] == "Không tìm thấy xã."
    assert c.post("/api/stop-all", json={"commune_id": True}, auth=api).status_code == 422
    with transaction(door.controller.session_factory) as s:
        s.add(Bulletin(id="b1", commune_id=door.commune_id, title="T", topic="an-ninh-mang", body="N", status="draft"))
    null = c.patch("/api/bulletins/b1", json={"priority": None}, auth=api)
    assert null.status_code == 422 and "mức ưu tiên" in null.json()["detail"]
    assert c.patch("/api/bulletins/b1", json={"voice": {"engine": "espeak-ng"}}, auth=api).status_code == 200
    nameless = c.patch("/api/bulletins/b1", json={"voice": {"engine": "edge-tts"}}, auth=api)
    assert nameless.status_code == 422 and "giọng" in nameless.json()["detail"]
    assert c.get(f"/api/communes/{2**63}/slots", auth=api).status_code == 422
    assert c.get("/api/villages", params={"commune_id": 2**63}, auth=api).status_code == 422
    jingle = c.patch("/api/bulletins/b1", json={"intro_jingle": "khong-co.wav"}, auth=api)
    assert jingle.status_code == 422 and "nhạc hiệu" in jingle.json()["detail"]


def test_the_admin_page_lists_a_users_sessions_and_signs_them_out(door: Door) -> None:
    officer_id = _user_id(door)
    with door.browser() as officer:
        assert door.web_login(officer, door.officer, **{"user-agent": "Officer-Phone"}).status_code == 303
        assert officer.get("/admin/sessions").status_code == 403  # admins only
        with door.browser() as admin:
            assert door.web_login(admin, door.admin).status_code == 303
            page = admin.get(f"/admin/sessions?user_id={officer_id}")
            assert page.status_code == 200 and "Officer-Phone" in page.text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert token is not None
            out = admin.post(
                f"/admin/users/{officer_id}/sign-out-everywhere",
                data={"csrf_token": token.group(1)},
                follow_redirects=True,
            )
            assert "khỏi 1 phiên" in out.text and "Officer-Phone" not in out.text
        assert officer.get("/clusters", follow_redirects=False).status_code == 303  # back to the login form


def test_pages_answer_out_of_range_ids_with_404(door: Door) -> None:
    with door.browser() as admin:
        assert door.web_login(admin, door.admin).status_code == 303
        for path in ("/clusters", "/log", "/reports", "/schedule"):
            page = admin.get(path, params={"commune_id": 2**63})
            assert page.status_code == 404, path
            assert "Không tìm thấy" in page.text
