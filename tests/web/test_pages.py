"""The main pages in real Chromium: login, dashboard, clusters, broadcast log, reports; screenshots of each."""

from __future__ import annotations

import csv
import io
import re

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.web.conftest import Site, login, screenshot, seed_history

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def history(site: Site) -> dict[str, int]:
    return seed_history(site)


def test_pages_need_a_login_and_a_wrong_password_is_refused(page: Page, site: Site) -> None:
    page.goto("/clusters")
    expect(page).to_have_url(f"{site.base_url}/login?next=%2Fclusters")
    page.get_by_label("Tên đăng nhập").fill(site.logins["canbo_a"][0])
    page.get_by_label("Mật khẩu").fill("sai-mat-khau-roi")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("alert")).to_have_text("Tên đăng nhập hoặc mật khẩu không đúng.")
    screenshot(page, "login")
    page.get_by_label("Mật khẩu").fill(site.logins["canbo_a"][1])
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page).to_have_url(f"{site.base_url}/clusters")  # back where the officer was going
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cụm loa")


def test_dashboard_shows_today_and_its_alerts(page: Page, site: Site, history: dict[str, int]) -> None:
    login(page, site, "canbo_a")
    expect(page.get_by_test_id("plays-done")).to_have_text(str(history["done"]))
    expect(page.get_by_test_id("plays-missed")).to_have_text(str(history["missed"]))
    expect(page.get_by_test_id("clusters-online")).to_have_text(str(history["online"]))
    expect(page.get_by_test_id("clusters-offline")).to_have_text(str(history["offline"]))
    alerts = page.locator(".alerts")
    expect(alerts).to_contain_text("không phát “Phòng chống lừa đảo qua mạng”")
    expect(alerts).to_contain_text("mất kết nối")
    expect(alerts).to_contain_text("lệch +2.5 giây")
    expect(page.get_by_role("table").first).to_contain_text("Phòng chống lừa đảo qua mạng")
    # An officer's navigation offers the commune's work, and nothing of another commune.
    nav = page.get_by_role("navigation", name="Điều hướng chính")
    for item in ("Tổng quan", "Bản tin", "Lịch phát", "Khẩn cấp"):
        expect(nav.get_by_role("link", name=item)).to_be_visible()
    nav.get_by_text("Thêm", exact=True).click()  # the phone's bottom bar keeps the rest behind "Thêm"
    for item in ("Cụm loa", "Nhật ký phát", "Báo cáo"):
        expect(nav.get_by_role("link", name=item)).to_be_visible()
    expect(page.locator("#scope-commune")).to_have_count(0)
    screenshot(page, "dashboard")


def test_clusters_are_grouped_by_village_with_a_location_view(page: Page, site: Site, history: dict[str, int]) -> None:
    login(page, site, "canbo_a")
    page.goto("/clusters")
    expect(page.get_by_role("heading", name="Thôn Một")).to_be_visible()
    expect(page.get_by_role("heading", name="Thôn Hai")).to_be_visible()
    expect(page.locator("table.clusters tbody tr")).to_have_count(len(site.a.agent_ids))
    expect(page.locator("svg.map circle")).to_have_count(len(site.a.agent_ids))
    expect(page.locator("td.bad")).to_have_text("+2.50 s")  # the skewed clock stands out
    expect(page.locator(".badge-offline")).to_have_text("Mất kết nối")
    screenshot(page, "clusters")


def test_broadcast_log_searches_and_exports(page: Page, site: Site, history: dict[str, int]) -> None:
    login(page, site, "canbo_a")
    page.goto("/log")
    expect(page.locator("table.log tbody tr")).to_have_count(4)
    page.get_by_label("Trạng thái").select_option("finished")
    page.get_by_label("Tìm (tên bản tin, cụm loa, thôn)").fill("thôn hai")
    page.get_by_role("button", name="Tìm").click()
    expect(page.locator("table.log tbody tr")).to_have_count(1)  # Thôn Hai's other cluster missed it
    expect(page.get_by_test_id("log-summary")).to_contain_text("1 lượt đã phát")
    screenshot(page, "log")
    with page.expect_download() as info:
        page.get_by_role("link", name="Tải CSV").click()
    text = info.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["Mã lượt phát", "Xã/phường", "Thôn/tổ"]
    assert [(r[2], r[-1]) for r in rows[1:]] == [("Thôn Hai", "finished")]


