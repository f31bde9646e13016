"""Home and a certificate page in a real browser, in Chinese and in English via the language link."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from playwright.sync_api import expect

from registry.extensions import db
from tests.factories import make_certificate, make_company

NUMBER = "99925SV00777R0"


def add_certificate(app) -> None:
    with app.app_context():
        company = make_company(name="青岛澜泽家电有限公司", former_names=["青島瀾澤家電有限公司"])
        make_certificate(company, number=NUMBER, level="4", score=Decimal("91.50"), issued_on=dt.date(2025, 9, 1))
        db.session.commit()


def test_home_and_certificate_page_in_chinese_then_english(live_app, live_server, page):
    add_certificate(live_app)
    page.goto(live_server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.get_by_role("heading", level=1)).to_have_text("这个售后服务认证标志是真的吗？")

    # The verify box takes the clerk or consumer straight to the certificate.
    page.get_by_label("证书编号、统一社会信用代码或企业全称").fill(NUMBER)
    page.get_by_role("button", name="查验").click()
    expect(page).to_have_url(f"{live_server}/certificates/{NUMBER}")
    expect(page.get_by_role("heading", level=1)).to_have_text("青岛澜泽家电有限公司")
    expect(page.locator(".status-line")).to_contain_text("有效")
    expect(page.locator(".status-line")).to_contain_text("四星")
    expect(page.locator("dl.facts")).to_contain_text("青島瀾澤家電有限公司")

    page.get_by_role("link", name="English").click()
    expect(page).to_have_url(f"{live_server}/certificates/{NUMBER}")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".status-line")).to_contain_text("Valid")
    expect(page.locator(".status-line")).to_contain_text("Four stars")
    expect(page.locator("dl.facts")).to_contain_text("Unified social credit code")

    # The choice is remembered on the next page.
    page.goto(live_server + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Is this after-sales service mark real?")
    page.get_by_role("link", name="中文").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("这个售后服务认证标志是真的吗？")
