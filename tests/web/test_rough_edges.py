"""Offline API docs, the favicon, Vietnamese error pages for browsers (JSON for the API), the iCalendar link."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import Site, login

pytestmark = pytest.mark.e2e


def test_the_api_docs_work_offline_from_vendored_files(page: Page, site: Site) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("loa-xa")
    expect(page.locator(".opblock-tag").first).to_be_visible()
    outside = [url for url in requested if not url.startswith(site.base_url)]
    assert not outside, outside


def test_the_favicon_is_served(site: Site) -> None:
    with httpx.Client(base_url=site.base_url) as client:
        icon = client.get("/favicon.ico")
        assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
        assert "<svg" in icon.text
        assert 'rel="icon" href="/static/favicon.svg"' in client.get("/login").text


def test_unknown_urls_get_a_vietnamese_page_in_a_browser_and_json_from_the_api(page: Page, site: Site) -> None:
    response = page.goto("/khong-co-trang-nay")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Không tìm thấy")
    expect(page.get_by_role("link", name="Về trang tổng quan")).to_be_visible()
    with httpx.Client(base_url=site.base_url) as client:
        api = client.get("/api/khong-co", headers={"Accept": "text/html,application/json"})
        assert api.status_code == 404 and api.json() == {"detail": "Not Found"}
        plain = client.get("/khong-co-trang-nay", headers={"Accept": "application/json"})
        assert plain.status_code == 404 and plain.headers["content-type"] == "application/json"


def test_the_schedule_page_links_its_icalendar(page: Page, site: Site) -> None:
    login(page, site, "canbo_a")
    page.goto("/schedule")
    with page.expect_download() as info:
        page.get_by_test_id("ical").click()
    assert info.value.path().read_text(encoding="utf-8").startswith("BEGIN:VCALENDAR")