def test_reports_drill_down_and_the_xlsx_equals_the_api(page: Page, site: Site, history: dict[str, int]) -> None:
    login(page, site, "tinh")
    page.goto("/reports")
    expect(page.get_by_test_id("report-title")).to_contain_text("Toàn tỉnh")
    communes = page.get_by_test_id("report-commune")
    expect(communes.locator("tbody tr")).to_have_count(2)  # the province sees every commune
    expect(page.get_by_test_id("kpi-confirmed")).to_have_text("3")
    expect(page.locator("svg.chart").first).to_be_visible()
    screenshot(page, "reports-province")

    with page.expect_download() as info:
        page.get_by_test_id("xlsx-main").click()
    assert info.value.suggested_filename.startswith("Báo cáo Quý")  # a Vietnamese file name
    assert info.value.suggested_filename.endswith(" - Toàn tỉnh - theo xã-phường.xlsx")
    sheet = load_workbook(io.BytesIO(info.value.path().read_bytes())).active
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(cells) if r[0] == "Mã")
    by_label = {str(r[1]): r for r in cells[header + 1 :]}
    with site.api("tinh") as api:
        params = page.get_by_test_id("xlsx-main").get_attribute("href") or ""
        summary = api.get("/api/reports/summary?" + params.split("?", 1)[1]).json()
    assert summary["group_by"] == "commune"
    for row in [*summary["rows"], summary["total"]]:
        xl = by_label[row["label"]]
        assert xl[0] == (row["code"] or None)  # communes by their code; the total row has none
        assert list(xl[2:7]) == [
            row["planned_plays"],
            row["confirmed_plays"],
            pytest.approx(row["confirmed_minutes"]),
            row["bulletins_broadcast"],
            pytest.approx(row["completion_rate"]),
        ]

    communes.get_by_role("link", name="Xã An Bình").click()
    expect(page.get_by_test_id("report-title")).to_contain_text("Xã An Bình")
    clusters = page.get_by_test_id("report-cluster")
    expect(clusters.locator("tbody tr")).to_have_count(len(site.a.agent_ids))
    screenshot(page, "reports-commune")
    clusters.locator("tbody a").first.click()
    expect(page.get_by_test_id("report-title")).to_contain_text("Cụm loa")
    expect(page.get_by_test_id("report-topic").get_by_test_id("total-confirmed")).to_have_text("1")

    page.get_by_role("link", name="Xã An Bình").click()
    page.get_by_role("link", name="Bản in (mẫu báo cáo)").click()
    expect(page.get_by_test_id("print-scope")).to_have_text("Xã An Bình")
    expect(page.get_by_test_id("print-confirmed")).to_have_text("3")
    expect(page.get_by_test_id("print-range")).to_have_text(
        re.compile(r"^từ ngày \d\d/\d\d/\d{4} đến ngày \d\d/\d\d/\d{4}$")
    )
    expect(page.get_by_text("Thủ trưởng đơn vị")).to_be_visible()
    screenshot(page, "report-print")


def test_a_commune_login_cannot_reach_another_commune(page: Page, site: Site, history: dict[str, int]) -> None:
    login(page, site, "canbo_b")
    for path in (f"/clusters?commune_id={site.a.id}", f"/reports?commune_id={site.a.id}", f"/?commune_id={site.a.id}"):
        response = page.goto(path)
        assert response is not None and response.status == 403, path
        expect(page.get_by_role("heading", level=1)).to_have_text("Không có quyền truy cập")
    response = page.goto(f"/reports?agent_id={site.a.agent_ids[0]}")
    assert response is not None and response.status == 403
    # The API answers the same through the page's session cookie...
    api = page.request.get(f"/api/reports/summary?year=2026&group_by=cluster&commune_id={site.a.id}")
    assert api.status == 403
    # ...and with HTTP Basic; the province-wide figures hold only the officer's own commune.
    with site.api("canbo_b") as client:
        assert client.get(f"/api/reports/summary.xlsx?year=2026&commune_id={site.a.id}").status_code == 403
        log = client.get(
            "/api/reports/broadcast-log", params={"start": "2000-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z"}
        )
        assert log.status_code == 200 and log.json() == []
    page.goto("/clusters")
    expect(page.locator("table.clusters tbody tr")).to_have_count(len(site.b.agent_ids))
    expect(page.locator("body")).not_to_contain_text("Xã An Bình")


def test_forms_without_the_csrf_token_are_refused(site: Site) -> None:
    with httpx.Client(base_url=site.base_url) as client:
        form = client.get("/login")
        assert form.headers["x-frame-options"] == "DENY"  # no clickjacking of the stop-all button
        assert form.headers["cache-control"] == "no-store"
        username, password = site.logins["canbo_a"]
        refused = client.post("/login", data={"username": username, "password": password})
        assert refused.status_code == 403
        assert "Biểu mẫu đã hết hạn" in refused.text
        assert client.get("/clusters").status_code == 303  # still signed out
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert token is not None
        data = {"username": username, "password": password, "csrf_token": token.group(1)}
        assert client.post("/login", data=data).status_code == 303
        assert client.get("/clusters").status_code == 200
        assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 403
