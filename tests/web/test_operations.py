"""Schedule checks before saving, emergency with confirmation and stop-all, cluster commands, read-only roles."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Dialog, Page, expect
from sqlalchemy import select

from controller.db.models import AudioAsset, AuditEvent, Bulletin, Commune, Emergency, Play
from controller.db.session import transaction
from tests.web.conftest import Site, login, screenshot

pytestmark = pytest.mark.e2e

TITLE = "Phòng cháy mùa khô"


@pytest.fixture(scope="module")
def approved(site: Site) -> str:
    """An approved 4-minute bulletin of commune A (its audio is a database row only: nothing here plays it)."""
    with transaction(site.controller.session_factory) as s:
        b = Bulletin(
            id="pccc-mua-kho",
            commune_id=site.a.id,
            title=TITLE,
            topic="giao-thong-pccc",
            body="Nội dung.",
            status="approved",
            approved_by="lanhdao",
        )
        s.add(b)
        s.flush()
        asset = AudioAsset(
            bulletin_id=b.id, sha256="12" * 32, size_bytes=1, duration_s=240.0, engine="espeak-ng", voice="vi"
        )
        s.add(asset)
        s.flush()
        b.audio_asset_id = asset.id
        return b.id


def local_hhmm(site: Site, hours: float) -> str:
    tz = ZoneInfo(site.settings.timezone)
    return (datetime.now(tz) + timedelta(hours=hours)).strftime("%H:%M")


def add_slot(page: Page, name: str, start: str, minutes: int) -> None:
    page.get_by_label("Tên khung giờ").fill(name)
    page.get_by_label("Giờ bắt đầu").fill(start)
    page.get_by_label("Số phút").fill(str(minutes))
    page.get_by_role("button", name="Thêm khung giờ").click()


def fill_programme(page: Page, name: str, slot: str) -> None:
    form = page.locator("#programme-form")
    form.get_by_label("Tên chương trình").fill(name)
    form.get_by_label("Khung giờ").select_option(label=slot)
    form.get_by_label(TITLE).check()


def test_programme_conflicts_and_quiet_hours_show_before_saving(page: Page, site: Site, approved: str) -> None:
    login(page, site, "canbo_a")
    page.goto("/schedule")
    with site.controller.session_factory() as s:
        quiet_start = s.get_one(Commune, site.a.id).quiet_start
    add_slot(page, "Đêm", quiet_start, 30)
    expect(page.get_by_role("status")).to_contain_text("giờ yên tĩnh")
    expect(page.locator("main")).to_contain_text("Chưa có khung giờ.")

    slot = f"Sáng ({local_hhmm(site, 1)}, 5 phút)"
    add_slot(page, "Sáng", local_hhmm(site, 1), 5)
    expect(page.get_by_role("status")).to_have_text("Đã thêm khung giờ Sáng.")

    fill_programme(page, "Chương trình thứ nhất", slot)
    page.get_by_role("button", name="Kiểm tra xung đột").click()
    expect(page.get_by_test_id("issues")).to_contain_text("Không có xung đột")
    page.get_by_role("button", name="Lưu chương trình").click()
    expect(page.get_by_role("status")).to_contain_text("Đã lưu chương trình “Chương trình thứ nhất”")
    expect(page.get_by_test_id("week")).to_contain_text(TITLE)

    # The same bulletin again in the same 5-minute slot: an overlap and an overflow, shown before saving.
    fill_programme(page, "Chương trình thứ hai", slot)
    page.get_by_role("button", name="Kiểm tra xung đột").click()
    issues = page.get_by_test_id("issues")
    expect(issues).to_contain_text("cũng phát trong khung giờ Sáng")
    expect(issues).to_contain_text("vượt quá 5 phút")
    screenshot(page, "schedule-conflicts")
    page.get_by_role("button", name="Lưu chương trình").click()  # not acknowledged: refused
    expect(page.get_by_role("status")).to_contain_text("Chưa lưu")
    for box in page.get_by_label("Tôi đã xem và chấp nhận xung đột này").all():
        box.check()
    page.get_by_role("button", name="Lưu chương trình").click()
    expect(page.get_by_role("status")).to_contain_text("Đã lưu chương trình “Chương trình thứ hai”")
    with site.controller.session_factory() as s:
        planned = s.scalars(select(Play).where(Play.bulletin_id == approved, Play.programme_id.is_not(None))).all()
    assert {p.agent_id for p in planned} == set(site.a.agent_ids)


def test_emergency_needs_a_confirmation_and_stop_all_silences_the_commune(
    page: Page, site: Site, approved: str
) -> None:
    login(page, site, "canbo_a")
    page.get_by_role("link", name="Khẩn cấp").click()
    page.get_by_label("Bản tin đã duyệt").select_option(approved)
    page.get_by_label("Thôn Một", exact=True).check()
    screenshot(page, "emergency")
    page.get_by_role("button", name="Xem trước").click()
    expect(page.get_by_test_id("confirm-count")).to_have_text("2")  # Thôn Một has two of the four clusters
    with site.controller.session_factory() as s:
        assert s.scalars(select(Emergency)).all() == []  # nothing is sent before the confirmation
    screenshot(page, "emergency-confirm")
    token = page.locator("input[name=confirm_token]").get_attribute("value") or ""
    assert token
    page.get_by_role("button", name="XÁC NHẬN PHÁT NGAY").click()
    expect(page.get_by_role("status")).to_contain_text(f"Đang phát khẩn cấp “{TITLE}” trên 2 cụm loa")
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    # The previewed form re-posted without the signed token (the old confirmed=yes), or with a forged
    # one, starts nothing.
    old_form: dict[str, str | float | bool] = {
        "csrf_token": csrf,
        "commune_id": str(site.a.id),
        "bulletin_id": approved,
        "confirmed": "yes",
    }
    for form in (old_form, {**old_form, "confirm_token": token[:-2] + "xx"}):
        refused = page.request.post("/emergency/start", form=form, max_redirects=0)
        assert refused.status == 422
        assert "Mã xác nhận không hợp lệ" in refused.text()
    with site.controller.session_factory() as s:
        assert len(s.scalars(select(Emergency)).all()) == 1

    def accept(dialog: Dialog) -> None:
        assert "TẤT CẢ" in dialog.message
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_role("button", name="DỪNG TẤT CẢ").click()
    expect(page.get_by_role("status")).to_have_text(f"Đã dừng phát trên {len(site.a.agent_ids)} cụm loa.")
    with site.controller.session_factory() as s:
        (row,) = s.scalars(select(Emergency)).all()
        assert row.stopped_by == site.logins["canbo_a"][0]
        plays = s.scalars(select(Play).where(Play.emergency_id == row.id)).all()
    assert len(plays) == 2


def test_cluster_commands_are_sent_and_audited(page: Page, site: Site) -> None:
    login(page, site, "canbo_a")
    page.goto("/clusters")
    agent = site.a.agent_ids[0]
    page.get_by_label("Âm lượng Cụm 1 Thôn Một").fill("55")
    page.locator("form.ctl").filter(has=page.get_by_label("Âm lượng Cụm 1 Thôn Một")).get_by_role("button").click()
    expect(page.get_by_role("status")).to_have_text(f"Đã gửi lệnh đặt âm lượng 55 cho {agent}.")
    page.locator(f"form[action='/clusters/{agent}/test-tone'] button").click()
    expect(page.get_by_role("status")).to_contain_text("tiếng thử")
    with site.controller.session_factory() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.object_id == agent)).all()
    assert {"set-volume", "test-tone"} <= set(actions)


def test_the_province_reads_every_commune_but_changes_nothing(page: Page, site: Site) -> None:
    login(page, site, "tinh")
    nav = page.get_by_role("navigation", name="Điều hướng chính")
    expect(nav.get_by_role("link")).to_have_text(["Tổng quan", "Cụm loa", "Nhật ký phát", "Báo cáo"])
    page.goto("/clusters")
    expect(page.locator("table.clusters tbody tr")).to_have_count(len(site.a.agent_ids) + len(site.b.agent_ids))
    expect(page.locator("form.ctl")).to_have_count(0)
    page.get_by_label("Xã/phường").select_option(label="Xã Hòa Lạc")
    expect(page.locator("table.clusters tbody tr")).to_have_count(len(site.b.agent_ids))
    screenshot(page, "clusters-province")
    response = page.goto(f"/bulletins/new?commune_id={site.a.id}")
    assert response is not None and response.status == 403
    page.goto("/")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    refused = page.request.post(
        "/emergency/stop-all", form={"csrf_token": token, "commune_id": str(site.a.id)}, max_redirects=0
    )
    assert refused.status == 403
    assert "chỉ được xem" in refused.text()
