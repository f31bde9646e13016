"""An officer signs in, records an initial audit (the preview shows score and level), issues the certificate,
and the public page shows it: real browser, real CSRF tokens, real database."""
from __future__ import annotations

from registry.extensions import db
from registry.schemes import get_scheme
from tests.factories import make_company
from tests.office.conftest import PASSWORD, make_user


def test_officer_records_an_audit_issues_a_certificate_and_the_public_sees_it(live_app, live_server, page):
    with live_app.app_context():
        make_user("officer")
        company_id = make_company(name="青岛海澜家电有限公司").id
        db.session.commit()

    page.goto(f"{live_server}/office")
    page.fill("input[name=email]", "officer@office.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/office")

    page.goto(f"{live_server}/office/companies/{company_id}")
    page.click("text=记录初次认证审核")
    for indicator in get_scheme("gbt27922-2011").indicators:
        points = str(indicator.max_points)
        if indicator.id == "customer_relations":
            points = "0"
        elif indicator.id == "complaint_handling":
            points = "10"
        page.fill(f"input[name=earned_{indicator.id}]", points)
    page.click("input[name=preview]")
    result = page.locator("#score-result")
    assert "85.00" in result.inner_text() and "三星" in result.inner_text()

    page.click("input[name=save]")
    page.wait_for_selector("text=颁发证书")
    page.fill("textarea[name=scope]", "家用电器的配送、安装、维修服务")
    page.fill("textarea[name=reason]", "初次认证审核通过")
    page.click("form[action$='/issue'] button[type=submit]")
    page.wait_for_url("**/office/certificates/**")
    number = page.url.rsplit("/", 1)[1]
    assert number == "99926SV00001R0"

    page.goto(f"{live_server}/certificates/{number}")
    text = page.inner_text("main")
    assert "青岛海澜家电有限公司" in text and "有效" in text and "三星" in text and "颁发" in text
