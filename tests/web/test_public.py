"""The public page in a real browser at phone width, its feeds, QR codes and the officer answering a question."""

from __future__ import annotations

import io
import subprocess
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import feedparser
import httpx
import imageio_ffmpeg
import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from controller.db.models import AudioAsset, Bulletin, CitizenQuestion, Commune, Play, PlayEvent, ReachCount
from controller.db.session import transaction
from controller.public.qr import qr_svg
from tests.web.conftest import Site, inject_axe, login, nav_to, screenshot


@dataclass(frozen=True)
class Published:
    code: str
    bulletin_id: str
    audio: bytes


def _mp3() -> bytes:
    """Two seconds of a real MP3, made here with the bundled ffmpeg."""
    out = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
         "sine=frequency=440:duration=2", "-c:a", "libmp3lame", "-b:a", "32k", "-f", "mp3", "-"],
        capture_output=True,
        check=True,
    )  # fmt: skip
    return out.stdout


@pytest.fixture(scope="module")
def published(site: Site) -> Published:
    """An approved bulletin with real audio, confirmed played yesterday on one cluster of commune A."""
    audio = _mp3()
    stored = site.controller.store.put(audio)
    now = site.controller.clock.now()
    with transaction(site.controller.session_factory) as s:
        commune = s.get(Commune, site.a.id)
        assert commune is not None
        bulletin = Bulletin(
            id=f"pub-{uuid.uuid4().hex[:6]}",
            commune_id=site.a.id,
            title="Cảnh giác với cuộc gọi giả danh công an",
            topic="an-ninh-mang",
            body="Thời gian gần đây xuất hiện nhiều cuộc gọi giả danh công an.\nKhông chuyển tiền cho người lạ.",
            legal_references="Luật An ninh mạng 2018, Điều 8",
            status="approved",
        )
        s.add(bulletin)
        s.flush()
        asset = AudioAsset(
            bulletin_id=bulletin.id,
            sha256=stored.sha256,
            size_bytes=len(audio),
            duration_s=2.0,
            engine="upload",
            voice="",
        )
        s.add(asset)
        s.flush()
        bulletin.audio_asset_id = asset.id
        at = now - timedelta(days=1)
        play = Play(
            id=uuid.uuid4().hex,
            agent_id=site.a.agent_ids[0],
            bulletin_id=bulletin.id,
            audio_asset_id=asset.id,
            starts_at=at,
            status="finished",
        )
        s.add(play)
        s.flush()
        s.add(
            PlayEvent(
                msg_id=uuid.uuid4().hex,
                play_id=play.id,
                agent_id=play.agent_id,
                event="finished",
                at=at,
                duration_played_s=2.0,
            )
        )
        return Published(commune.code, bulletin.id, audio)


def _axe(page: Page) -> list[dict[str, Any]]:
    inject_axe(page)
    violations: list[dict[str, Any]] = page.evaluate("async () => (await axe.run(document)).violations")
    return [{"id": v["id"], "nodes": [n["html"] for n in v["nodes"]][:3]} for v in violations]


