"""A consumer files a complaint on a phone-sized screen and lands on the private tracking page."""
from __future__ import annotations

from registry.extensions import db
from tests.complaints.conftest import png_bytes
from tests.factories import make_certificate


def test_filing_a_complaint_on_a_phone(live_app, live_server, page, tmp_path):
    with live_app.app_context():
        number = make_certificate().number
        db.session.commit()
    photo = tmp_path / "receipt.png"
    photo.write_bytes(png_bytes())

    page.goto(f"{live_server}/complaints/new?certificate={number}")
    assert page.viewport_size["width"] == 360
    # Phone-first: the form fits the screen, no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.select_option("#category", "repair")
    page.fill("#description", "洗衣机安装后漏水，师傅说下周再来，一直没人联系。")
    page.select_option("#desired_resolution", "repair")
    page.fill("#name", "张三")
    page.fill("#mobile", "139 1234 5678")
    page.set_input_files("#attachments", str(photo))
    page.check("#consent")
    page.click("button[type=submit] >> text=提交投诉")

    page.wait_for_selector(".tracking")
    assert "投诉已提交" in page.inner_text("h1")
    tracking = page.inner_text(".tracking")
    page.click(".private-link a")
    page.wait_for_selector("article.complaint")
    assert tracking in page.content() and "已收到，待审核" in page.inner_text("h1")
    assert "receipt.png" in page.content()
