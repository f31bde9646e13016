"""The search page in a real browser: type a traditional-character substring, see the highlighted result."""
from __future__ import annotations

from registry.extensions import db
from tests.search.conftest import build_register


def test_typing_a_traditional_substring_finds_and_highlights_the_company(live_app, live_server, page):
    with live_app.app_context():
        build_register()
        db.session.remove()
    page.goto(f"{live_server}/")
    page.click("text=搜索")
    page.fill("#search-q", "海瀾")
    page.click("form.search-form button[type=submit]")
    first = page.locator(".search-hit").first
    assert first.locator(".cert-link").inner_text() == "青岛海澜家电有限公司"
    assert first.locator("mark").first.inner_text() == "海澜"
    page.click(".facets a:text('山东省')")
    assert page.locator(".search-hit").count() == 1
    assert page.locator(".remove-filter").inner_text().endswith("山东省")