def test_the_feeds_parse_and_each_enclosure_serves_its_bytes(site: Site, published: Published) -> None:
    with httpx.Client(base_url=site.base_url, timeout=30) as http:
        for path in (f"/p/{published.code}/feed.xml", f"/p/{published.code}/chuyen-de/an-ninh-mang/feed.xml"):
            response = http.get(path)
            assert response.status_code == 200
            assert "set-cookie" not in response.headers
            feed = feedparser.parse(response.content)
            assert not feed.bozo, feed.bozo_exception
            assert feed.version == "rss20"
            assert feed.feed.language == "vi"
            assert feed.namespaces["itunes"] == "http://www.itunes.com/dtds/podcast-1.0.dtd"
            assert feed.feed.author_detail.name.startswith("Đài truyền thanh")
            (entry,) = [e for e in feed.entries if e.link.endswith(f"/b/{published.bulletin_id}")]
            assert entry.title == "Cảnh giác với cuộc gọi giả danh công an"
            assert entry.itunes_duration == "00:00:02"
            (enclosure,) = entry.enclosures
            assert enclosure.type == "audio/mpeg"
            assert int(enclosure.length) == len(published.audio)
            media = http.get(enclosure.href)
            assert media.status_code == 200
            assert media.content == published.audio
        other_topic = feedparser.parse(http.get(f"/p/{published.code}/chuyen-de/dat-dai/feed.xml").content)
        assert other_topic.entries == []
        assert http.get("/p/khong-co/feed.xml").status_code == 404
        # Held back: gone from the page and the feed at once; released: back again.
        with site.api("canbo_a") as api:
            hold = api.post(f"/api/bulletins/{published.bulletin_id}/public-hold", json={"reason": "sửa"})
            assert hold.status_code == 204
            assert feedparser.parse(http.get(f"/p/{published.code}/feed.xml").content).entries == []
            assert http.get(f"/p/{published.code}/b/{published.bulletin_id}").status_code == 404
            assert api.delete(f"/api/bulletins/{published.bulletin_id}/public-hold").status_code == 204
        assert len(feedparser.parse(http.get(f"/p/{published.code}/feed.xml").content).entries) == 1


def test_bad_public_input_never_gives_a_500(site: Site, published: Published) -> None:
    with httpx.Client(base_url=site.base_url, timeout=30) as http:
        base = f"/p/{published.code}"
        for path in (
            f"{base}?thang=2026-13",
            f"{base}?thang=%3Cscript%3E",
            f"{base}/b/" + "x" * 300,
            "/p/" + "y" * 100,
        ):
            response = http.get(path)
            assert response.status_code in (404, 422), path
            assert "<script>" not in response.text
        too_long = http.post(f"{base}/hoi", data={"noi_dung": "a" * 5000}, follow_redirects=False)
        assert too_long.status_code == 422
        assert "quá dài" in too_long.text
        empty = http.post(f"{base}/hoi", data={"noi_dung": "  "}, follow_redirects=False)
        assert empty.status_code == 422
        assert "Hãy nhập nội dung câu hỏi." in empty.text
        echoed = http.post(f"{base}/hoi", data={"noi_dung": "<script>x()</script>" + "a" * 1001})
        assert echoed.status_code == 422
        assert "&lt;script&gt;x()&lt;/script&gt;" in echoed.text  # what was typed comes back, as text
        assert "<script>x()" not in echoed.text


