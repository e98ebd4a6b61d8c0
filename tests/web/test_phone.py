"""Every main page at phone and desktop widths, for officer, leader and province: nothing scrolls sideways,
navigation stays reachable, and the week opens on today with day paging on a phone."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from controller.db.models import AudioAsset, Bulletin, SecurityEventRecord
from controller.db.session import transaction
from tests.web.conftest import SCREENSHOTS, Site, login, seed_history
from tests.web.layout import DESKTOP, PHONE, sideways

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def history(site: Site) -> dict[str, int]:
    return seed_history(site)


def _bulletin_id(site: Site) -> str:
    with site.controller.session_factory() as s:
        found = s.scalars(select(Bulletin.id).where(Bulletin.commune_id == site.a.id)).first()
    assert found is not None
    return found


def main_pages(site: Site, who: str) -> list[str]:
    commune = ["/", "/bulletins", "/bulletins/new", f"/bulletins/{_bulletin_id(site)}", "/schedule", "/clusters"]
    commune += ["/emergency", "/log", "/reports", "/reports/print"]
    if who == "tinh":
        return ["/", "/clusters", "/log", "/reports", f"/reports?commune_id={site.a.id}", "/reports/print"]
    return commune


@pytest.mark.parametrize("who", ["canbo_a", "lanhdao_a", "tinh"])
def test_no_main_page_scrolls_sideways(browser: Browser, site: Site, history: dict[str, int], who: str) -> None:
    context = browser.new_context(base_url=site.base_url, locale="vi-VN", viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        login(page, site, who)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        problems: dict[str, list[str]] = {}
        for path in main_pages(site, who):
            for label, (width, height) in (("phone", PHONE), ("desktop", DESKTOP)):
                page.set_viewport_size({"width": width, "height": height})
                response = page.goto(path)
                assert response is not None and response.status == 200, (path, response and response.status)
                found = sideways(page)
                if found:
                    problems[f"{path} at {width}px"] = found
                if label == "phone":
                    slug = path.strip("/").split("?")[0].replace("/", "-") or "dashboard"
                    page.screenshot(path=str(SCREENSHOTS / f"phone-{who}-{slug}.png"), full_page=True)
        assert not problems, problems
    finally:
        context.close()


def test_the_navigation_is_a_bottom_bar_with_the_rest_behind_more(page: Page, site: Site) -> None:
    page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
    login(page, site, "canbo_a")
    nav = page.get_by_role("navigation", name="Điều hướng chính")
    box = nav.bounding_box()
    assert box is not None and box["y"] + box["height"] == pytest.approx(PHONE[1], abs=1)  # at the bottom
    for item in ("Tổng quan", "Bản tin", "Lịch phát", "Khẩn cấp"):
        expect(nav.get_by_role("link", name=item, exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Báo cáo")).to_be_hidden()
    nav.get_by_text("Thêm").click()
    nav.get_by_role("link", name="Báo cáo").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Báo cáo")
    # Scrolled to the bottom of a long page, the bar is still there.
    page.mouse.wheel(0, 5000)
    expect(nav.get_by_role("link", name="Tổng quan")).to_be_in_viewport()
    page.set_viewport_size({"width": DESKTOP[0], "height": DESKTOP[1]})
    for item in ("Tổng quan", "Bản tin", "Lịch phát", "Cụm loa", "Khẩn cấp", "Nhật ký phát", "Báo cáo"):
        expect(nav.get_by_role("link", name=item, exact=True)).to_be_visible()


def test_the_week_opens_on_today_and_pages_by_day_on_a_phone(page: Page, site: Site) -> None:
    page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
    login(page, site, "canbo_a")
    page.goto("/schedule")
    days = page.locator(".weekday")
    shown = page.locator(".weekday.shown")
    expect(shown).to_have_count(1)
    expect(shown).to_have_attribute("data-today", "yes")
    expect(shown.get_by_text("Hôm nay")).to_be_visible()
    expect(page.get_by_test_id("week")).to_be_hidden()
    today = shown.get_attribute("data-day")
    index = [d.get_attribute("data-day") for d in days.all()].index(today)
    step, name = (1, "Hôm sau →") if index < 6 else (-1, "← Hôm trước")
    shown.get_by_role("link", name=name).click()
    expected = days.nth(index + step).get_attribute("data-day") or ""
    expect(page.locator(".weekday.shown")).to_have_attribute("data-day", expected)
    expect(page.locator(".weekday.shown")).to_have_count(1)


def test_the_editor_shows_the_estimate_beside_the_text_while_typing(page: Page, site: Site) -> None:
    page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
    login(page, site, "canbo_a")
    page.goto("/bulletins/new")
    page.get_by_label("Nội dung bản tin").fill("UBND xã thông báo lịch tiêm chủng cho trẻ em. " * 20)
    inline = page.get_by_test_id("estimate-inline")
    expect(inline).to_contain_text("phút")
    page.get_by_label("Nội dung bản tin").focus()
    expect(inline).to_be_in_viewport()


_VISIBLE_TEXT = """
() => {
  document.querySelectorAll('.id-detail').forEach((el) => { el.style.display = 'none'; });
  return document.body.innerText;
}
"""


def test_pages_name_clusters_and_group_refusals(page: Page, site: Site, history: dict[str, int]) -> None:
    now = site.controller.clock.now()
    with transaction(site.controller.session_factory) as s:
        for agent_id in site.a.agent_ids:  # each refused the same booking on arrival and again at its start
            for minutes in (30, 5):
                s.add(
                    SecurityEventRecord(
                        agent_id=agent_id, at=now - timedelta(minutes=minutes), reason="quiet-hours", topic="x"
                    )
                )
    login(page, site, "canbo_a")
    alerts = page.locator(".alerts")
    expect(alerts).to_contain_text(f"{len(site.a.agent_ids)} cụm loa đã từ chối lệnh vì giờ yên tĩnh")
    expect(alerts.locator(".alert-security")).to_have_count(1)
    expect(alerts).to_contain_text("Cụm 1 Thôn Một")
    expect(alerts).to_contain_text("Cụm 4 Thôn Hai không phát “Phòng chống lừa đảo qua mạng”")
    pages = [p for p in main_pages(site, "canbo_a") if p != "/reports/print"]
    for path in pages:
        page.goto(path)
        text = page.evaluate(_VISIBLE_TEXT)
        assert "quiet-hours" not in text, path
        shown = [a for a in site.a.agent_ids if a in text]
        assert not shown, (path, shown)


def test_an_emergency_bulletin_gets_no_duration_window_warning(page: Page, site: Site) -> None:
    with transaction(site.controller.session_factory) as s:
        bulletin = Bulletin(
            id=f"em-{uuid.uuid4().hex[:6]}",
            commune_id=site.a.id,
            title="Lũ quét: sơ tán ngay",
            topic="giao-thong-pccc",
            body="Bà con thôn Một sơ tán ngay.",
            status="draft",
            priority="emergency",
        )
        s.add(bulletin)
        s.flush()
        asset = AudioAsset(
            bulletin_id=bulletin.id, sha256="ab" * 32, size_bytes=1, duration_s=42.7, engine="espeak-ng", voice="vi"
        )
        s.add(asset)
        s.flush()
        bulletin.audio_asset_id = asset.id
    login(page, site, "canbo_a")
    page.goto(f"/bulletins/{bulletin.id}")
    expect(page.get_by_test_id("rendered-duration")).to_have_text("0:42")
    expect(page.get_by_test_id("player-duration")).to_have_text("0:42")
    expect(page.locator("main")).not_to_contain_text("nằm ngoài khoảng")
    expect(page.get_by_label("Lý do vẫn phát dù thời lượng ngoài 3–5 phút")).to_have_count(0)
