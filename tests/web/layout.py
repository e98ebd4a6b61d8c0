"""Layout checks shared by the browser tests: nothing scrolls sideways, neither the page nor a box inside it."""

from __future__ import annotations

from playwright.sync_api import Page

PHONE = (360, 740)
DESKTOP = (1366, 768)

# Every visible element: a box that scrolls sideways (overflow auto/scroll with wider content), or that
# reaches past the right edge of the viewport. The page itself is checked through document.scrollingElement.
_SIDEWAYS = """
() => {
  const width = window.innerWidth;
  const found = [];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const page = document.scrollingElement.scrollWidth;
  if (page > width) found.push('page is ' + page + 'px wide');
  for (const el of document.body.querySelectorAll('*')) {
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    const rect = el.getBoundingClientRect();
    if (rect.width === 0 && rect.height === 0) continue;
    if ((style.overflowX === 'auto' || style.overflowX === 'scroll') && el.scrollWidth > el.clientWidth + 1) {
      found.push(name(el) + ' scrolls: ' + el.scrollWidth + ' > ' + el.clientWidth);
    }
    if (rect.right > width + 1 && style.position !== 'fixed') {
      found.push(name(el) + ' reaches ' + Math.round(rect.right) + 'px');
    }
  }
  return found.slice(0, 15);
}
"""


def sideways(page: Page) -> list[str]:
    """What scrolls sideways on the page as it is now shown (empty when nothing does)."""
    result = page.evaluate(_SIDEWAYS)
    assert isinstance(result, list)
    return [str(x) for x in result]
