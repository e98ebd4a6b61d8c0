"""axe-core over every main page at phone and desktop widths: no serious or critical violation."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.web.conftest import Site, inject_axe, login, seed_history
from tests.web.layout import DESKTOP, PHONE
from tests.web.test_phone import main_pages

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def history(site: Site) -> dict[str, int]:
    return seed_history(site)


def serious_violations(page: Page) -> list[str]:
    inject_axe(page)
    result: dict[str, Any] = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    found = []
    for v in result["violations"]:
        if v["impact"] in ("serious", "critical"):
            targets = [", ".join(n["target"]) for n in v["nodes"][:3]]
            found.append(f"{v['id']} ({v['impact']}): {targets}")
    return found


@pytest.mark.parametrize("who", ["canbo_a", "tinh"])
def test_no_serious_accessibility_violation(browser: Browser, site: Site, history: dict[str, int], who: str) -> None:
    context = browser.new_context(base_url=site.base_url, locale="vi-VN", viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        login(page, site, who)
        problems: dict[str, list[str]] = {}
        for path in [*main_pages(site, who), "/login"]:
            for width, height in (PHONE, DESKTOP):
                page.set_viewport_size({"width": width, "height": height})
                page.goto(path)
                found = serious_violations(page)
                if found:
                    problems[f"{path} at {width}px"] = found
        assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())
    finally:
        context.close()
