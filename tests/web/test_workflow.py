"""The issue's whole story in Chromium: officer writes and submits, leader approves, officer books it,
simulated agents play it, and the dashboard and the quarterly report show what they confirmed."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from controller.db.models import Agent, Play, PlayEvent
from simulator.fleet import Fleet, FleetSpec
from simulator.local import quiet_hours_away_from_now
from tests.web.conftest import Site, login, nav_to, screenshot

pytestmark = pytest.mark.e2e

SPEED = 4.0
BODY = (
    "UBND xã thông báo: từ 17h30 ngày 27/5/2026, bà con cảnh giác với cuộc gọi giả danh công an "
    "yêu cầu chuyển tiền. Không cung cấp mã xác thực cho bất kỳ ai."
)


class FleetThread:
    """The simulated agents on their own asyncio loop, beside Playwright's synchronous API."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fleet", daemon=True)

    def start(self) -> None:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.fleet.start(), self.loop).result(30)
        n = len(self.fleet.agent_ids)
        connected = asyncio.run_coroutine_threadsafe(self.fleet.wait_for("connected", n, 60), self.loop).result(90)
        assert connected, self.fleet.progress.line()

    def stop(self) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self.fleet.stop(), self.loop).result(60)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(30)
            self.loop.close()


@pytest.fixture
def fleet(site: Site, tmp_path: Path) -> Iterator[Fleet]:
    """Commune A's four clusters, as real edge agents with virtual players, connected to the broker."""
    controller = site.controller
    broker = controller.embedded_broker
    assert broker is not None
    spec = FleetSpec(
        broker_url=controller.broker_url,
        public_key=controller.public_key,
        topic_root=site.settings.topic_root,
        media_base_url=site.base_url,
        state_root=tmp_path / "agents",
        speed=SPEED,
        credentials=broker.credentials,
        quiet_hours=quiet_hours_away_from_now(),
    )
    runner = FleetThread(Fleet(site.a.agent_ids, spec))
    runner.start()
    try:
        yield runner.fleet
    finally:
        runner.stop()


def finished_plays(site: Site) -> int:
    with site.controller.session_factory() as s:
        stmt = (
            select(func.count(PlayEvent.id))
            .join(Play, Play.id == PlayEvent.play_id)
            .join(Agent, Agent.id == Play.agent_id)
            .where(PlayEvent.event == "finished", Agent.commune_id == site.a.id)
        )
        return s.scalar(stmt) or 0


def test_officer_to_leader_to_agents_to_report(browser: Browser, site: Site, fleet: Fleet) -> None:
    officer = browser.new_context(base_url=site.base_url, locale="vi-VN", viewport={"width": 390, "height": 844})
    leader = browser.new_context(base_url=site.base_url, locale="vi-VN", viewport={"width": 390, "height": 844})
    try:
        page = officer.new_page()
        login(page, site, "canbo_a")
        bulletin_url = write_and_submit(page)

        review = leader.new_page()
        login(review, site, "lanhdao_a")
        approve(review, bulletin_url)

        book_and_play(page, site)
        dashboard_and_report_show_the_confirmations(page, site)
        page.goto(bulletin_url)  # every step done, played last
        expect(page.get_by_test_id("steps").locator(".step-done")).to_have_count(5)
        another_commune_cannot_see_it(browser, site, bulletin_url)
    finally:
        officer.close()
        leader.close()