def test_a_citizen_listens_reads_and_asks_and_the_officer_answers(
    browser: Browser, page: Page, site: Site, published: Published
) -> None:
    bulletin_url = f"{site.base_url}/p/{published.code}/b/{published.bulletin_id}"
    # The QR code on the poster is the bulletin's own address.
    with httpx.Client(base_url=site.base_url, timeout=30) as http:
        qr = http.get(f"/p/{published.code}/b/{published.bulletin_id}/qr.svg")
        assert qr.headers["content-type"] == "image/svg+xml"
        assert qr.content == qr_svg(bulletin_url, title="Mã QR bản tin Cảnh giác với cuộc gọi giả danh công an")
    page.goto(f"/p/{published.code}/b/{published.bulletin_id}/poster")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cảnh giác với cuộc gọi giả danh công an")
    expect(page.get_by_text(bulletin_url)).to_be_visible()
    assert _axe(page) == []
    screenshot(page, "public-poster")

    page.goto(bulletin_url)  # what the phone opens after scanning
    expect(page.get_by_role("heading", level=1)).to_have_text("Cảnh giác với cuộc gọi giả danh công an")
    expect(page.get_by_text("Không chuyển tiền cho người lạ.")).to_be_visible()
    expect(page.get_by_text("Luật An ninh mạng 2018, Điều 8")).to_be_visible()
    with page.expect_request(f"**/p/{published.code}/b/{published.bulletin_id}/nghe"):
        page.locator("#player").evaluate("a => a.play()")
    page.wait_for_function("() => document.getElementById('player').currentTime > 0")
    assert page.context.cookies() == []
    assert _axe(page) == []
    screenshot(page, "public-bulletin")

    page.get_by_label("Câu hỏi của bạn").fill("<script>window.__pwned = 1</script> Bị lừa chuyển tiền thì báo ở đâu?")
    page.get_by_label("Tôi đồng ý").check()
    page.get_by_role("button", name="Gửi câu hỏi").click()
    expect(page.get_by_text("Câu hỏi đã được gửi")).to_be_visible()

    officer = browser.new_context(base_url=site.base_url, locale="vi-VN", viewport={"width": 390, "height": 844})
    try:
        o = officer.new_page()
        login(o, site, "canbo_a")
        nav_to(o, "Hỏi đáp")
        card = o.get_by_test_id("question").filter(has_text="Bị lừa chuyển tiền")
        expect(card.get_by_text("<script>window.__pwned = 1</script>", exact=False)).to_be_visible()
        card.get_by_label("Câu trả lời", exact=True).fill("Báo ngay cho công an xã hoặc gọi 113.")
        card.get_by_label("Công khai câu hỏi").check()
        card.get_by_role("button", name="Lưu câu trả lời").click()
        expect(o.get_by_text("Đã lưu câu trả lời.")).to_be_visible()
        assert _axe(o) == []
        screenshot(o, "officer-questions")
        o.goto("/public-page")
        expect(o.get_by_text("Đang công khai").first).to_be_visible()
        screenshot(o, "officer-public-page")
        card = o.get_by_role("article").filter(has_text="Cảnh giác với cuộc gọi giả danh công an")
        card.get_by_label("Lý do tạm ẩn").fill("Cần sửa số điện thoại")
        card.get_by_role("button", name="Tạm ẩn").click()
        expect(o.get_by_text("Đã tạm ẩn bản tin khỏi trang công khai.")).to_be_visible()
        assert httpx.get(bulletin_url).status_code == 404
        card.get_by_role("button", name="Hiện lại").click()
        expect(o.get_by_text("Bản tin được hiện lại trên trang công khai.")).to_be_visible()
    finally:
        officer.close()

    page.goto(bulletin_url)
    expect(page.get_by_text("Báo ngay cho công an xã hoặc gọi 113.")).to_be_visible()
    expect(page.get_by_text("<script>window.__pwned = 1</script>", exact=False)).to_be_visible()
    assert page.evaluate("window.__pwned") is None
    page.goto(f"/p/{published.code}")
    expect(page.get_by_role("link", name="Cảnh giác với cuộc gọi giả danh công an")).to_be_visible()
    expect(page.get_by_text("Báo ngay cho công an xã hoặc gọi 113.")).to_be_visible()
    assert _axe(page) == []
    screenshot(page, "public-commune")
    with transaction(site.controller.session_factory) as s:
        kinds = {
            r.kind: r.count
            for r in s.scalars(select(ReachCount).where(ReachCount.bulletin_id == published.bulletin_id))
        }
    assert kinds["listen"] == 1
    assert kinds["view"] == 1  # three visits from one browser today: one view


def test_the_forms_export_to_xlsx_with_the_apis_figures(page: Page, site: Site, published: Published) -> None:
    with site.api("canbo_a") as api:
        _forms_match(api, site)
    login(page, site, "canbo_a")
    page.goto("/forms?form=bieu-03")
    expect(page.get_by_test_id("form-table")).to_contain_text("Cảnh giác với cuộc gọi giả danh công an")
    assert _axe(page) == []
    screenshot(page, "officer-forms")
    page.goto("/forms?form=bieu-04")
    expect(page.get_by_text("Trang công khai của xã")).to_be_visible()
    assert _axe(page) == []
    page.goto("/reports")  # reach beside broadcasts: one view and one listen from the citizen test
    expect(page.get_by_test_id("kpi-reach")).to_have_text("2")


