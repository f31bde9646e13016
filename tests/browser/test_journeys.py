"""Journeys walked end to end as a newcomer would, in zh-Hans and English, on a phone (360 px) and a desktop
(1280 px): the verify box, a suspended or lowered certificate's /v/ page, the bulk bidder check, signing in."""
from __future__ import annotations

import pytest

from registry.extensions import db
from tests.factories import make_certificate, make_company

WIDTHS = [360, 1280]
LANGS = {"zh-Hans": "zh-CN", "en": "en-US"}
TEXT = {
    "did_you_mean": {"zh-Hans": "您要找的是不是以下证书", "en": "Did you mean one of these?"},
    "forged": {"zh-Hans": "伪造", "en": "forged"},
    "check": {"zh-Hans": "查询", "en": "Check"},
}


@pytest.fixture(params=[(lang, width) for lang in LANGS for width in WIDTHS], ids=lambda p: f"{p[0]}-{p[1]}px")
def view(request, chromium):
    """A browser page in one language at one width."""
    lang, width = request.param
    context = chromium.new_context(viewport={"width": width, "height": 800}, locale=LANGS[lang])
    page = context.new_page()
    yield lang, width, page
    context.close()


def _no_sideways_scroll(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.fixture
def lingsheng(live_app):
    with live_app.app_context():
        cert = make_certificate(make_company(name="贵阳翎晟装饰材料有限责任公司"))
        db.session.commit()
        return cert.number


def test_verify_box_with_a_partial_name_offers_the_company_and_a_search_never_forged(live_server, view, lingsheng):
    lang, width, page = view
    page.goto(f"{live_server}/certificates/lookup?lang={lang}")
    page.fill("#verify-q", "翎晟")
    page.locator("form.verify-box button[type=submit]").click()
    section = page.locator("#did-you-mean")
    assert TEXT["did_you_mean"][lang] in section.inner_text()
    assert TEXT["forged"][lang] not in page.locator("main").inner_text()
    _no_sideways_scroll(page, width)
    page.locator("#search-link").click()
    assert "/search" in page.url and "翎晟" in page.locator("body").inner_text()
    page.go_back()
    section.get_by_role("link", name="贵阳翎晟装饰材料有限责任公司").click()
    assert page.url.endswith(f"/certificates/{lingsheng}")


@pytest.fixture
def troubled(live_app):
    """A suspended certificate and one whose level was lowered under the complaint rules."""
    import datetime as dt

    from registry.certificates import lifecycle
    from tests.verify.conftest import issued
    with live_app.app_context():
        suspended = issued(level="4", company=make_company(name="杭州澜川家用电器有限公司"))
        lifecycle.suspend_certificate(suspended, reason="监督审核发现服务网点不符合要求", until=dt.date(2026, 8, 1),
                                      actor=lifecycle.SYSTEM)
        lowered = issued(level="5", company=make_company(name="青岛海澜家电有限公司"))
        lifecycle.change_level(lowered, new_level="4", reason="投诉处理", actor=lifecycle.SYSTEM,
                               extra={"sanction_rule": "repeat-complaints"})
        db.session.commit()
        return {"suspended": suspended.number, "lowered": lowered.number}


def test_suspended_v_page_gives_reason_and_dates_and_says_once_not_to_rely(live_server, view, troubled):
    lang, width, page = view
    page.goto(f"{live_server}/v/{troubled['suspended']}?lang={lang}")
    facts = page.locator(".verify-suspension").inner_text()
    assert "监督审核发现服务网点不符合要求" in facts and "2026-06-01" in facts and "2026-08-01" in facts
    text = page.locator("main").inner_text()
    assert text.count("请勿信") + text.lower().count("not rely") == 1
    assert page.locator(".verify-suspension").is_visible()
    _no_sideways_scroll(page, width)


def test_wrong_check_code_shows_the_warning_above_the_status(live_server, view, troubled):
    lang, width, page = view
    page.goto(f"{live_server}/v/{troubled['lowered']}?c=WRONG1&lang={lang}")
    warning = page.locator("section.verify-check.warning").bounding_box()
    status = page.locator("#verify-status-word").bounding_box()
    assert warning["y"] + warning["height"] <= status["y"]
    assert "✔" not in page.locator("#verify-status-word").inner_text()


def test_lowered_level_is_explained_next_to_level_and_score(live_server, view, troubled):
    lang, width, page = view
    expected = {"zh-Hans": "依据公开的投诉处理规则由五星降级", "en": "under the published complaint rules"}[lang]
    page.goto(f"{live_server}/v/{troubled['lowered']}?lang={lang}")
    assert expected in page.locator(".verify-status .level-lowered").inner_text()
    page.goto(f"{live_server}/certificates/{troubled['lowered']}?lang={lang}")
    assert expected in page.locator("dd .level-lowered").inner_text()
    _no_sideways_scroll(page, width)


def test_bidder_list_with_a_header_filter_the_failing_and_switch_language(live_app, live_server, view):
    from tests.procurement.conftest import build_register
    lang, width, page = view
    register = build_register(live_app)
    other = "zh-Hans" if lang == "en" else "en"
    fails = {"zh-Hans": "4 家投标人中有 2 家在 2026-06-01 不符合要求", "en": "2 of 4 bidders fail on 2026-06-01"}
    page.goto(f"{live_server}/lang/{lang}?next=/verify/bulk")
    page.fill("#bulk-identifiers", "序号\t投标人名称\t统一社会信用代码\n"
              f"1\t{register.five_star_name}\t{register.five_star_uscc}\n2\t北京暂停电器有限公司\t\n"
              f"3\t不存在的投标人有限公司\t\n4\t\t{register.expiring}")
    page.locator("form.bulk-form button[type=submit]").click()
    assert fails[lang] in page.locator("#result-failing").inner_text()
    assert page.locator(".bulk-results tbody tr").count() == 4
    assert "投标人名称" not in page.locator(".bulk-results").inner_text()
    page.locator("#show-failing").click()
    rows = page.locator(".bulk-results tbody tr")
    assert rows.count() == 2 and "北京暂停电器有限公司" in rows.nth(0).inner_text()
    page.locator("#bulk-switch-language").click()
    assert fails[other] in page.locator("#result-failing").inner_text()
    assert page.locator(".bulk-results tbody tr").count() == 2
    page.goto(f"{live_server}/")
    assert page.locator("html").get_attribute("lang") == ("en" if other == "en" else "zh-Hans")


@pytest.mark.parametrize("role, landing, marker", [
    ("company", "/certificates/ours", ".company-certificates"),
    ("moderator", "/complaints/queue", "main h1"),
    ("officer", "/office", "#proposals-to-decide")])
def test_sign_in_from_a_public_page_lands_on_the_role_home(live_app, live_server, view, role, landing, marker):
    from tests.office.conftest import PASSWORD, make_user
    lang, width, page = view
    with live_app.app_context():
        company = make_company(name="账户绑定公司")
        make_certificate(company)
        make_user(role, company=company if role == "company" else None)
        db.session.commit()
    page.goto(f"{live_server}/lang/{lang}?next=/certificates")
    page.locator("a.sign-in").click()
    page.fill("#email", f"{role}@office.test")
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    assert page.url == f"{live_server}{landing}"
    assert page.locator(marker).first.is_visible()
    assert page.locator("a.sign-in").count() == 0
    _no_sideways_scroll(page, width)