def write_and_submit(page: Page) -> str:
    page.get_by_role("link", name="Bản tin").click()
    page.get_by_role("link", name="+ Soạn bản tin mới").click()
    page.get_by_label("Tiêu đề").fill("Cảnh giác cuộc gọi giả danh công an")
    page.get_by_label("Chuyên đề").select_option("an-ninh-mang")
    page.get_by_label("Nội dung bản tin").fill(BODY)
    # The estimate and the text as the voice will read it follow the typing.
    expect(page.get_by_test_id("spoken")).to_contain_text("Ủy ban nhân dân xã")
    expect(page.get_by_test_id("spoken")).to_contain_text("mười bảy giờ ba mươi phút")
    expect(page.get_by_test_id("estimate")).to_contain_text("0:")
    expect(page.locator("#problems")).to_contain_text("ngoài khoảng 3–5 phút")
    screenshot(page, "bulletin-editor")
    page.get_by_role("button", name="Lưu bản nháp").click()
    expect(page.get_by_test_id("bulletin-status")).to_have_text("Bản nháp")
    url = page.url.split("#")[0]

    page.get_by_role("button", name="Tạo âm thanh").click()
    expect(page.get_by_role("status")).to_contain_text("Đã tạo âm thanh")
    player = page.get_by_test_id("player")
    src = player.get_attribute("src") or ""
    assert src.startswith("/media/") and src.endswith(".mp3")
    # The browser can load and decode the audio: the officer listens before submitting.
    page.wait_for_function("() => document.querySelector('audio').readyState >= 1", timeout=20_000)
    assert page.evaluate("document.querySelector('audio').duration") > 3

    page.get_by_label("Lý do vẫn phát dù thời lượng ngoài 3–5 phút").fill("Tin ngắn, cảnh báo khẩn về lừa đảo.")
    page.get_by_role("button", name="Gửi duyệt").click()
    expect(page.get_by_test_id("bulletin-status")).to_have_text("Chờ duyệt")
    expect(page.get_by_test_id("steps").locator(".step-done")).to_have_text(["✓ Soạn thảo"])
    screenshot(page, "bulletin-submitted")
    return url


def approve(page: Page, bulletin_url: str) -> None:
    # The leader's dashboard, where the login lands, lists what waits for approval.
    inbox = page.get_by_test_id("inbox")
    expect(inbox).to_contain_text("Bản tin chờ anh/chị duyệt (1)")
    expect(inbox).to_contain_text("có lý do kèm theo")
    inbox.get_by_role("link", name="Cảnh giác cuộc gọi giả danh công an").click()
    assert page.url == bulletin_url
    expect(page.get_by_test_id("steps").locator("[aria-current=step]")).to_have_text("2 Gửi duyệt")
    # The leader reads the officer's reason for the short duration, and the length of the audio itself.
    expect(page.get_by_test_id("duration-reason")).to_contain_text("Tin ngắn, cảnh báo khẩn về lừa đảo.")
    expect(page.get_by_test_id("rendered-duration")).to_have_text(page.get_by_test_id("player-duration").inner_text())
    page.get_by_label("Ý kiến (không bắt buộc)").fill("Đồng ý phát.")
    screenshot(page, "bulletin-review")
    page.get_by_role("button", name="Duyệt", exact=True).click()
    expect(page.get_by_test_id("bulletin-status")).to_have_text("Đã duyệt")
    expect(page.get_by_test_id("review-comment")).to_contain_text("Đồng ý phát.")
    expect(page.get_by_test_id("steps").locator("[aria-current=step]")).to_have_text("3 Đã duyệt")
    # The bulletins page keeps its own list of waiting bulletins, now empty.
    page.get_by_role("link", name="Bản tin", exact=True).click()
    expect(page.get_by_role("region", name="Chờ lãnh đạo duyệt (1)")).to_have_count(0)


