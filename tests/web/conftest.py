"""A whole controller with two seeded communes and their logins, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import secrets
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from sqlalchemy import select

from controller.app import create_app
from controller.config import Settings
from controller.db.models import Agent, AudioAsset, Bulletin, Play, PlayEvent
from controller.db.session import transaction
from controller.runtime import Controller
from controller.schemas import AgentCreate, CommuneCreate, ProvinceCreate, VillageCreate
from controller.server import ServerThread
from controller.services import geo
from controller.services.users import Role, create_user
from simulator.local import free_port, quiet_hours_away_from_now

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("LOA_CI_ARTIFACTS", REPO / "ci-artifacts")) / "screenshots"
VIEWPORTS = {"phone": (390, 844), "desktop": (1366, 900)}

# Around Phú Giáo, Bình Dương: clusters a few hundred metres apart.
BASE_LAT, BASE_LON = 11.29, 106.79


@dataclass
class Commune:
    id: int
    name: str
    village_ids: list[int]
    agent_ids: list[str]


@dataclass
class Site:
    """A running controller, its seeded places and one login per role."""

    controller: Controller
    settings: Settings
    base_url: str
    province_id: int
    a: Commune
    b: Commune
    logins: dict[str, tuple[str, str]] = field(default_factory=dict)

    def api(self, who: str) -> httpx.Client:
        """An API client that signs in with HTTP Basic as `who`."""
        return httpx.Client(base_url=self.base_url, timeout=60, auth=self.logins[who])


def _seed(controller: Controller, prefix: str) -> tuple[int, Commune, Commune, dict[str, tuple[str, str]]]:
    with transaction(controller.session_factory) as s:
        p = geo.create_province(s, ProvinceCreate(code=f"{prefix}-bd", name="Tỉnh Bình Dương"))
        communes = []
        for n, (code, name) in enumerate((("ab", "Xã An Bình"), ("hl", "Xã Hòa Lạc"))):
            c = geo.create_commune(s, CommuneCreate(province_id=p.id, code=f"{prefix}-{code}", name=name))
            c.quiet_start, c.quiet_end = quiet_hours_away_from_now()  # the tests run at any hour
            villages = [geo.create_village(s, VillageCreate(commune_id=c.id, name=v)) for v in ("Thôn Một", "Thôn Hai")]
            agents = []
            for i in range(4):
                agent = geo.register_agent(
                    s,
                    AgentCreate(
                        id=f"{prefix}-{code}-{i + 1:02d}",
                        commune_id=c.id,
                        village_id=villages[i % 2].id,
                        name=f"Cụm {i + 1} {villages[i % 2].name}",
                        latitude=BASE_LAT + 0.05 * n + 0.004 * i,
                        longitude=BASE_LON + 0.003 * (i % 3),
                    ),
                )
                agents.append(agent.id)
            communes.append(Commune(c.id, name, [v.id for v in villages], agents))
        a, b = communes
        logins: dict[str, tuple[str, str]] = {}
        users = {
            "admin": (Role.ADMIN, {}),
            "tinh": (Role.PROVINCE, {"province_id": p.id}),
            "canbo_a": (Role.OFFICER, {"commune_id": a.id}),
            "lanhdao_a": (Role.LEADER, {"commune_id": a.id}),
            "canbo_b": (Role.OFFICER, {"commune_id": b.id}),
        }
        for name, (role, where) in users.items():
            username, password = f"{prefix}.{name}", secrets.token_urlsafe(12)
            create_user(s, username, password, role, full_name=name, **where)
            logins[name] = (username, password)
    return p.id, a, b, logins


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One controller per test module (SQLite, embedded broker), seeded with two communes of four clusters."""
    tmp = tmp_path_factory.mktemp("web")
    run = uuid.uuid4().hex[:8]
    port = free_port()
    settings = Settings(
        data_dir=tmp / "controller",
        embedded_mqtt_port=free_port(),
        http_port=port,
        mqtt_client_id=f"web-{run}",
        topic_root=f"web{run}/loa/v1",
    )
    app = create_app(settings)
    server = ServerThread(app, settings.http_host, port)
    server.start()
    try:
        controller: Controller = app.state.controller
        province_id, a, b, logins = _seed(controller, f"w{run[:4]}")
        yield Site(controller, settings, settings.resolved_public_base_url, province_id, a, b, logins)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium (not a downloaded build), headless."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("Debian's chromium is not installed: apt-get install chromium (scripts/system-deps.sh)")
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True, args=[*args, "--disable-dev-shm-usage"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def context(browser: Browser, site: Site) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=site.base_url, locale="vi-VN", viewport={"width": 390, "height": 844})
    ctx.set_default_timeout(20_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def login(page: Page, site: Site, who: str) -> None:
    """Sign in through the form, as a person would."""
    username, password = site.logins[who]
    page.goto("/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()


def nav_to(page: Page, label: str) -> None:
    """Follow a main navigation link; on a phone the last ones sit behind “Thêm” in the bottom bar."""
    nav = page.get_by_role("navigation", name="Điều hướng chính")
    link = nav.get_by_role("link", name=label, exact=True)
    if not link.is_visible():
        nav.get_by_text("Thêm", exact=True).click()
    link.click()
    page.wait_for_load_state()


def screenshot(page: Page, name: str) -> list[Path]:
    """Save the page at phone and desktop widths under ci-artifacts/screenshots/, and return the files."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    saved = []
    for label, (width, height) in VIEWPORTS.items():
        page.set_viewport_size({"width": width, "height": height})
        # Wide tables scroll inside their own box; the page itself never scrolls sideways on a phone.
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"{name}: {scroll_width}px wide at {label} width {width}px"
        path = SCREENSHOTS / f"{name}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        saved.append(path)
    page.set_viewport_size({"width": VIEWPORTS["phone"][0], "height": VIEWPORTS["phone"][1]})
    for path in saved:
        assert path.stat().st_size > 1000, path
    return saved


def seed_history(site: Site) -> dict[str, int]:
    """Today in commune A: a bulletin played on 3 clusters, missed on 1; one cluster offline and one skewed.

    Written straight to the database, as the ingest would leave it. Returns the expected counts.
    """
    now = site.controller.clock.now()
    with transaction(site.controller.session_factory) as s:
        bulletin = Bulletin(
            id=f"hist-{uuid.uuid4().hex[:6]}",
            commune_id=site.a.id,
            title="Phòng chống lừa đảo qua mạng",
            topic="an-ninh-mang",
            body="Nội dung.",
            status="approved",
        )
        s.add(bulletin)
        s.flush()
        asset = AudioAsset(
            bulletin_id=bulletin.id, sha256="ef" * 32, size_bytes=1, duration_s=200.0, engine="espeak-ng", voice="vi"
        )
        s.add(asset)
        s.flush()
        bulletin.audio_asset_id = asset.id
        # Half an hour ago, but never before local midnight: the dashboard counts today (Vietnam time), and CI
        # runs at any hour.
        local = now.astimezone(ZoneInfo(site.controller.settings.timezone))
        since_midnight = local - local.replace(hour=0, minute=0, second=0, microsecond=0)
        start = now - min(timedelta(minutes=30), since_midnight / 2)
        for i, agent_id in enumerate(site.a.agent_ids):
            play = Play(
                id=uuid.uuid4().hex,
                agent_id=agent_id,
                bulletin_id=bulletin.id,
                audio_asset_id=asset.id,
                starts_at=start,
                status="missed" if i == 3 else "finished",
                duration_played_s=None if i == 3 else 200.0,
            )
            s.add(play)
            s.flush()
            if i < 3:
                s.add(
                    PlayEvent(
                        msg_id=uuid.uuid4().hex,
                        play_id=play.id,
                        agent_id=agent_id,
                        event="finished",
                        at=start + timedelta(seconds=200),
                        started_at=start,
                        ended_at=start + timedelta(seconds=200),
                        duration_played_s=200.0,
                    )
                )
        for i, agent in enumerate(s.scalars(select(Agent).where(Agent.commune_id == site.a.id).order_by(Agent.id))):
            agent.status = "offline" if i == 3 else "online"
            agent.last_seen_at = now - timedelta(minutes=5 if i < 3 else 90)
            agent.volume = 70
            agent.clock_offset_s = 2.5 if i == 2 else 0.05
    return {"done": 3, "missed": 1, "online": 3, "offline": 1}


AXE = Path(__file__).parent / "vendor" / "axe.min.js"


def inject_axe(page: Page) -> None:
    """Load the vendored axe-core into the page. Evaluated over the DevTools protocol, so the page's CSP (no inline
    script) stays on for the test: a script tag would be refused."""
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")
