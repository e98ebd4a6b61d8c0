"""The officer sees each rewritten span beside its source, pins a reading, and every engine gets it (Chromium)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import Site, login, screenshot

pytestmark = pytest.mark.e2e

BODY = "Từ ngày 27.9, xe tải không lưu thông trên QL1A từ 11-14h. HS nộp tại UBND xã theo Kế hoạch số 54/KH-UBND."


def test_officer_pins_a_reading_and_it_travels_with_the_bulletin(page: Page, site: Site) -> None:
    login(page, site, "canbo_a")
    page.goto("/bulletins/new")
    page.get_by_label("Tiêu đề").fill("Phân luồng giao thông")
    page.get_by_label("Chuyên đề").select_option("giao-thong-pccc")
    page.get_by_label("Nội dung bản tin").fill(BODY)
    # An abbreviation the context does not settle is flagged while the officer types.
    expect(page.locator("#problems")).to_contain_text("Chữ viết tắt có nhiều cách đọc: HS")
    page.get_by_role("button", name="Lưu bản nháp").click()
    expect(page.get_by_test_id("bulletin-status")).to_have_text("Bản nháp")
    bulletin_id = page.url.split("#")[0].rstrip("/").rsplit("/", 1)[1]

    # Each rewritten span beside its source, with the reading the voice would use.
    readings = page.get_by_test_id("readings")
    for written in ("27.9", "QL1A", "11-14h", "54/KH-UBND", "UBND"):
        expect(readings).to_contain_text(written)
    expect(page.get_by_label("Cách đọc QL1A")).to_have_value("quốc lộ một A")
    expect(page.get_by_label("Cách đọc 11-14h")).to_have_value("mười một đến mười bốn giờ")

    # Pin the officer's own reading of QL1A from its row.
    page.get_by_label("Cách đọc QL1A").fill("quốc lộ số một A")
    page.get_by_test_id("reading").filter(has_text="QL1A").get_by_role("button", name="Ghim").click()
    expect(page.locator(".flash")).to_contain_text("Đã ghim cách đọc «QL1A».")
    expect(page.get_by_test_id("reading").filter(has_text="QL1A").get_by_test_id("pinned-badge")).to_be_visible()
    expect(page.get_by_test_id("spoken")).to_contain_text("trên quốc lộ số một A từ")

    # Pin a span the normaliser only spelled, from the free form; the warning goes away.
    form = page.get_by_test_id("pin-form")
    form.get_by_label("Đoạn chữ trong bản tin").fill("HS")
    form.get_by_label("Đọc là").fill("hồ sơ")
    form.get_by_role("button", name="Ghim cách đọc").click()
    expect(page.get_by_test_id("spoken")).to_contain_text("hồ sơ nộp tại Ủy ban nhân dân xã")
    expect(page.locator("#problems")).not_to_contain_text("nhiều cách đọc")
    screenshot(page, "bulletin-readings")

    # A reading in digits is refused in Vietnamese.
    form = page.get_by_test_id("pin-form")
    form.get_by_label("Đoạn chữ trong bản tin").fill("QL1A")
    form.get_by_label("Đọc là").fill("quốc lộ 1A")
    form.get_by_role("button", name="Ghim cách đọc").click()
    expect(page.locator(".flash")).to_contain_text("Cách đọc phải viết bằng chữ")

    # The renderer's text and the bulletin file both carry the pins.
    with site.api("canbo_a") as api:
        spoken = api.get(f"/api/bulletins/{bulletin_id}/spoken-text").json()["text"]
        exported = api.get(f"/api/bulletins/{bulletin_id}/file").text
    assert "trên quốc lộ số một A từ" in spoken and "hồ sơ nộp tại" in spoken
    assert "- written: QL1A\n  spoken: quốc lộ số một A\n" in exported

    # Unpinning gives the span back to the normaliser.
    page.get_by_test_id("reading").filter(has_text="QL1A").get_by_role("button", name="Bỏ ghim").click()
    expect(page.get_by_test_id("spoken")).to_contain_text("trên quốc lộ một A từ")