def book_and_play(page: Page, site: Site) -> None:
    page.get_by_role("link", name="Lịch phát").click()
    booking = page.locator("#booking")
    booking.get_by_label("Bản tin đã duyệt").select_option(label="Cảnh giác cuộc gọi giả danh công an")
    tz = ZoneInfo(site.settings.timezone)
    at = (site.controller.clock.now() + timedelta(seconds=12)).astimezone(tz)
    booking.get_by_label("Thời điểm phát").fill(at.strftime("%Y-%m-%dT%H:%M:%S"))
    booking.get_by_role("button", name="Đặt lịch").click()
    expect(page.get_by_role("status")).to_contain_text(f"trên {len(site.a.agent_ids)} cụm loa")
    expect(page.get_by_test_id("week")).to_contain_text("Cảnh giác cuộc gọi giả danh công an")
    screenshot(page, "schedule")

    # The dashboard, left open, follows the agents' confirmations by itself: from waiting to played.
    n = str(len(site.a.agent_ids))
    nav_to(page, "Tổng quan")
    page.evaluate("window.__sameDocument = true")
    expect(page.get_by_test_id("plays-pending")).to_have_text(n)
    expect(page.get_by_test_id("plays-done")).to_have_text("0")
    expect(page.get_by_test_id("plays-done")).to_have_text(n, timeout=120_000)
    expect(page.get_by_test_id("plays-pending")).to_have_text("0")
    assert page.evaluate("window.__sameDocument === true"), "the dashboard was reloaded"
    # Once every cluster has confirmed the end, none shows the bulletin on air any more.
    page.goto("/clusters")
    expect(page.get_by_test_id("on-air")).to_have_text(["—"] * len(site.a.agent_ids))
    page.go_back()

    deadline = time.monotonic() + 120
    while finished_plays(site) < len(site.a.agent_ids):
        assert time.monotonic() < deadline, site_progress(site)
        time.sleep(0.5)
    assert site.controller.ingestor.wait_idle(10)


def site_progress(site: Site) -> str:
    with site.controller.session_factory() as s:
        rows = s.execute(select(Play.agent_id, Play.status).order_by(Play.agent_id)).all()
    return f"plays: {rows}"


def dashboard_and_report_show_the_confirmations(page: Page, site: Site) -> None:
    n = str(len(site.a.agent_ids))
    page.get_by_role("link", name="Tổng quan").click()
    expect(page.get_by_test_id("plays-done")).to_have_text(n)
    expect(page.get_by_test_id("clusters-online")).to_have_text(n)
    expect(page.locator("main")).to_contain_text("Cảnh giác cuộc gọi giả danh công an")
    screenshot(page, "dashboard-after-broadcast")

    nav_to(page, "Báo cáo")
    expect(page.get_by_test_id("kpi-confirmed")).to_have_text(n)
    expect(page.get_by_test_id("report-topic").get_by_test_id("total-confirmed")).to_have_text(n)
    with site.api("canbo_a") as api:
        now = site.controller.clock.now().astimezone(ZoneInfo(site.settings.timezone))
        quarterly = api.get("/api/reports/quarterly", params={"year": now.year, "quarter": (now.month - 1) // 3 + 1})
    assert quarterly.json()["total_confirmed_plays"] == len(site.a.agent_ids)

    nav_to(page, "Nhật ký phát")
    expect(page.locator("table.log tbody tr")).to_have_count(len(site.a.agent_ids))
    expect(page.locator("table.log")).not_to_contain_text("Chờ phát")


def another_commune_cannot_see_it(browser: Browser, site: Site, bulletin_url: str) -> None:
    bulletin_id = bulletin_url.rsplit("/", 1)[1]
    other = browser.new_context(base_url=site.base_url)
    try:
        page = other.new_page()
        login(page, site, "canbo_b")
        response = page.goto(f"/bulletins/{bulletin_id}")
        assert response is not None and response.status == 404
        for path in (f"/schedule?commune_id={site.a.id}", f"/emergency?commune_id={site.a.id}"):
            response = page.goto(path)
            assert response is not None and response.status == 403, path
        assert page.request.get(f"/api/bulletins/{bulletin_id}").status == 404
        # A forged form post into commune A is refused by the service, even with a valid CSRF token.
        page.goto("/emergency")
        token = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
        forged = page.request.post(
            "/emergency/stop-all", form={"csrf_token": token, "commune_id": str(site.a.id)}, max_redirects=0
        )
        assert forged.status == 403
    finally:
        other.close()