def _forms_match(api: httpx.Client, site: Site) -> None:
    """For the quarter and the half-year of the seeded play: each XLSX holds the forms API's figures, and those
    equal the reports API's."""
    tz = ZoneInfo(site.controller.settings.timezone)
    played = (site.controller.clock.now() - timedelta(days=1)).astimezone(tz)
    for kind, index in (("quarter", (played.month - 1) // 3 + 1), ("half", (played.month - 1) // 6 + 1)):
        params: dict[str, str | int] = {"commune_id": site.a.id, "year": played.year, "kind": kind, "index": index}
        summary = api.get("/api/reports/summary", params={**params, "group_by": "topic"}).json()
        forms = {}
        for name in ("bieu-02", "bieu-03", "bieu-04"):
            data = api.get(f"/api/forms/{name}", params=params)
            assert data.status_code == 200, data.text
            xlsx = api.get(f"/api/forms/{name}.xlsx", params=params)
            assert xlsx.status_code == 200
            forms[name] = (
                data.json(),
                [row for row in load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True)],
            )
        f02, rows02 = forms["bieu-02"]
        assert sum(r["planned_plays"] for r in f02["rows"]) == summary["total"]["planned_plays"]
        for r in f02["rows"]:
            assert (r["month"], r["topic_name"], r["bulletins_planned"], r["planned_plays"], r["confirmed_plays"]) in [
                row[:5] for row in rows02
            ]
        f03, rows03 = forms["bieu-03"]
        assert f03["total_confirmed_plays"] == summary["total"]["confirmed_plays"] >= 1
        for p in f03["products"]:
            assert (
                p["title"],
                p["topic_name"],
                p["duration_s"],
                p["confirmed_plays"],
                p["broadcast_days"],
                p["views"],
                p["listens"],
            ) in [row[:7] for row in rows03]
        assert ("Câu hỏi nhận được", f03["questions"]["received"]) in [row[:2] for row in rows03]
        f04, rows04 = forms["bieu-04"]
        assert f04["broadcasts"]["total"] == summary["total"]
        labels = {row[0]: row[1] for row in rows04 if row[0] and len(row) > 1}
        assert labels["Lượt phát đã xác nhận"] == summary["total"]["confirmed_plays"]
        assert labels["Lượt phát kế hoạch"] == summary["total"]["planned_plays"]
        assert labels["Số phút đã phát"] == summary["total"]["confirmed_minutes"]
        assert labels["Lượt xem trang"] == f04["total_views"]
        assert labels["Câu hỏi nhận được"] == f04["questions"]["received"]
    assert api.get("/api/forms/bieu-03", params={"commune_id": site.b.id, "year": played.year}).status_code == 403


# Last in the module: it spends this address's question allowance on the shared controller.
def test_a_flood_of_questions_is_refused_and_the_honeypot_is_not_stored(site: Site, published: Published) -> None:
    with transaction(site.controller.session_factory) as s:
        before = s.query(CitizenQuestion).count()
    codes = []
    with httpx.Client(base_url=site.base_url, timeout=30) as http:
        bot = http.post(f"/p/{published.code}/hoi", data={"noi_dung": "mua ngay", "website": "http://spam"})
        assert bot.status_code in (200, 303)
        for i in range(8):
            r = http.post(f"/p/{published.code}/hoi", data={"noi_dung": f"Câu hỏi {i}"}, follow_redirects=False)
            codes.append(r.status_code)
    assert codes[0] == 303
    assert 429 in codes
    with transaction(site.controller.session_factory) as s:
        stored = s.query(CitizenQuestion).count() - before
    assert stored == codes.count(303) <= 5
