"""The verification page on a 360×740 phone, and the SVG QR codes rendered by a real browser and decoded."""
from __future__ import annotations

import datetime as dt

import pytest

from registry.certificates import lifecycle
from registry.certificates.lifecycle import SYSTEM
from registry.extensions import db
from tests.factories import make_company
from tests.verify.conftest import decode_qr, issued, local_path

FIRST_SCREEN = 740


@pytest.fixture
def numbers(live_app):
    with live_app.app_context():
        valid = issued(level="5", company=make_company(name="青岛海澜家电（集团）有限公司"))
        suspended = issued(level="4")
        lifecycle.suspend_certificate(suspended, reason="监督发现问题", until=dt.date(2026, 8, 1), actor=SYSTEM)
        db.session.commit()
        return {"valid": valid.number, "suspended": suspended.number}


def _bottom(page, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not displayed"
    return box["y"] + box["height"]


def test_status_level_company_dates_and_check_time_fit_the_first_screen_of_a_phone(live_server, page, numbers):
    page.goto(f"{live_server}/v/{numbers['valid']}")
    assert page.viewport_size == {"width": 360, "height": 740}
    assert page.locator("#verify-status-word").inner_text().strip().endswith("有效")
    assert page.locator(".verify-status").evaluate("el => getComputedStyle(el).color") != "rgb(27, 31, 36)"  # coloured
    for selector in ("#verify-status-word", ".verify-level", ".verify-company", ".verify-facts", ".verify-checked"):
        assert _bottom(page, selector) <= FIRST_SCREEN, f"{selector} is below the first screen"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling


def test_suspended_certificate_says_what_to_do_within_the_first_screen(live_server, page, numbers):
    page.goto(f"{live_server}/v/{numbers['suspended']}")
    assert "暂停" in page.locator("#verify-status-word").inner_text()
    assert "请勿信任此标志" in page.locator(".verify-advice").inner_text()
    assert _bottom(page, ".verify-advice") <= FIRST_SCREEN


@pytest.mark.parametrize("image", ["qr.svg", "mark.svg"])
def test_svg_rendered_by_the_browser_decodes_to_a_working_verification_url(live_server, live_app, page, numbers, image):
    page.set_viewport_size({"width": 600, "height": 900})
    page.goto(f"{live_server}/certificates/{numbers['valid']}/{image}")
    url = decode_qr(page.screenshot())
    assert url.startswith(f"https://registry.test/v/{numbers['valid']}?c=")
    followed = live_app.test_client().get(local_path(url)).get_data(as_text=True)
    assert "此二维码由本平台签发" in followed and "五星" in followed


def test_reporting_a_fake_mark_from_the_not_found_page_gives_a_case_number(live_server, page, tmp_path):
    photo = tmp_path / "mark.png"
    from PIL import Image
    Image.new("RGB", (30, 30), (200, 0, 0)).save(photo)
    page.goto(f"{live_server}/v/99925SV99999R0")
    page.get_by_role("link", name="举报疑似假冒标志").click()
    assert page.locator("#number").input_value() == "99925SV99999R0"
    page.fill("#where_seen", "某市某商场三楼")
    page.fill("#seller", "某电器专卖店")
    page.set_input_files("#photo", str(photo))
    page.get_by_role("button", name="提交举报").click()
    assert page.locator(".case-number").inner_text().startswith("FM-")
