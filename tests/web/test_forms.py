"""Forms that keep work: an expired form comes back filled in with a fresh token, and the page goes to the error."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import Site, login

pytestmark = pytest.mark.e2e


def test_an_expired_form_comes_back_filled_in(page: Page, site: Site) -> None:
    login(page, site, "canbo_a")
    page.goto("/bulletins/new")
    page.get_by_label("Tiêu đề").fill("Lịch tiêm chủng tháng Sáu")
    page.get_by_label("Chuyên đề").select_option("hon-nhan-gia-dinh")
    page.get_by_label("Nội dung bản tin").fill("Trạm y tế xã thông báo lịch tiêm chủng mở rộng cho trẻ em.")
    # As in a tab left open across a new login: the form's token is no longer the session's.
    page.evaluate("document.querySelector('#editor [name=csrf_token]').value = 'het-han'")
    page.get_by_role("button", name="Lưu bản nháp").click()
    expect(page).to_have_url(f"{site.base_url}/bulletins/new")
    flash = page.locator(".flash-error")
    expect(flash).to_contain_text("Biểu mẫu đã hết hạn")
    expect(flash).to_be_focused()
    expect(page.get_by_label("Tiêu đề")).to_have_value("Lịch tiêm chủng tháng Sáu")
    expect(page.get_by_label("Chuyên đề")).to_have_value("hon-nhan-gia-dinh")
    expect(page.get_by_label("Nội dung bản tin")).to_have_value(
        "Trạm y tế xã thông báo lịch tiêm chủng mở rộng cho trẻ em."
    )
    page.get_by_role("button", name="Lưu bản nháp").click()  # the page's fresh token goes with it
    expect(page.get_by_test_id("bulletin-status")).to_have_text("Bản nháp")


def test_a_refused_form_keeps_the_input_and_shows_the_error(page: Page, site: Site) -> None:
    login(page, site, "canbo_a")
    page.goto("/bulletins/new")
    page.get_by_label("Tiêu đề").fill("Không chọn chuyên đề")
    page.get_by_label("Nội dung bản tin").fill("Nội dung vẫn còn.")
    page.evaluate("document.getElementById('e-topic').removeAttribute('required')")
    page.get_by_role("button", name="Lưu bản nháp").click()
    expect(page.locator(".flash-error")).to_be_focused()
    expect(page.locator(".flash-error")).to_be_in_viewport()
    expect(page.get_by_label("Nội dung bản tin")).to_have_value("Nội dung vẫn còn.")
